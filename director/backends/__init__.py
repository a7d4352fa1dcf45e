"""The choice of which provider serves each capability (the capabilities themselves, and what every provider
shares, are in director/backends/base.py, re-exported here).

Only director/backends/gemini.py and vertex.py may import google-genai.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from director.backends.base import (  # noqa: F401
    IMG_REF,
    MOTIONS,
    Animator,
    Clip,
    Editor,
    ImageMaker,
    Job,
    MusicMaker,
    StoryWriter,
    Vision,
    Voice,
    animate,
    check_voice,
    draw,
    held,
    image_refs,
    without_references,
    write_clip,
)
from director.config import Settings
from director.errors import ConfigError, NeedsVertex

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


BUILT_FAMILIES = ("local", "openai", "gemini", "vertex")


def choose_family(settings: Settings, requested: str) -> tuple[str, str]:
    """Resolve --backend to a family, with the reason to tell the user."""
    if requested == "auto":
        if settings.use_vertexai and (settings.cloud_project or settings.has_gemini_key()):
            return "vertex", "GOOGLE_GENAI_USE_VERTEXAI is set"
        if settings.has_gemini_key():
            return "gemini", "GEMINI_API_KEY/GOOGLE_API_KEY is set"
        if settings.openai_base_url:
            return "openai", (f"no GEMINI_API_KEY or GOOGLE_API_KEY is set; DIRECTOR_OPENAI_BASE_URL names a model "
                              f"server ({settings.openai_model or 'no model named'}), which writes and plans")
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
    openai: object | None = None
    """The OpenAI-compatible server's client, built once for the roles it serves."""

    def openai_server(self) -> object:
        if self.openai is None:
            from director.backends.openai_api import OpenAIServer

            self.openai = OpenAIServer(self.settings)
        return self.openai

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
OPENAI_DEFAULTS = {"story": "openai", "brain": "openai"}
"""An OpenAI-compatible server of the user's writes the story and plans; it describes and checks pictures too
when DIRECTOR_OPENAI_VISION says its model sees. The local backends do the rest."""


def family_default(settings: Settings, family: str, role: str) -> str:
    """The provider a family uses for a role when DIRECTOR_<ROLE>_BACKEND does not choose."""
    if family == "openai":
        seeing = {"vision": "openai"} if settings.openai_vision else {}
        return {**OPENAI_DEFAULTS, **seeing}.get(role, "local")
    return {"gemini": CLOUD_DEFAULTS, "vertex": VERTEX_DEFAULTS}.get(family, {}).get(role, "local")


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
    from director.brain.model import ModelBrain

    return ModelBrain(GeminiChat(w.google(), w.settings.brain_model), retries=w.settings.brain_retries)  # type: ignore[arg-type]


@provider("story", "openai")
def _openai_story(w: Wiring) -> object:
    from director.backends.openai_api import OpenAIStoryWriter

    return OpenAIStoryWriter(w.openai_server())  # type: ignore[arg-type]


@provider("brain", "openai")
def _openai_brain(w: Wiring) -> object:
    from director.backends.openai_api import OpenAIChat
    from director.brain.model import ModelBrain

    return ModelBrain(OpenAIChat(w.openai_server()), retries=w.settings.brain_retries)  # type: ignore[arg-type]


@provider("vision", "openai")
def _openai_vision(w: Wiring) -> object:
    from director.backends.openai_api import OpenAIVision

    return OpenAIVision(w.openai_server())  # type: ignore[arg-type]


def build_providers(settings: Settings, family: str, limits: object, *, cache_dir: Path | None = None) -> Providers:
    """Pick a provider per role from the registry: the family's default unless DIRECTOR_<ROLE>_BACKEND
    says otherwise. With --fallback local, a family default that needs Vertex (Veo in Gemini API-key
    mode) is swapped for the local provider, with a note; a provider named explicitly never is."""
    wiring = Wiring(settings, family, limits, cache_dir)
    notes: list[str] = []
    for role in ROLES:
        chosen = getattr(settings, f"{role}_backend")
        name = chosen or family_default(settings, family, role)
        try:
            check_provider(role, name)
        except ConfigError as exc:  # the settings are read without the registry: the setting is named here
            raise ConfigError(f"DIRECTOR_{role.upper()}_BACKEND: {exc}" if chosen else str(exc)) from None
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
    if wiring.openai is not None:
        roles = [r for r in ROLES if getattr(wiring.built[r], "name", "") == "openai"]
        notes.insert(0, f"openai: {wiring.openai.model} at {wiring.openai.url} ({', '.join(roles)}; your own "  # type: ignore[attr-defined]
                        f"server, priced at $0)")
    built = wiring.built
    return Providers(Backends(family=family, story=built["story"], image=built["image"], voice=built["voice"],  # type: ignore[arg-type]
                              motion=built["motion"], edit=built["edit"], vision=built["vision"],  # type: ignore[arg-type]
                              music=built["music"]),  # type: ignore[arg-type]
                     built["brain"], notes)
