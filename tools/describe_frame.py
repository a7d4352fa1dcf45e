"""describe_frame: turn a trailer scene's source frame into an image prompt in the run's style."""

from __future__ import annotations

from pydantic import BaseModel, Field

from director.errors import ToolArgumentError
from director.prompting import prompt_names
from director.state import DirectorState, Storyboard
from director.tooling import ToolContext, require_footage, require_scene, tool


class DescribeFrameInput(BaseModel):
    scene: int = Field(ge=1, description="Trailer scene number, from 1. The scene needs its source frame.")
    style: str | None = Field(None, description="Style prompt to use (a file in prompts/styles); empty for the run's style.")


class DescribeFrameOutput(BaseModel):
    description: str = Field(description="The image prompt for this scene, in the style asked.")


def styles() -> list[str]:
    return [n.split("/", 1)[1].rsplit(".", 1)[0] for n in prompt_names() if n.startswith("styles/")]


def _needs(args: DescribeFrameInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    if scene.frame is None or scene.source is None:
        raise ToolArgumentError(f"scene {args.scene} has no source frame yet; call extract_frames first")
    style = args.style or state.goal.style or "diorama"
    if style not in styles():
        raise ToolArgumentError(f"unknown style {style!r}; styles: {', '.join(styles())}")
    footage = require_footage(state, scene.source.video)
    return {"frame": scene.frame, "style": style, "title": footage.title, "plot": footage.plot,
            "transcript": scene.source.transcript}


def _apply(board: Storyboard | None, args: DescribeFrameInput, out: DescribeFrameOutput) -> Storyboard:
    assert board is not None
    board.set_description(args.scene, out.description)
    return board


@tool(capability="vision", patient=True, version="1", needs=_needs, apply=_apply, modes=("trailer",),
      reads=("story", "frame"), writes=("prompt",), clears=("image", "clip", "final"))
def describe_frame(args: DescribeFrameInput, ctx: ToolContext) -> DescribeFrameOutput:
    """Look at a trailer scene's source frame, with the title, plot and what is said, and write an image prompt for it in the run's style (a miniature diorama by default). Scenes can be described in the same turn."""
    text = ctx.backends.vision.describe(ctx.store.path(ctx.inputs["frame"]), style=str(ctx.inputs["style"]),
                                        title=str(ctx.inputs["title"]), plot=str(ctx.inputs["plot"]),
                                        transcript=str(ctx.inputs["transcript"]))
    return DescribeFrameOutput(description=" ".join(text.split()))
