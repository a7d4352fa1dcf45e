"""Before a run pays for anything: are the models its plan will call served, and priced?

For each model a run's mode and options will use (and only those), Director asks the model catalog
whether it has been shut down, whether it has a price (a paid run is always under a budget, and a
model with no price is never free), and then asks Google itself with the free models.get call,
once per process and model. A missing or retired model is one line naming the role, the model, the
setting to change and the catalog's replacement, before the first billable request.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from director.backends import charges
from director.errors import ConfigError, ProviderError
from director.models import catalog, find

log = logging.getLogger(__name__)

SETTING_OF = {"brain": "brain_model", "story": "story_model", "vision": "vision_model", "image": "image_model",
              "edit": "image_model", "voice": "tts_model", "motion": "video_model", "music": "music_model"}
"""Each capability and the setting that picks its model (DIRECTOR_<NAME>)."""
DEFAULT_ROLE = {"brain": "brain", "story": "story", "vision": "vision", "image": "image", "edit": "image",
                "voice": "tts", "motion": "video", "music": "music"}
"""Each capability and its role in the catalog's [defaults]."""

_served: dict[tuple[Any, ...], None] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Use:
    """One model a run will call: for which capability, through which provider."""

    capability: str
    provider: Any

    @property
    def model(self) -> str:
        return str(self.provider.model)

    @property
    def setting(self) -> str:
        name = getattr(self.provider, "name", "")
        if name == "reve":
            return "DIRECTOR_REVE_VERSION"
        if name == "omni":
            return "DIRECTOR_OMNI_MODEL"
        if name == "lyria3":
            return "DIRECTOR_LYRIA_MODEL"
        return f"DIRECTOR_{SETTING_OF.get(self.capability, self.capability + '_model').upper()}"

    def client(self) -> Any:
        """The google-genai client wrapper that reaches the model (None for other providers)."""
        holder = getattr(self.provider, "chat", self.provider)  # the brain talks through its chat model
        client = getattr(holder, "client", None)
        return client if callable(getattr(client, "served", None)) else None


def plan(providers: Any, goal: Any | None) -> list[Use]:
    """The paid models a goal's run will call: the capabilities its mode's tools use, less those its options
    switch off (held stills, no music, no continuity check); every paid capability when there is no goal."""
    from director.tools import registry

    mode = getattr(goal, "mode", None)
    capabilities = {t.capability for t in registry().values() if t.capability and (mode is None or mode in t.modes)}
    if goal is not None:
        if goal.motion == "still":
            capabilities.discard("motion")
        if goal.music == "none":
            capabilities.discard("music")
        if mode == "trailer" and goal.audio == "source":
            capabilities.discard("voice")
    # (image before edit: when one model does both, it is named for drawing)
    uses = [Use(c, providers.backends.for_capability(c)) for c in sorted(capabilities, key=lambda c: (c == "edit", c))]
    uses.append(Use("brain", providers.brain))
    seen: set[tuple[str, str]] = set()
    paid = []
    for use in uses:
        if not charges(use.provider):
            continue
        key = (use.capability if use.capability != "edit" else "image", use.model)
        if key not in seen:
            seen.add(key)
            paid.append(use)
    return paid


def check(providers: Any, goal: Any | None, prices: Any, *, ask: bool = True) -> list[str]:
    """Refuse (ConfigError, one line) a model the plan would call that is shut down, unpriced or not served;
    return a warning line for each deprecated one. `ask` sends models.get for the ones not yet asked about."""
    warnings: list[str] = []
    for use in plan(providers, goal):
        row = find(use.model)
        if row is not None and row.retired():
            when = f" on {row.shutdown:%Y-%m-%d}" if row.shutdown else ""
            raise ConfigError(f"the {use.capability} model {use.model} was shut down{when}; "
                              f"{instead(use, catalog().replacement(use.model))}")
        if prices.of(use.model) is None:
            raise ConfigError(
                f"the {use.capability} model {use.model} has no price in Director's model catalog, so a paid run "
                f"will not call it: give it one in $DIRECTOR_HOME/config.toml ([prices.\"{use.model}\"], see "
                f"`director models`), or {instead(use, None)}")
        if row is not None and row.status == "deprecated":
            warnings.append(f"the {use.capability} model {use.model} is deprecated"
                            + (f" ({row.note.rstrip('.')})" if row.note else "")
                            + (f"; {row.replacement} replaces it" if row.replacement else ""))
    if ask:
        for use in plan(providers, goal):
            served(use)
    return warnings


def instead(use: Use, replacement: str | None) -> str:
    """What to do about a model that cannot be used: the setting to change, and to what."""
    role = {"omni": "omni", "lyria3": "lyria"}.get(getattr(use.provider, "name", ""), DEFAULT_ROLE.get(use.capability))
    default = catalog().defaults.get(role or "") if use.client() is not None else None
    target = replacement or default
    if target and target != use.model:
        hint = f"set {use.setting}={target}"
        if default and default != target:
            hint += f", or unset it for the default ({default})"
        elif target == default:
            hint += " (the catalog's default), or unset it"
        return hint
    return f"set {use.setting} to a model `director models` lists"


def served(use: Use) -> None:
    """Ask Google (models.get, free) whether it serves the model, once per process, key and location."""
    client = use.client()
    if client is None:
        return
    key = (client.provider, client.mode, client.location(use.model), client.settings.gemini_base_url,
           client.settings.vertex_base_url, use.model)
    with _lock:
        if key in _served:
            return
    try:
        client.served(use.model)
    except ProviderError as exc:
        if exc.status == 404:
            replacement = catalog().replacement(use.model)
            raise ConfigError(f"the {use.capability} model {use.model} is not served to this "
                              f"{'project' if client.project else 'key'} ({first_line(str(exc))}); "
                              f"{instead(use, replacement)}") from None
        raise ConfigError(f"could not check the {use.capability} model {use.model} before spending anything: "
                          f"{first_line(str(exc))}") from None
    with _lock:
        _served[key] = None


def first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


def forget() -> None:
    """Ask again next time (tests; a long-lived server that wants a fresh look)."""
    with _lock:
        _served.clear()


def survey(settings: Any, family: str) -> dict[str, str]:
    """For `director models --check`: ask Google, with this key or project, about each role's model.
    Model id -> 'served', 'not served: ...', or why it was not asked."""
    from director.backends.gemini import GoogleClient
    from director.limits import Limits
    from director.models import SETTINGS

    limits = Limits(rpm={}, max_attempts=settings.max_attempts, backoff_base_s=settings.backoff_base_s,
                    backoff_max_s=settings.backoff_max_s)
    client = GoogleClient(settings, vertex=family == "vertex", limits=limits)
    answers: dict[str, str] = {}
    for setting in SETTINGS.values():
        model = getattr(settings, setting)
        if model in answers:
            continue
        row = find(model)
        surface = "vertex" if family == "vertex" else "gemini"
        if row is not None and surface not in row.surfaces:
            answers[model] = f"not asked: {' and '.join(row.surfaces)} only"
            continue
        try:
            resource = client.served(model)
        except ProviderError as exc:
            answers[model] = ("not served: " if exc.status == 404 else "could not ask: ") + first_line(str(exc))
            continue
        where = client.location(model)
        answers[model] = "served" + (f" at {where}" if where else "") + (
            f" ({resource.version})" if getattr(resource, "version", None) else "")
    return answers
