"""narrate: speak one scene's narration."""

from __future__ import annotations

from pydantic import BaseModel, Field

from director.errors import MediaError
from director.limits import Prices
from director.state import AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_scene, tool


def speak(backend: object, text: str, **how: object) -> None:
    """voice.narrate with the direction it takes: a style (the narrator's persona) goes only to a provider that
    names it (Gemini TTS, in its configuration); the others read the words alone."""
    import inspect

    method = backend.narrate  # type: ignore[attr-defined]
    if "style" not in inspect.signature(method).parameters:
        how.pop("style", None)
    method(text, **how)


class NarrateInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1.")
    text: str = Field(min_length=1, max_length=1000, description="The words to speak, exactly as written.")
    voice: str | None = Field(None, description="Voice name; leave empty for the default voice.")
    pace: float = Field(1.0, ge=0.5, le=2.0, description="Speaking speed: 1 is normal, above 1 faster.")


class NarrateOutput(BaseModel):
    audio: AssetRef = Field(description="The narration as a WAV file; its duration sets the scene's length.")


def _needs(args: NarrateInput, state: DirectorState) -> dict[str, object]:
    require_scene(state, args.scene)
    narrator = state.storyboard.narrator if state.storyboard else ""
    return {"style": narrator} if narrator else {}  # the narrator's persona: how to read, never read aloud


def _apply(board: Storyboard | None, args: NarrateInput, out: NarrateOutput) -> Storyboard:
    assert board is not None
    board.scene(args.scene).narration = args.text
    board.set_audio(args.scene, out.audio)
    return board


def _estimate(args: NarrateInput, inputs: object, model: str, prices: Prices) -> float:
    seconds = len(args.text.split()) / 2.5 / args.pace + 1.0
    return prices.speech(model, args.text, seconds)


@tool(capability="voice", gated=True, usual_for=("story", "trailer"), needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story",), writes=("audio",), clears=("clip", "final"))
def narrate(args: NarrateInput, ctx: ToolContext) -> NarrateOutput:
    """Record the narration for one scene as speech. The recording's length decides how long the scene stays on screen. Narrations for different scenes can be made in the same turn."""
    tmp = ctx.store.temp_path(".wav")
    speak(ctx.backends.voice, args.text, voice=args.voice, out=tmp, pace=args.pace, style=ctx.inputs.get("style"))
    ref = ctx.store.put(tmp, "audio")
    if not ref.duration or ref.duration < 0.2:
        raise MediaError(f"narration for scene {args.scene} came out empty ({ref.duration or 0:.2f} s)")
    return NarrateOutput(audio=ref)
