"""Capabilities as small Protocols, and the choice of which provider serves each.

Only director/backends/gemini.py and vertex.py may import google-genai.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from director.config import Settings
from director.errors import ConfigError, NeedsVertex, ProviderError, UnsureStart
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

    def write_story(self, goal: str, *, scenes: int, seed: int, seconds: float | None = None) -> StoryDraft:
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


CAPABILITIES = ("story", "image", "edit", "voice", "motion", "vision", "music")


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
    music: MusicMaker

    def for_capability(self, capability: str) -> StoryWriter | ImageMaker | Voice | Animator | Editor | Vision | MusicMaker:
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
        return any(charges(p) for p in (self.brain, *(self.backends.for_capability(c) for c in CAPABILITIES)))


def charges(provider: object) -> bool:
    """Whether a provider costs money: anything but the local ones, unless it says `paid = False` (a plugin
    that runs on this machine)."""
    return bool(getattr(provider, "paid", getattr(provider, "name", "local") != "local"))


@dataclass
class Wiring:
    """What a provider factory may use: the settings, the shared google-genai client, the
    providers built so far (an editor may reuse the image maker), and notes for the user."""

    settings: Settings
    family: str
    limits: object
    cache_dir: Path | None
    built: dict[str, object] = field(default_factory=dict)
    clients: dict[bool, object] = field(default_factory=dict)

    def gemini_api(self, what: str, instead: str) -> object:
        """The Gemini API client, for a model only the Gemini API serves (Omni, Lyria 3); a one-line ConfigError on
        Vertex that says what to use there."""
        client = self.google()
        if getattr(client, "provider", "") != "gemini":
            raise ConfigError(f"{what} is on the Gemini API (an API key): use --backend gemini, or {instead} on Vertex")
        return client

    def google(self) -> object:
        from director.backends.gemini import GoogleClient

        vertex = self.family == "vertex" or (self.family == "local" and self.settings.use_vertexai)
        if vertex not in self.clients:
            self.clients[vertex] = GoogleClient(self.settings, vertex=vertex, limits=self.limits)  # type: ignore[arg-type]
        return self.clients[vertex]


Factory = Callable[[Wiring], object]
ROLES = ("story", "image", "voice", "motion", "edit", "vision", "music", "brain")
"""Everything a run talks to, in the order it is built (the editor after the image maker)."""
REGISTRY: dict[tuple[str, str], Factory] = {}
"""(role, provider name) -> factory. A new provider is its module plus one @provider entry here;
DIRECTOR_<ROLE>_BACKEND=<name> then picks it."""
CLOUD_DEFAULTS = {"story": "gemini", "image": "gemini", "voice": "gemini", "motion": "omni", "edit": "gemini",
                  "vision": "gemini", "music": "lyria3", "brain": "gemini"}
"""The provider of each role in the gemini family (an API key: Omni Flash moves the stills, Lyria 3 composes
the bed); the local family uses "local" throughout."""
VERTEX_DEFAULTS = {**CLOUD_DEFAULTS, "motion": "veo", "music": "lyria"}
"""Vertex has Veo 3.1 for motion and Lyria 2 for the bed."""


def provider(role: str, name: str) -> Callable[[Factory], Factory]:
    def register(factory: Factory) -> Factory:
        REGISTRY[(role, name)] = factory
        return factory
    return register


RETIRED: dict[tuple[str, str], str] = {
    ("image", "imagen"): "Imagen is shut down (every Imagen model, on the Gemini API and on Vertex, since 2026-08-17); "
                         "use DIRECTOR_IMAGE_BACKEND=gemini (gemini-nano-banana-2.1, on both)",
}
"""Providers Director had whose models are gone: naming one is this line, not 'no such provider'."""


def provider_names(role: str) -> list[str]:
    return [name for (r, name) in REGISTRY if r == role]


def check_provider(role: str, name: str | None) -> None:
    """ConfigError for a provider name that is retired or unknown for `role`."""
    if name is None:
        return
    if (role, name) in RETIRED:
        raise ConfigError(RETIRED[(role, name)])
    names = provider_names(role)
    if name not in names:
        raise ConfigError(f"{name!r} is not a {role} provider; use one of: {', '.join(names)}")


@provider("story", "local")
def _local_story(w: Wiring) -> object:
    from director.backends.local import LocalStoryWriter

    return LocalStoryWriter()


@provider("story", "gemini")
def _gemini_story(w: Wiring) -> object:
    from director.backends.gemini import GeminiStoryWriter

    return GeminiStoryWriter(w.google(), w.settings.story_model)  # type: ignore[arg-type]


@provider("image", "local")
def _local_image(w: Wiring) -> object:
    from director.backends.local import LocalIllustrator

    return LocalIllustrator()


@provider("image", "gemini")
def _gemini_image(w: Wiring) -> object:
    from director.backends.gemini import GeminiImageMaker

    return GeminiImageMaker(w.google(), w.settings.image_model)  # type: ignore[arg-type]


@provider("image", "reve")
def _reve_image(w: Wiring) -> object:
    from director.backends.reve import ReveImageMaker

    return ReveImageMaker(w.settings, w.limits)  # type: ignore[arg-type]


@provider("voice", "local")
def _piper(w: Wiring) -> object:
    from director.backends.local import PiperVoiceBackend

    return PiperVoiceBackend(default_voice=w.settings.voice, cache_dir=w.cache_dir)


@provider("voice", "gemini")
def _gemini_voice(w: Wiring) -> object:
    from director.backends.gemini import GeminiVoice

    return GeminiVoice(w.google(), w.settings.tts_model, default_voice=w.settings.tts_voice)  # type: ignore[arg-type]


@provider("motion", "local")
def _ken_burns(w: Wiring) -> object:
    from director.backends.local import KenBurns

    return KenBurns(crf=w.settings.crf, preset=w.settings.x264_preset, jobs=w.settings.render_jobs)


@provider("motion", "omni")
def _omni(w: Wiring) -> object:
    from director.backends.interactions import OmniAnimator

    client = w.gemini_api("Omni Flash motion", "DIRECTOR_MOTION_BACKEND=veo")
    return OmniAnimator(client, w.settings.omni_model, poll_s=w.settings.veo_poll_s,  # type: ignore[arg-type]
                        timeout_s=w.settings.veo_timeout_s)


@provider("motion", "veo")
def _veo(w: Wiring) -> object:
    from director.backends.vertex import VeoAnimator

    return VeoAnimator(w.google(), w.settings.video_model, poll_s=w.settings.veo_poll_s,  # type: ignore[arg-type]
                       timeout_s=w.settings.veo_timeout_s)


@provider("edit", "local")
def _local_edit(w: Wiring) -> object:
    from director.backends.local.edit import LocalEditor

    return LocalEditor()


@provider("edit", "gemini")
def _gemini_edit(w: Wiring) -> object:
    from director.backends.gemini import GeminiImageMaker

    image = w.built.get("image")
    return image if isinstance(image, GeminiImageMaker) else GeminiImageMaker(w.google(), w.settings.image_model)  # type: ignore[arg-type]


@provider("edit", "reve")
def _reve_edit(w: Wiring) -> object:
    from director.backends.reve import ReveImageMaker

    image = w.built.get("image")
    return image if isinstance(image, ReveImageMaker) else ReveImageMaker(w.settings, w.limits)  # type: ignore[arg-type]


@provider("vision", "local")
def _local_vision(w: Wiring) -> object:
    from director.backends.local.vision import LocalVision

    return LocalVision()


@provider("vision", "gemini")
def _gemini_vision(w: Wiring) -> object:
    from director.backends.gemini import GeminiVision

    return GeminiVision(w.google(), w.settings.vision_model)  # type: ignore[arg-type]


@provider("music", "local")
def _music_library(w: Wiring) -> object:
    from director.backends.local.music import LibraryMusic

    return LibraryMusic()


@provider("music", "lyria")
def _lyria(w: Wiring) -> object:
    from director.backends.vertex import LyriaMusic

    return LyriaMusic(w.google(), w.settings.music_model)  # type: ignore[arg-type]


@provider("music", "lyria3")
def _lyria3(w: Wiring) -> object:
    from director.backends.interactions import LyriaSongs

    return LyriaSongs(w.gemini_api("Lyria 3", "DIRECTOR_MUSIC_BACKEND=lyria (Lyria 2)"),  # type: ignore[arg-type]
                      w.settings.lyria_model)


@provider("brain", "local")
def _local_brain(w: Wiring) -> object:
    from director.brain.local import LocalBrain

    return LocalBrain()


@provider("brain", "gemini")
def _gemini_brain(w: Wiring) -> object:
    from director.backends.gemini import GeminiChat
    from director.brain.gemini import GeminiBrain

    return GeminiBrain(GeminiChat(w.google(), w.settings.brain_model), retries=w.settings.brain_retries)  # type: ignore[arg-type]


def build_providers(settings: Settings, family: str, limits: object, *, cache_dir: Path | None = None) -> Providers:
    """Pick a provider per role from the registry: the family's default unless DIRECTOR_<ROLE>_BACKEND
    says otherwise. With --fallback local, a family default that needs Vertex (Veo in Gemini API-key
    mode) is swapped for the local provider, with a note; a provider named explicitly never is."""
    wiring = Wiring(settings, family, limits, cache_dir)
    notes: list[str] = []
    for role in ROLES:
        chosen = getattr(settings, f"{role}_backend")
        name = chosen or {"gemini": CLOUD_DEFAULTS, "vertex": VERTEX_DEFAULTS}.get(family, {}).get(role, "local")
        check_provider(role, name)
        factory = REGISTRY[(role, name)]
        try:
            wiring.built[role] = factory(wiring)
        except NeedsVertex as exc:
            if chosen or settings.fallback != "local":
                hint = "" if chosen else f"; or pass --fallback local to use the local {role} backend"
                raise ConfigError(f"{exc}{hint}") from None
            wiring.built[role] = REGISTRY[(role, "local")](wiring)
            notes.append(f"{role}: local instead of {name} ({name} needs Vertex AI; --fallback local)")
    for c in wiring.clients.values():
        notes.insert(0, f"google-genai: {getattr(c, 'mode', '')}")
    built = wiring.built
    return Providers(Backends(family=family, story=built["story"], image=built["image"], voice=built["voice"],  # type: ignore[arg-type]
                              motion=built["motion"], edit=built["edit"], vision=built["vision"],  # type: ignore[arg-type]
                              music=built["music"]),  # type: ignore[arg-type]
                     built["brain"], notes)
