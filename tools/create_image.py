"""create_image: draw one scene's still."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from director.limits import Prices
from director.media import cover, write_png
from director.prompting import render
from director.state import ASPECT_SIZES, Aspect, AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_board, require_scene, tool


class CreateImageInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1.")
    prompt: str = Field(
        min_length=1,
        max_length=2000,
        description="What the picture shows. The story's art style and character sheet are added automatically.",
    )
    aspect: Aspect = Field(description="Frame shape: 16:9 landscape, 9:16 portrait or 1:1 square.")


class CreateImageOutput(BaseModel):
    image: AssetRef = Field(description="The PNG still.")
    prompt: str = Field(description="The full prompt the image model received.")


def _needs(args: CreateImageInput, state: DirectorState) -> dict[str, object]:
    require_scene(state, args.scene)
    board = require_board(state)
    return {"art_style": board.art_style, "characters": board.character_sheet()}


def _apply(board: Storyboard | None, args: CreateImageInput, out: CreateImageOutput) -> Storyboard:
    assert board is not None
    board.scene(args.scene).image_prompt = args.prompt
    board.set_image(args.scene, out.image)
    return board


def _estimate(args: CreateImageInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.images(model) or prices.tokens(model, 400, 1_290)


@tool(capability="image", usual_for=("story",), needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story",), writes=("image",), clears=("clip", "final"))
def create_image(args: CreateImageInput, ctx: ToolContext) -> CreateImageOutput:
    """Create the still image for one scene from a text prompt, at the size the aspect ratio needs (16:9 1280x720, 9:16 720x1280, 1:1 1024x1024). Images for different scenes can be made in the same turn."""
    full = render("image.md", art_style=ctx.inputs["art_style"], scene=args.prompt, characters=ctx.inputs["characters"])
    width, height = ASPECT_SIZES[args.aspect]
    tmp = ctx.store.temp_path(".png")
    ctx.backends.image.create_image(full, width=width, height=height, seed=ctx.seed, out=tmp)
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
