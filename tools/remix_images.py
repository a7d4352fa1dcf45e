"""remix_images: make a scene's image from several pictures named as <img>N</img>."""

from __future__ import annotations

from typing import Literal

from director.tools.create_image import fit_image
from pydantic import BaseModel, Field

from director.backends import image_refs
from director.choices import ASPECT_SIZES, Aspect, input_size, size_inputs
from director.errors import ToolArgumentError
from director.prices import Prices
from director.state import AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_scene, tool


class Picture(BaseModel):
    scene: int = Field(ge=1, description="Scene whose picture this is.")
    picture: Literal["image", "frame"] = Field("image", description="Its current image, or its source frame.")


class RemixImagesInput(BaseModel):
    scene: int = Field(ge=1, description="Scene that receives the result as its image.")
    prompt: str = Field(
        min_length=1, max_length=3000,
        description="What to make; <img>0</img>, <img>1</img>... name the pictures in order, e.g. 'the cat from <img>0</img> in the garden of <img>1</img>'.",
    )
    images: list[Picture] = Field(min_length=2, max_length=6, description="The pictures, in <img>N</img> order.")
    aspect: Aspect = Field(description="Frame shape of the result.")


class RemixImagesOutput(BaseModel):
    image: AssetRef = Field(description="The new PNG.")


def _needs(args: RemixImagesInput, state: DirectorState) -> dict[str, object]:
    require_scene(state, args.scene)
    if not image_refs(args.prompt, len(args.images)):
        raise ToolArgumentError("the prompt names no picture: use <img>0</img>, <img>1</img>... for the images given")
    pictures = []
    for p in args.images:
        scene = require_scene(state, p.scene)
        ref = scene.frame if p.picture == "frame" else scene.image
        if ref is None:
            raise ToolArgumentError(f"scene {p.scene} has no {p.picture} yet")
        pictures.append(ref)
    return {"pictures": pictures, **size_inputs(state.finish, args.aspect)}


def _apply(board: Storyboard | None, args: RemixImagesInput, out: RemixImagesOutput) -> Storyboard:
    assert board is not None
    board.set_image(args.scene, out.image)
    return board


def _estimate(args: RemixImagesInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.image_at(model, *input_size(inputs, ASPECT_SIZES[args.aspect]))


@tool(capability="edit", patient=True, version="1", needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story", "image", "frame"), writes=("image",), clears=("clip", "final"), whole_board=True)
def remix_images(args: RemixImagesInput, ctx: ToolContext) -> RemixImagesOutput:
    """Make one scene's image from two or more pictures: the prompt names them as <img>0</img>, <img>1</img>... in the order given. Offline it cuts the subject out of one picture and places it on the other."""
    width, height = input_size(ctx.inputs, ASPECT_SIZES[args.aspect])
    tmp = ctx.store.temp_path(".png")
    ctx.backends.edit.remix_images([ctx.store.path(r) for r in ctx.inputs["pictures"]], args.prompt,
                                   width=width, height=height, out=tmp)
    fit_image(tmp, width, height)
    return RemixImagesOutput(image=ctx.store.put(tmp, "image"))
