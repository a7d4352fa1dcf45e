"""narrate: speak one scene's narration, then its characters' lines, each in that character's voice."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from director.errors import MediaError
from director.prices import Prices
from director.speech import GAP, join, split_turns
from director.state import NARRATOR, AssetRef, DirectorState, Spoken, Storyboard
from director.tooling import ToolContext, require_scene, tool
from director.voices import choose


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
    speech: list[Spoken] = Field(default_factory=list, description="Who speaks when in it: the narration, then "
                                                                   "each character's line.")


def _needs(args: NarrateInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    board = state.storyboard
    assert board is not None
    needs: dict[str, object] = {"style": board.narrator} if board.narrator else {}  # how to read, never read aloud
    if scene.lines:  # each line in its speaker's voice: a voice revision redoes the scenes where they speak
        cast = {c.name: c for c in board.characters}
        needs["lines"] = [{"speaker": line.speaker, "text": line.text,
                           "voice": voice_of(cast[line.speaker]) if line.speaker in cast else choose("", "", [])}
                          for line in scene.lines]
    return needs


def voice_of(character: Any) -> str:
    """A character's voice; one cast from their kind and look when the storyboard predates voices."""
    return str(character.voice or choose(character.kind, character.look, [], name=character.name))


def _apply(board: Storyboard | None, args: NarrateInput, out: NarrateOutput) -> Storyboard:
    assert board is not None
    board.scene(args.scene).narration = args.text
    board.set_audio(args.scene, out.audio)
    board.scene(args.scene).speech = out.speech
    return board


def _estimate(args: NarrateInput, inputs: Mapping[str, Any], model: str, prices: Prices) -> float:
    text = " ".join([args.text, *(str(line["text"]) for line in inputs.get("lines") or [])])
    seconds = len(text.split()) / 2.5 / args.pace + 1.0
    return prices.speech(model, text, seconds)


def said(ctx: ToolContext, text: str, voice: str | None, *, pace: float, style: str | None) -> Path:
    """One stretch of speech, made once per workspace for its words, voice, pace and direction: a revision of
    one character's voice pays for that character's lines alone."""
    backend = ctx.backends.voice
    key = {"model": getattr(backend, "model", backend.name), "voice": voice or getattr(backend, "default_voice", ""),
           "text": text, "pace": pace, "style": style or ""}
    return ctx.store.workspace.cached(
        "speech", key, ".wav", lambda tmp: speak(backend, text, voice=voice, out=tmp, pace=pace, style=style))


def dialogue(ctx: ToolContext, lines: list[dict[str, str]], pace: float) -> list[tuple[str, str, str | None, Path]]:
    """(speaker, text, voice, wav) for each line: one multi-speaker request for a scene of exactly two speakers
    where the voice model takes one (Gemini TTS), else one request per line."""
    backend = ctx.backends.voice
    speakers = list(dict.fromkeys(line["speaker"] for line in lines))
    converse = getattr(backend, "converse", None)
    if callable(converse) and len(speakers) == 2 and len(lines) > 1:
        voices = {line["speaker"]: line["voice"] for line in lines}
        turns = [(line["speaker"], line["text"]) for line in lines]
        key = {"model": getattr(backend, "model", backend.name), "voices": voices, "turns": turns, "pace": pace}
        whole = ctx.store.workspace.cached("speech", key, ".wav",
                                           lambda tmp: converse(turns, voices=voices, out=tmp, pace=pace))
        return [(s, t, voices[s], p) for (s, t), p in zip(turns, split_turns(whole, [t for _, t in turns], ctx.store))]
    return [(line["speaker"], line["text"], line["voice"],
             said(ctx, line["text"], line["voice"], pace=pace, style=None)) for line in lines]


@tool(capability="voice", gated=True, usual_for=("story", "trailer"), needs=_needs, apply=_apply,
      estimate=_estimate, reads=("story",), writes=("audio",), clears=("clip", "final"))
def narrate(args: NarrateInput, ctx: ToolContext) -> NarrateOutput:
    """Record the narration for one scene as speech, with the scene's character lines after it in their own voices. The recording's length decides how long the scene stays on screen. Narrations for different scenes can be made in the same turn."""
    style = ctx.inputs.get("style")
    pieces = [(NARRATOR, args.text, args.voice, said(ctx, args.text, args.voice, pace=args.pace, style=style))]
    lines = ctx.inputs.get("lines") or []
    if lines:
        ctx.report(f"scene {args.scene}: the narration and {len(lines)} line{'s' * (len(lines) > 1)}")
        pieces += dialogue(ctx, lines, args.pace)
    tmp = ctx.store.temp_path(".wav")
    spans = join([p for *_, p in pieces], tmp, gap=GAP)
    for *_, piece in pieces:
        if piece.parent == tmp.parent:  # a turn cut from a two-speaker take (the takes themselves are kept)
            piece.unlink(missing_ok=True)
    ref = ctx.store.put(tmp, "audio")
    if not ref.duration or ref.duration < 0.2:
        raise MediaError(f"narration for scene {args.scene} came out empty ({ref.duration or 0:.2f} s)")
    speech = [Spoken(speaker=who, text=text, voice=voice, start=round(a, 3), end=round(b, 3))
              for (who, text, voice, _), (a, b) in zip(pieces, spans)] if lines else []
    return NarrateOutput(audio=ref, speech=speech)
