"""make_music: the music bed under the whole cut.

What the bed is comes from the goal (--music): `auto` reads a mood from the story, a mood name
takes that mood, and a path takes the user's own file. The music backend makes or picks the
track; the mix (mix_sound / assemble_video) loops or trims it to the cut, ducks it under the
narration and normalises the loudness.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from director.backends.local.music import MOODS, mood_of
from director.errors import MediaError, ToolArgumentError
from director.media import probe
from director.prices import Prices
from director.prompting import render
from director.state import AssetRef, DirectorState, Storyboard
from director.store import sha256_file
from director.tooling import ToolContext, require_board, tool


class MakeMusicInput(BaseModel):
    mood: Literal[("auto", *MOODS)] = Field(  # type: ignore[valid-type]
        "auto", description="The music's mood; auto reads it from the story (the user's --music choice wins).")
    prompt: str = Field("", max_length=500, description="What the music should sound like, for a model that "
                                                        "composes (instruments, tempo, feeling); may be empty.")


class MakeMusicOutput(BaseModel):
    music: AssetRef = Field(description="The music track.")
    mood: str = Field(description="The mood used.")
    source: str = Field(description="Where the track came from: a library track, the user's file, or a model.")


def _needs(args: MakeMusicInput, state: DirectorState) -> dict[str, object]:
    board = require_board(state)
    choice = state.finish.music
    if choice == "none":
        raise ToolArgumentError("this run has no music (--music none)")
    words = " ".join([board.title, *(s.narration for s in board.scenes)])
    inputs: dict[str, object] = {"choice": choice if choice in ("auto", *MOODS) else "file",
                                 "story_mood": mood_of(words, goal=state.goal.text), "title": board.title, "about": state.goal.text}
    if state.goal.mode == "trailer":
        inputs["trailer"] = True
    spoken = [s.audio.duration for s in board.scenes if s.audio is not None and s.audio.duration]
    if len(spoken) == len(board.scenes) and spoken:  # how long the cut will be, for a model that composes to length
        inputs["seconds"] = round(sum(spoken) + SCENE_PAD * len(spoken))
    if inputs["choice"] == "file":
        path = Path(choice)
        if not path.is_file():
            raise ToolArgumentError(f"the music file {path.name} is gone; make the run again with --music")
        inputs["file"] = {"name": path.name, "sha256": sha256_file(path), "path": str(path)}
    return inputs


SCENE_PAD = 1.2
"""Seconds each scene adds to its narration (the lead before the words and the pause after them), roughly."""
STYLE = {
    "calm": ("ambient lullaby", "soft felt piano, warm pads and a music box", "slow, about 65 BPM"),
    "energetic": ("adventure score", "driving strings, light percussion and brass swells", "lively, about 120 BPM"),
    "happy": ("cheerful acoustic pop", "ukulele, glockenspiel, hand claps and bass", "bouncy, about 105 BPM"),
    "nostalgic": ("wistful folk", "fingerpicked acoustic guitar, cello and soft piano", "unhurried, about 80 BPM"),
    "tender": ("gentle chamber piece", "piano, harp and a solo cello", "slow, about 70 BPM"),
}
"""Genre, instrumentation and tempo for each mood: what Google's music guide asks a prompt to name."""


def _apply(board: Storyboard | None, args: MakeMusicInput, out: MakeMusicOutput) -> Storyboard:
    assert board is not None
    board.set_music(out.music)
    return board


def _estimate(args: MakeMusicInput, inputs: object, model: str, prices: Prices) -> float:
    """A composing model's price per track; a library track or the user's own file is free."""
    own = isinstance(inputs, dict) and inputs.get("choice") == "file"
    return 0.0 if own else prices.track(model)


@tool(capability="music", gated=True, usual_for=("story", "trailer"), version="2", needs=_needs, apply=_apply,
      estimate=_estimate, reads=("story",), writes=("music",), clears=("final",), whole_board=True)
def make_music(args: MakeMusicInput, ctx: ToolContext) -> MakeMusicOutput:
    """Choose or compose the instrumental music that plays under the whole video, ducked under the narration. Call once, after the story exists, unless the run has no music; it can run alongside the narration."""
    choice = str(ctx.inputs["choice"])
    if choice == "file":
        file = ctx.inputs["file"]
        assert isinstance(file, dict)
        src = Path(file["path"])
        tmp = ctx.store.temp_path(src.suffix or ".audio")
        shutil.copyfile(src, tmp)
        if sha256_file(tmp) != file["sha256"]:
            tmp.unlink(missing_ok=True)
            raise ToolArgumentError(f"the music file {src.name} changed while it was read; try again")
        return MakeMusicOutput(music=ctx.store.put(tmp, "audio"), mood="own", source=f"file {src.name}")
    mood = choice if choice in MOODS else (args.mood if args.mood != "auto" else str(ctx.inputs["story_mood"]))
    tmp = ctx.store.temp_path(".audio")
    about = " ".join(str(ctx.inputs.get("about") or "").split()[:40])
    genre, instruments, tempo = STYLE[mood]
    prompt = args.prompt or render("music.md", mood=mood, title=ctx.inputs.get("title") or "", about=about,
                                   genre=genre, instruments=instruments, tempo=tempo, seconds=ctx.inputs.get("seconds"),
                                   kind="trailer" if ctx.inputs.get("trailer") else "story")
    note = ctx.backends.music.make_music(prompt, mood=mood, seed=ctx.seed, out=tmp)
    return MakeMusicOutput(music=ctx.store.put(named(tmp), "audio"), mood=mood, source=note)


SUFFIX = {"opus": ".opus", "vorbis": ".ogg", "flac": ".flac", "mp3": ".mp3", "aac": ".m4a"}


def named(path: Path) -> Path:
    """The file renamed to the suffix of what it holds (a WAV for PCM), so the store serves it right."""
    try:
        codec = probe(path).audio_codec or ""
    except MediaError as exc:
        path.unlink(missing_ok=True)
        raise MediaError(f"the music backend wrote no audio ffmpeg can read: {exc}") from None
    suffix = ".wav" if codec.startswith("pcm_") else SUFFIX.get(codec, ".audio")
    return path.rename(path.with_suffix(suffix))
