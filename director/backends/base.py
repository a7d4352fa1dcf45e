"""What every provider shares: the capabilities as small Protocols, the long-running job's record, the clip a
motion model made, and the helpers the providers use. The providers import this, never the package's face
(director/backends/__init__.py), which chooses among them: so no provider module imports another's chooser.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from director.errors import ProviderError, UnsureStart
from director.story_draft import StoryDraft

log = logging.getLogger(__name__)

MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")
IMG_REF = re.compile(r"<img>\s*(\d+)\s*</img>")


def image_refs(prompt: str, count: int) -> list[re.Match[str]]:
    """The <img>N</img> references of a remix prompt; ToolArgumentError if one names a missing image."""
    from director.errors import ToolArgumentError

    refs = list(IMG_REF.finditer(prompt))
    missing = sorted({int(m.group(1)) for m in refs if int(m.group(1)) >= count})
    if missing:
        raise ToolArgumentError(f"the prompt refers to <img>{missing[0]}</img> but only {count} image(s) were given "
                                f"(<img>0</img> .. <img>{count - 1}</img>)")
    return refs


@runtime_checkable
class StoryWriter(Protocol):
    name: str
    model: str

    def write_story(self, goal: str, *, scenes: int, seed: int, seconds: float | None = None,
                    dialogue: str = "some") -> StoryDraft:
        """The story in exactly `scenes` scenes; with `seconds`, narration sized to about that long a video."""


@runtime_checkable
class ImageMaker(Protocol):
    name: str
    model: str

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path,
                     references: list[Path] | None = None) -> None:
        """Write a PNG of exactly width x height to `out`. `references` are pictures the prompt names as
        <img>N</img> (characters' reference sheets); a model that takes no images gets the words only."""


def draw(backend: ImageMaker, prompt: str, *, width: int, height: int, seed: int, out: Path,
         references: list[Path]) -> None:
    """create_image with reference pictures, for a provider that takes them; the words alone for one
    written before they existed (a plugin whose create_image has no `references`)."""
    import inspect

    if references and "references" in inspect.signature(backend.create_image).parameters:
        backend.create_image(prompt, width=width, height=height, seed=seed, out=out, references=references)
    else:
        backend.create_image(prompt if not references else without_references(prompt), width=width, height=height,
                             seed=seed, out=out)


def without_references(prompt: str) -> str:
    """A prompt for a model that takes no reference pictures: the line that points at them removed."""
    return "\n".join(line for line in prompt.splitlines() if not line.startswith("Reference pictures:"))


@runtime_checkable
class Voice(Protocol):
    name: str
    model: str

    def narrate(self, text: str, *, voice: str | None, out: Path, pace: float = 1.0) -> None:
        """Write speech for `text` as a PCM WAV to `out`; pace > 1 speaks faster."""

    def voices(self) -> list[str]:
        """The voice names this backend can speak with."""


def check_voice(backend: Voice, name: str | None) -> None:
    """InputError for a voice the backend does not have, before anything is written."""
    from director.errors import InputError

    if name is None:
        return
    known = backend.voices()
    if name not in known:
        listed = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        raise InputError(f"unknown voice {name!r} for the {backend.name} voice backend; use one of: {listed}")


@dataclass
class Job:
    """The long-running provider job one tool call started (a Veo operation, an Omni interaction), kept in
    the catalog under the call's memo key from the moment the provider names it: a call made again (a
    resume after a crash or a timeout) polls it instead of starting, and paying for, another."""

    key: str
    catalog: Any
    run_id: str | None = None

    def saved(self, provider: str, model: str) -> str | None:
        """The name of the job this call already started with this provider and model, if any. A start that was
        sent but never answered (a timeout, a crash) left no name: UnsureStart, since it may be running and
        billed, and starting another would pay twice."""
        found = self.catalog.job(self.key)
        if not found or found[:2] != (provider, model):
            return None
        if not found[2]:
            raise UnsureStart(f"{model}: this clip's start was sent before but its answer never came, so it may "
                              f"be running and billed; Director will not start another on its own. Check the "
                              f"provider's console, then `director resume {self.run_id} --retry-unsure` starts it "
                              f"anew (and may pay for it twice)", provider=provider, model=model)
        return found[2]

    def starting(self, provider: str, model: str) -> None:
        """About to send the start: a crash or timeout from here on leaves the call marked unsure."""
        self.catalog.save_job(self.key, provider=provider, model=model, name="", run_id=self.run_id)

    def started(self, provider: str, model: str, name: str) -> None:
        self.catalog.save_job(self.key, provider=provider, model=model, name=name, run_id=self.run_id)

    def forget(self) -> None:
        """The job is gone, failed unbilled, or was refused before it began: a call made again starts anew."""
        self.catalog.drop_job(self.key)

    def begin(self, provider: str, model: str, start: Callable[[], str]) -> str:
        """Start a job through `start` (which returns its name) and save the name at once. A start the provider
        refused (an error it answered with) leaves nothing behind; one whose answer never came stays unsure."""
        self.starting(provider, model)
        try:
            name = start()
        except UnsureStart:
            raise  # it may be running: the row stays, marked unsure
        except ProviderError:
            self.forget()
            raise
        self.started(provider, model, name)
        return name


@dataclass
class Clip:
    """What a motion provider made, beyond the file: for the bill, the manifest and the mix."""

    seconds: float | None = None
    """Seconds of video the provider delivered (and billed)."""
    sound: bool = False
    """The clip carries the model's own sound (mixed under the narration)."""
    note: str | None = None


def write_clip(out: Path, data: bytes, model: str, provider: str = "") -> None:
    """Keep a video model's answer as the clip, or say it is damaged (and keep nothing)."""
    from director.media import check_decodes

    out.write_bytes(data)
    try:
        check_decodes(out)
    except Exception as exc:  # noqa: BLE001 - a clip that does not decode is of no use
        out.unlink(missing_ok=True)
        raise ProviderError(f"{model} returned a damaged clip ({type(exc).__name__}); director resume makes the "
                            f"scene again", provider=provider or model, model=model) from None


def held(model: str, duration: float, length: float, report: Callable[[str], None] | None) -> None:
    """Say so when a scene is longer than its model can make a clip, extensions and all (the cut holds the last
    frame for the rest)."""
    if length + 0.05 >= duration:
        return
    line = (f"the scene is {duration:.0f} s, longer than {model} makes a clip ({length:.0f} s with extensions): "
            f"its last frame is held for the rest")
    log.warning(line)
    if report:
        report(line)


@runtime_checkable
class Animator(Protocol):
    name: str
    model: str

    def animate(
        self,
        image: Path,
        *,
        prompt: str,
        duration: float,
        motion: str,
        size: tuple[int, int],
        fps: int,
        out: Path,
        report: Callable[[str], None] | None = None,
    ) -> Clip | None:
        """Write an H.264 clip of at least `duration` seconds at `size` and `fps` to `out`. A video model also
        takes (by keyword, when its animate names them) negative, seed, last_frame, resolution, sound and job."""


def animate(backend: Animator, image: Path, **shot: Any) -> Clip:
    """backend.animate with the parts of the shot it takes: a provider written before a keyword existed
    (Ken Burns, a plugin) gets the ones it names."""
    import inspect

    params = inspect.signature(backend.animate).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    made = backend.animate(image, **{k: v for k, v in shot.items() if takes_all or k in params})
    return made if isinstance(made, Clip) else Clip()


@runtime_checkable
class Editor(Protocol):
    name: str
    model: str

    def edit_image(self, image: Path, instruction: str, *, out: Path, size: tuple[int, int] | None = None) -> None:
        """Write `image` changed as the instruction says to `out` (PNG), in the shape of `size` when given."""

    def remix_images(self, images: list[Path], prompt: str, *, width: int, height: int, out: Path) -> None:
        """Write a new PNG from several images; <img>N</img> in the prompt is images[N]."""


@runtime_checkable
class Vision(Protocol):
    name: str
    model: str

    def describe(self, image: Path, *, style: str, title: str, plot: str, transcript: str) -> str:
        """An image prompt for this frame in the given style (prompts/styles/<style>.md)."""

    def transcribe(self, video: Path, *, start: float | None = None, end: float | None = None) -> tuple[list, str]:
        """Timed speech cues and where they came from."""

    def check_continuity(self, image: Path, references: list[tuple[str, Path]]) -> dict[str, tuple[float, str]]:
        """For each (name, reference sheet): how closely the still shows them, 0..1, and what differs ("" if nothing)."""


@runtime_checkable
class MusicMaker(Protocol):
    name: str
    model: str

    def make_music(self, prompt: str, *, mood: str, seed: int, out: Path) -> str:
        """Write an instrumental bed to `out` (any audio format ffmpeg reads); a short note of what it is.
        Any length of a few seconds or more: the mix loops it with crossfades, or trims it, to the cut."""


class CharacterVerdict(BaseModel):
    name: str = Field(description="The character, as the reference sheet names them.")
    score: float = Field(description="0 (not recognisable) to 1 (exactly as on the sheet).")
    reason: str = Field(description="What differs from the sheet; empty when nothing does.")


class ContinuityVerdict(BaseModel):
    """A vision model's structured answer to prompts/continuity.md."""

    characters: list[CharacterVerdict] = Field(description="One verdict per reference sheet, in order.")


def continuity_scores(verdict: ContinuityVerdict, names: list[str], *, provider: str,
                      model: str) -> dict[str, tuple[float, str]]:
    """{name: (score, reason)} for each reference sheet, or a ProviderError naming what the verdict got wrong."""
    found: dict[str, tuple[float, str]] = {}
    for v in verdict.characters:
        known = next((n for n in names if n.lower() == v.name.strip().lower()), None)
        if known is None or not 0.0 <= v.score <= 1.0:
            raise ProviderError(f"continuity check: the verdict scored {v.name[:40]!r} {v.score}; "
                                f"expected {', '.join(names)} from 0 to 1", provider=provider, model=model)
        found[known] = (v.score, v.reason.strip()[:300])
    missing = [n for n in names if n not in found]
    if missing:
        raise ProviderError(f"continuity check: no verdict for {', '.join(missing)}", provider=provider, model=model)
    return found
