"""create_image: draw one scene's still."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from director.backends import draw
from director.choices import ASPECT_SIZES, Aspect, input_size, size_inputs
from director.errors import ToolArgumentError
from director.media import cover, write_png
from director.models import limits_of
from director.prices import Prices
from director.prompting import render
from director.state import AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_board, require_scene, tool

DEFAULT_REFERENCES = 3
"""Sheets sent to an image model whose row names no limit (the local painter, Reve, a plugin)."""


class CreateImageInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1.")
    prompt: str = Field(
        min_length=1,
        max_length=2000,
        description="What the picture shows. The story's art style and character sheet are added automatically.",
    )
    aspect: Aspect = Field(description="Frame shape: 16:9 landscape, 9:16 portrait or 1:1 square.")
    fix: str | None = Field(None, max_length=1000, description="Only to redraw a still that failed check_continuity: "
                                                              "what the check found, so the new picture fixes it.")


class CreateImageOutput(BaseModel):
    image: AssetRef = Field(description="The PNG still.")
    prompt: str = Field(description="The full prompt the image model received.")


def _needs(args: CreateImageInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    board = require_board(state)
    if args.fix is not None and scene.retakes >= state.goal.retakes:
        raise ToolArgumentError(f"scene {args.scene}'s still was redrawn {scene.retakes} time(s) for its continuity, "
                                f"the most this run allows (--retakes {state.goal.retakes}); keep it")
    # The sheets of the characters the scene shows are inputs: a new sheet means a new still.
    cast = board.references_of(args.scene)
    # A redraw is a new take: its own memo key and seed, so the same reasons twice still give a new picture.
    take = scene.retakes + 1 if args.fix is not None else 0
    # Only the scene's own cast is described: a character who is not in it must not appear.
    own = "; ".join(f"{c.name} ({c.kind}): {c.look}" for c in board.cast_of(args.scene))
    return {**size_inputs(state.finish, args.aspect), "art_style": board.art_style, "characters": own,
            "references": {c.name: c.sheet for c in cast}, **({"take": take} if take else {}),
            **({"shot": scene.shot} if scene.shot else {})}


def _apply(board: Storyboard | None, args: CreateImageInput, out: CreateImageOutput) -> Storyboard:
    assert board is not None
    scene = board.scene(args.scene)
    if scene.image_prompt != args.prompt:
        scene.retakes = 0
    scene.image_prompt = args.prompt
    board.set_image(args.scene, out.image)
    if args.fix is not None:
        scene.retakes += 1
    return board


def _estimate(args: CreateImageInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.image_at(model, *input_size(inputs, ASPECT_SIZES[args.aspect]))


@tool(capability="image", patient=True, version="3", usual_for=("story",), needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story", "sheet"), writes=("image",), clears=("clip", "continuity", "final"))
def create_image(args: CreateImageInput, ctx: ToolContext) -> CreateImageOutput:
    """Create the still image for one scene from a text prompt, at the run's frame size for the aspect ratio (at 720p: 16:9 1280x720, 9:16 720x1280, 1:1 1024x1024). The scene's shot, the art style and the reference sheets of the characters the scene names are added automatically. Images for different scenes can be made in the same turn."""
    # As many sheets as the image model takes (its catalog row; three for one that names no limit).
    share = limits_of(ctx.backends.image.model).reference_images or DEFAULT_REFERENCES
    references: dict[str, AssetRef] = dict(list((ctx.inputs.get("references") or {}).items())[:share])
    full = render("image.md", art_style=ctx.inputs["art_style"], scene=args.prompt.rstrip(". "),
                  characters=ctx.inputs["characters"], references=list(references), fix=args.fix,
                  shot=ctx.inputs.get("shot", ""))
    width, height = input_size(ctx.inputs, ASPECT_SIZES[args.aspect])
    tmp = ctx.store.temp_path(".png")
    draw(ctx.backends.image, full, width=width, height=height, seed=ctx.seed + int(ctx.inputs.get("take", 0)), out=tmp,
         references=[ctx.store.path(r) for r in references.values()])
    fit_image(tmp, width, height)
    return CreateImageOutput(image=ctx.store.put(tmp, "image"), prompt=full)


def fit_image(path: Path, width: int, height: int) -> None:
    """Make a PNG exactly width x height (cover-crop) if a backend returned another size."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as im:
        if im.size == (width, height) and im.mode == "RGB" and im.format == "PNG":
            return
        fitted = cover(np.asarray(im.convert("RGB")), (width, height))
    write_png(Image.fromarray(fitted), path)
