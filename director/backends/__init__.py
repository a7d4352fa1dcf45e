"""Capabilities as small Protocols, and the choice of which provider serves each.

Only director/backends/gemini.py and vertex.py may import google-genai.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from director.config import Settings
from director.errors import ConfigError
from director.state import StoryDraft

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


@runtime_checkable
class Editor(Protocol):
    name: str
    model: str

    def edit_image(self, image: Path, instruction: str, *, out: Path) -> None:
        """Write `image` changed as the instruction says to `out` (PNG)."""

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


CAPABILITIES = ("story", "image", "edit", "voice", "motion", "vision")


@dataclass
class Backends:
    """The provider chosen for each capability of a run."""

    family: str
    story: StoryWriter
    image: ImageMaker
    voice: Voice
    motion: Animator
    edit: Editor
    vision: Vision

    def for_capability(self, capability: str) -> StoryWriter | ImageMaker | Voice | Animator | Editor | Vision:
        if capability not in CAPABILITIES:
            raise ConfigError(f"no backend capability named {capability!r}")
        return getattr(self, capability)  # type: ignore[no-any-return]

    def describe(self) -> dict[str, dict[str, str]]:
        return {cap: {"backend": getattr(self, cap).name, "model": getattr(self, cap).model} for cap in CAPABILITIES}


BUILT_FAMILIES = ("local", "gemini", "vertex")


def choose_family(settings: Settings, requested: str) -> tuple[str, str]:
    """Resolve --backend to a family, with the reason to tell the user."""
    if requested == "auto":
        if settings.use_vertexai and (settings.cloud_project or settings.has_gemini_key()):
            return "vertex", "GOOGLE_GENAI_USE_VERTEXAI is set"
        if settings.has_gemini_key():
            return "gemini", "GEMINI_API_KEY/GOOGLE_API_KEY is set"
        return "local", "no GEMINI_API_KEY or GOOGLE_API_KEY is set"
    if requested not in BUILT_FAMILIES:
        raise ConfigError(f"unknown backend {requested!r}; use auto, {', '.join(BUILT_FAMILIES)}")
    return requested, "asked for"


@dataclass
class Providers:
    """Everything a run talks to: the capability backends and the brain."""

    backends: Backends
    brain: object
    notes: list[str]

    @property
    def paid(self) -> bool:
        """Whether anything this run talks to charges money."""
        names = [b["backend"] for b in self.backends.describe().values()]
        return getattr(self.brain, "name", "local") != "local" or any(n != "local" for n in names)


def build_providers(settings: Settings, family: str, limits: object, *, cache_dir: Path | None = None) -> Providers:
    """Pick a provider per capability: the family's default unless a DIRECTOR_*_BACKEND says otherwise."""
    from director.backends.local import KenBurns, LocalIllustrator, LocalStoryWriter, PiperVoiceBackend

    cloud = family in ("gemini", "vertex")
    clients: dict[bool, object] = {}
    notes: list[str] = []

    def google() -> object:
        from director.backends.gemini import GoogleClient

        vertex = family == "vertex" or (family == "local" and settings.use_vertexai)
        if vertex not in clients:
            clients[vertex] = GoogleClient(settings, vertex=vertex, limits=limits)  # type: ignore[arg-type]
        return clients[vertex]

    story_choice = settings.story_backend or ("gemini" if cloud else "local")
    if story_choice == "gemini":
        from director.backends.gemini import GeminiStoryWriter

        story: StoryWriter = GeminiStoryWriter(google(), settings.story_model)  # type: ignore[arg-type]
    else:
        story = LocalStoryWriter()

    image_choice = settings.image_backend or ("gemini" if cloud else "local")
    image: ImageMaker
    if image_choice == "gemini":
        from director.backends.gemini import GeminiImageMaker

        image = GeminiImageMaker(google(), settings.image_model)  # type: ignore[arg-type]
    elif image_choice == "imagen":
        from director.backends.vertex import ImagenImageMaker

        image = ImagenImageMaker(google(), settings.imagen_model)  # type: ignore[arg-type]
    elif image_choice == "reve":
        from director.backends.reve import ReveImageMaker

        image = ReveImageMaker(settings, limits)  # type: ignore[arg-type]
    else:
        image = LocalIllustrator()

    voice_choice = settings.voice_backend or ("gemini" if cloud else "local")
    if voice_choice == "gemini":
        from director.backends.gemini import GeminiVoice

        voice: Voice = GeminiVoice(google(), settings.tts_model, default_voice=settings.tts_voice)  # type: ignore[arg-type]
    else:
        voice = PiperVoiceBackend(default_voice=settings.voice, cache_dir=cache_dir)

    motion_choice = settings.motion_backend or ("veo" if cloud else "local")
    motion: Animator = KenBurns(crf=settings.crf, preset=settings.x264_preset, jobs=settings.render_jobs)
    if motion_choice == "veo":
        from director.backends.vertex import VeoAnimator

        try:
            motion = VeoAnimator(google(), settings.video_model, poll_s=settings.veo_poll_s,  # type: ignore[arg-type]
                                 timeout_s=settings.veo_timeout_s)
        except ConfigError as exc:
            if settings.fallback != "local":
                raise ConfigError(f"{exc}; or pass --fallback local to animate with local Ken Burns motion") from None
            notes.append("motion: local Ken Burns (Veo needs Vertex AI; --fallback local)")

    edit_choice = settings.edit_backend or ("gemini" if cloud else "local")
    if edit_choice == "gemini":
        from director.backends.gemini import GeminiImageMaker

        edit: Editor = (image if isinstance(image, GeminiImageMaker)  # type: ignore[assignment]
                        else GeminiImageMaker(google(), settings.image_model))  # type: ignore[arg-type]
    elif edit_choice == "reve":
        from director.backends.reve import ReveImageMaker

        edit = image if isinstance(image, ReveImageMaker) else ReveImageMaker(settings, limits)  # type: ignore[arg-type,assignment]
    else:
        from director.backends.local.edit import LocalEditor

        edit = LocalEditor()

    vision_choice = settings.vision_backend or ("gemini" if cloud else "local")
    if vision_choice == "gemini":
        from director.backends.gemini import GeminiVision

        vision: Vision = GeminiVision(google(), settings.vision_model)  # type: ignore[arg-type]
    else:
        from director.backends.local.vision import LocalVision

        vision = LocalVision()

    brain_choice = settings.brain_backend or ("gemini" if cloud else "local")
    if brain_choice == "gemini":
        from director.backends.gemini import GeminiChat
        from director.brain.gemini import GeminiBrain

        brain: object = GeminiBrain(GeminiChat(google(), settings.brain_model), retries=settings.brain_retries)  # type: ignore[arg-type]
    else:
        from director.brain.local import LocalBrain

        brain = LocalBrain()
    for c in clients.values():
        notes.insert(0, f"google-genai: {getattr(c, 'mode', '')}")
    return Providers(Backends(family=family, story=story, image=image, voice=voice, motion=motion, edit=edit,
                              vision=vision), brain, notes)
