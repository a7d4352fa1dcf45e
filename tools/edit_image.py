"""edit_image: change a scene's picture (its source frame or its current image) as instructed."""

from __future__ import annotations

from typing import Literal

from director.tools.create_image import fit_image
from pydantic import BaseModel, Field

from director.choices import ASPECT_SIZES, Aspect, input_size, size_inputs
from director.errors import ToolArgumentError
from director.prices import Prices
from director.state import AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_scene, tool


class EditImageInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1; the result becomes the scene's image.")
    instruction: str = Field(min_length=1, max_length=3000, description="What to change, in words.")
    picture: Literal["frame", "image"] = Field(
        "frame", description="Edit the scene's source frame (trailers) or its current image."
    )
    aspect: Aspect = Field(description="Frame shape of the result.")


class EditImageOutput(BaseModel):
    image: AssetRef = Field(description="The edited PNG.")


def _needs(args: EditImageInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    picture = scene.frame if args.picture == "frame" else scene.image
    if picture is None:
        raise ToolArgumentError(f"scene {args.scene} has no {args.picture} to edit yet")
    return {"picture": picture, **size_inputs(state.finish, args.aspect)}


def _apply(board: Storyboard | None, args: EditImageInput, out: EditImageOutput) -> Storyboard:
    assert board is not None
    board.set_image(args.scene, out.image)
    return board


def _estimate(args: EditImageInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.image_at(model, *input_size(inputs, ASPECT_SIZES[args.aspect]))


@tool(capability="edit", patient=True, usual_for=("trailer",), version="1", needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story", "image", "frame"), writes=("image",), clears=("clip", "final"))
def edit_image(args: EditImageInput, ctx: ToolContext) -> EditImageOutput:
    """Edit a scene's source frame (or its current image) by instruction, e.g. restyle a film frame as a tilt-shift miniature diorama, and make it the scene's image. Offline it understands: tilt-shift miniature, cartoon, sketch, black-and-white, warmer, cooler, brighter, darker."""
    tmp = ctx.store.temp_path(".png")
    size = input_size(ctx.inputs, ASPECT_SIZES[args.aspect])
    ctx.backends.edit.edit_image(ctx.store.path(ctx.inputs["picture"]), args.instruction, out=tmp, size=size)
    fit_image(tmp, *size)
    return EditImageOutput(image=ctx.store.put(tmp, "image"))
