"""draw_character: a character's reference sheet, which every scene's still is drawn from."""

from __future__ import annotations

from director.tools.create_image import fit_image
from pydantic import BaseModel, Field

from director.choices import ASPECT_SIZES, SHEET_ASPECT, input_size, sheet_inputs
from director.prices import Prices
from director.prompting import render
from director.state import AssetRef, Character, DirectorState, Storyboard
from director.tooling import ToolContext, require_board, tool


class DrawCharacterInput(BaseModel):
    character: str = Field(min_length=1, max_length=200, description="The name of a character of the cast, or of one "
                                                                   "of the story's recurring places.")


class DrawCharacterOutput(BaseModel):
    sheet: AssetRef = Field(description="The reference picture: the character alone on a plain background.")
    prompt: str = Field(description="The full prompt the image model received.")


def _needs(args: DrawCharacterInput, state: DirectorState) -> dict[str, object]:
    from director.errors import ToolArgumentError

    board = require_board(state)
    try:
        member = board.member(args.character)
    except KeyError:
        names = ", ".join(m.name for m in board.members()) or "nobody"
        raise ToolArgumentError(f"there is no character or place {args.character!r}; the story has: {names}") from None
    kind = member.kind if isinstance(member, Character) else "place"
    return {**sheet_inputs(state.finish), "art_style": board.art_style, "name": member.name, "kind": kind, "look": member.look}


def _apply(board: Storyboard | None, args: DrawCharacterInput, out: DrawCharacterOutput) -> Storyboard:
    assert board is not None
    board.set_sheet(args.character, out.sheet)
    return board


def _estimate(args: DrawCharacterInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.image_at(model, *input_size(inputs, ASPECT_SIZES[SHEET_ASPECT]))


@tool(capability="image", patient=True, usual_for=("story",), modes=("story",), needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story",), writes=("sheet",), clears=("image", "clip", "continuity", "final"))
def draw_character(args: DrawCharacterInput, ctx: ToolContext) -> DrawCharacterOutput:
    """Draw one character's reference sheet (alone, full body, neutral pose, plain background) from the cast's description, or a recurring place's (a wide view, nobody in it). Call it for every character and place after write_story and before create_image: each scene's still is then drawn with the sheets of the characters and places it shows, so they look the same in every shot. Sheets can be drawn in the same turn."""
    inputs = ctx.inputs
    if inputs["kind"] == "place":
        full = render("place.md", art_style=inputs["art_style"], place=inputs["name"], look=inputs["look"])
    else:
        full = render("character.md", art_style=inputs["art_style"], character=inputs["name"], kind=inputs["kind"],
                      look=inputs["look"])
    width, height = input_size(inputs, ASPECT_SIZES[SHEET_ASPECT])
    tmp = ctx.store.temp_path(".png")
    ctx.backends.image.create_image(full, width=width, height=height, seed=ctx.seed, out=tmp)
    fit_image(tmp, width, height)
    return DrawCharacterOutput(sheet=ctx.store.put(tmp, "image"), prompt=full)
