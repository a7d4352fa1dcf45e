"""Capabilities as small Protocols, and the choice of which provider serves each.

Only director/backends/gemini.py and vertex.py may import google-genai.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from director.config import Settings
from director.errors import ConfigError
from director.state import StoryDraft

log = logging.getLogger(__name__)

MOTIONS = ("zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down")


@runtime_checkable
class StoryWriter(Protocol):
    name: str
    model: str

    def write_story(self, goal: str, *, scenes: int, seed: int) -> StoryDraft: ...


@runtime_checkable
class ImageMaker(Protocol):
    name: str
    model: str

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path) -> None:
        """Write a PNG of exactly width x height to `out`."""


@runtime_checkable
class Voice(Protocol):
    name: str
    model: str

    def narrate(self, text: str, *, voice: str | None, out: Path, pace: float = 1.0) -> None:
        """Write speech for `text` as a PCM WAV to `out`; pace > 1 speaks faster."""


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
    ) -> None:
        """Write a silent H.264 clip of `duration` seconds at `size` and `fps` to `out`."""


@dataclass
class Backends:
    """The provider chosen for each capability of a run."""

    family: str
    story: StoryWriter
    image: ImageMaker
    voice: Voice
    motion: Animator

    def for_capability(self, capability: str) -> StoryWriter | ImageMaker | Voice | Animator:
        try:
            return {"story": self.story, "image": self.image, "voice": self.voice, "motion": self.motion}[
                capability
            ]
        except KeyError:
            raise ConfigError(f"no backend capability named {capability!r}") from None

    def describe(self) -> dict[str, dict[str, str]]:
        return {
            cap: {"backend": b.name, "model": b.model}
            for cap, b in (("story", self.story), ("image", self.image), ("voice", self.voice), ("motion", self.motion))
        }


BUILT_FAMILIES = ("local",)


def choose_family(settings: Settings, requested: str) -> tuple[str, str]:
    """Resolve --backend to a built family, with the reason to tell the user."""
    if requested == "auto":
        if settings.has_gemini_key():
            if "gemini" in BUILT_FAMILIES:
                return "gemini", "GEMINI_API_KEY/GOOGLE_API_KEY is set"
            return "local", "a Gemini key is set, but this build has no gemini backend yet"
        return "local", "no GEMINI_API_KEY or GOOGLE_API_KEY is set"
    if requested not in BUILT_FAMILIES:
        raise ConfigError(
            f"backend {requested!r} is not built yet; available: {', '.join(BUILT_FAMILIES)} (or auto)"
        )
    return requested, "asked for"


def build_backends(settings: Settings, family: str) -> Backends:
    if family == "local":
        from director.backends.local import local_backends

        return local_backends(settings)
    raise ConfigError(f"backend {family!r} is not built yet; available: {', '.join(BUILT_FAMILIES)}")
