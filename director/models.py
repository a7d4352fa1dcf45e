"""The model catalog: what Director knows about each model it can call (director/models.toml).

Google ships and retires models every few months and changes prices on fixed dates, so
these facts are data, read from one file with a source and a date on every row:

- each model's roles, surface (Gemini API, Vertex, or Reve), method and Vertex location;
- its status and announced shutdown date, and the model Google recommends instead;
- its prices, each from the date it takes effect, in the units Google bills;
- the limits Director relies on (reference images, sizes, clip lengths, speakers...).

Defaults, quotes, the budget check, request shaping and `director models` all read it.
A model missing from the catalog has no price, and a paid run refuses it before its
first call (a price can be given in $DIRECTOR_HOME/config.toml).
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Role = Literal["brain", "story", "vision", "transcribe", "image", "edit", "video", "omni", "tts", "music", "lyria"]
Surface = Literal["gemini", "vertex", "reve"]
Method = Literal["generateContent", "predict", "predictLongRunning", "interactions", "reve"]
Status = Literal["ga", "preview", "deprecated", "shutdown"]

VERSION_SUFFIX = re.compile(r"^(?P<base>.+)-\d{3}$")
"""Google's documented stable-version suffix (gemini-2.0-flash-001 is gemini-2.0-flash): the only
variant of an id that takes its base's row. Anything else unknown is unknown."""


def today() -> date:
    """The date prices and shutdowns are judged by (UTC, as Google's pages date them)."""
    return datetime.now(UTC).date()


class Price(BaseModel):
    """One model's prices from a date on, in USD, in the units the provider bills."""

    model_config = ConfigDict(extra="forbid")

    since: date = Field(description="The day this price takes effect.")
    input_per_mtok: float | None = Field(None, ge=0, description="Text, image and video input, per 1M tokens.")
    audio_input_per_mtok: float | None = Field(None, ge=0, description="Audio input, per 1M tokens.")
    cached_input_per_mtok: float | None = Field(None, ge=0, description="Cached text/image/video input, per 1M tokens.")
    cached_audio_input_per_mtok: float | None = Field(None, ge=0, description="Cached audio input, per 1M tokens.")
    output_per_mtok: float | None = Field(None, ge=0, description="Text output (thinking included), per 1M tokens.")
    image_output_per_mtok: float | None = Field(None, ge=0, description="Image output, per 1M tokens.")
    audio_output_per_mtok: float | None = Field(None, ge=0, description="Audio output, per 1M tokens.")
    per_image: dict[str, float] | None = Field(None, description="Per image returned, by imageSize (1K, 2K, 4K) or 'any'.")
    per_second: dict[str, float] | None = Field(None, description="Video without sound, per second, by resolution.")
    per_second_audio: dict[str, float] | None = Field(None, description="Video with sound, per second, by resolution.")
    per_track: float | None = Field(None, ge=0, description="Per piece of music returned (Lyria 2's 30 s clip).")
    flex: float | None = Field(None, gt=0, le=1, description="The share of these prices the flex tier bills.")


class ModelLimits(BaseModel):
    """What a model takes and makes, as far as Director relies on it."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int | None = Field(None, description="Context window, in tokens.")
    output_tokens: int | None = Field(None, description="Most output tokens per request.")
    thinking_levels: list[str] = Field(default_factory=list, description="thinkingLevel values it takes (Gemini 3).")
    reference_images: int | None = Field(None, description="Most input pictures per image request.")
    image_sizes: list[str] = Field(default_factory=list, description="imageConfig.imageSize values.")
    aspect_ratios: list[str] = Field(default_factory=list, description="Aspect ratios it makes.")
    clip_seconds: list[int] = Field(default_factory=list, description="Clip lengths it makes, in seconds.")
    clip_seconds_at: dict[str, list[int]] = Field(default_factory=dict, description="Clip lengths it makes at a "
                                                                                    "resolution, where fewer.")
    resolutions: list[str] = Field(default_factory=list, description="Video resolutions it makes.")
    fps: int | None = Field(None, description="Frame rate of the clips it makes.")
    sound: bool | None = Field(None, description="Whether its clips carry generated sound.")
    speakers: int | None = Field(None, description="Most TTS speakers per request.")
    music_seconds: float | None = Field(None, description="Length of one piece of music it makes.")
    default_resolution: str | None = Field(None, description="The resolution Director asks a video model for "
                                                             "unless the run chooses one.")
    extension_seconds: list[int] = Field(default_factory=list, description="What one extension of a clip can add, "
                                                                           "in seconds (none: it does not extend).")
    extension_input_seconds: float | None = Field(None, description="The longest video it extends, whole.")
    extension_asks: int | None = Field(None, description="The length an extension request asks for and is billed "
                                                         "by, where that differs from what it adds (Veo: 8 for 7).")
    extension_resolution: str | None = Field(None, description="The resolution extensions are made at, where fixed.")


class ModelInfo(BaseModel):
    """One catalog row."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = ""
    roles: list[Role] = Field(default_factory=list)
    surfaces: list[Surface]
    method: Method
    status: Status
    released: date | None = None
    shutdown: date | None = Field(None, description="Announced shutdown date (the earliest Google gives).")
    replacement: str | None = Field(None, description="The model Google (or this catalog) recommends instead.")
    vertex_location: Literal["global", "regional"] | None = Field(
        None, description="Where Vertex serves it: the global endpoint, or a region (GOOGLE_CLOUD_LOCATION).")
    aliases: list[str] = Field(default_factory=list, description="Other ids that name this model today.")
    prices: list[Price] = Field(default_factory=list)
    limits: ModelLimits = Field(default_factory=ModelLimits)
    sources: list[str] = Field(description="The pages the row was read from.")
    read: date = Field(description="When those pages were read.")
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ModelInfo:
        self.prices.sort(key=lambda p: p.since)
        if len({p.since for p in self.prices}) != len(self.prices):
            raise ValueError(f"{self.id}: two prices start on the same day")
        return self

    def retired(self, on: date | None = None) -> bool:
        """Whether it is no longer served on `on` (today): shut down, or past its shutdown date."""
        on = on or today()
        return self.status == "shutdown" or (self.shutdown is not None and self.shutdown <= on)

    def price(self, on: date | None = None) -> Price | None:
        """The price in effect on `on` (today), or None when none has started."""
        on = on or today()
        current = [p for p in self.prices if p.since <= on]
        return current[-1] if current else None

    def upcoming(self, on: date | None = None) -> list[Price]:
        """Announced prices that start after `on` (today)."""
        on = on or today()
        return [p for p in self.prices if p.since > on]


SETTINGS = {"brain": "brain_model", "story": "story_model", "vision": "vision_model", "image": "image_model",
            "video": "video_model", "omni": "omni_model", "tts": "tts_model", "music": "music_model",
            "lyria": "lyria_model"}
"""Each role with a default, and the setting (DIRECTOR_<NAME>) that chooses its model."""


class Catalog(BaseModel):
    """The whole catalog file."""

    model_config = ConfigDict(extra="forbid")

    read: date = Field(description="When the catalog was last checked against its sources as a whole.")
    defaults: dict[str, str] = Field(description="Role -> the model Director uses unless a setting says otherwise.")
    models: list[ModelInfo]

    @model_validator(mode="after")
    def _consistent(self) -> Catalog:
        seen: dict[str, str] = {}
        for row in self.models:
            for name in (row.id, *row.aliases):
                if name in seen:
                    raise ValueError(f"{name} is named twice (rows {seen[name]} and {row.id})")
                seen[name] = row.id
        for role, model in self.defaults.items():
            if role not in SETTINGS:
                raise ValueError(f"defaults.{role}: no such role; roles are {', '.join(SETTINGS)}")
            found = self.find(model)
            if found is None:
                raise ValueError(f"defaults.{role} = {model!r} has no row")
            if role not in found.roles:
                raise ValueError(f"defaults.{role} = {model!r}, whose row does not list the role")
        for row in self.models:
            if row.replacement and self.find(row.replacement) is None:
                raise ValueError(f"{row.id}: replacement {row.replacement!r} has no row")
        return self

    def find(self, model: str) -> ModelInfo | None:
        """The row of an id, an alias, or a stable version of a known id (gemini-x-001)."""
        for row in self.models:
            if model == row.id or model in row.aliases:
                return row
        m = VERSION_SUFFIX.match(model)
        if m:
            return next((r for r in self.models if r.id == m["base"]), None)
        if ":" in model:  # Director's own provider:version ids (reve:latest)
            return next((r for r in self.models if r.id == model.split(":", 1)[0]), None)
        return None

    def default(self, role: str) -> str:
        return self.defaults[role]

    def stale_defaults(self, on: date | None = None) -> list[str]:
        """One line per default that is shut down (or past its shutdown date) on `on`, naming what replaces it."""
        lines = []
        for role, model in self.defaults.items():
            row = self.find(model)
            if row is not None and row.retired(on):
                when = f" on {row.shutdown:%Y-%m-%d}" if row.shutdown else ""
                lines.append(f"the default {role} model {model} is shut down{when}; the catalog's replacement is "
                             f"{self.replacement(model) or 'not known'}: update [defaults] in director/models.toml")
        return lines

    def replacement(self, model: str) -> str | None:
        """What to use instead of a retired model: its row's replacement, followed while that is retired too."""
        row = self.find(model)
        seen: set[str] = set()
        while row is not None and row.replacement and row.id not in seen:
            seen.add(row.id)
            nxt = self.find(row.replacement)
            if nxt is None or not nxt.retired():
                return row.replacement
            row = nxt
        return None


class CatalogError(ValueError):
    """The catalog file does not read: a bug in the package, never the user's input."""


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The packaged catalog (read once per process)."""
    text = resources.files("director").joinpath("models.toml").read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> Catalog:
    try:
        return Catalog.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CatalogError(f"director/models.toml: {exc}") from exc


def default_model(role: str) -> str:
    """The catalog's default model for a role (what the settings fall back on)."""
    return catalog().default(role)


def find(model: str) -> ModelInfo | None:
    return catalog().find(model)


def limits_of(model: str) -> ModelLimits:
    """What the catalog knows a model takes and makes (nothing, for a model it lacks)."""
    row = find(model)
    return row.limits if row is not None else ModelLimits()


def image_size(model: str, width: int, height: int) -> str | None:
    """The imageSize to ask an image model for a still of width x height: 1K up to 1280 pixels on the long side
    (previews, 720p), 2K up to 2048 (1080p), else 4K, as far as the model makes them (None: it takes no size)."""
    sizes = limits_of(model).image_sizes
    if not sizes:
        return None
    side = max(width, height)
    wanted = "1K" if side <= 1280 else "2K" if side <= 2048 else "4K"
    order = ["512", "1K", "2K", "4K"]
    fitting = [s for s in sizes if s in order and order.index(s) >= order.index(wanted)]
    return min(fitting, key=order.index) if fitting else max((s for s in sizes if s in order), key=order.index)


def clip_seconds(model: str, duration: float, resolution: str | None = None) -> int:
    """The clip length to ask a video model for, for a scene of `duration` seconds: the shortest it makes (at
    this resolution) that covers the scene, else its longest (a request is billed for the length asked)."""
    limits = limits_of(model)
    lengths = sorted(limits.clip_seconds_at.get(resolution or "", limits.clip_seconds)) or [4, 6, 8]
    need = max(1, int(-(-round(duration, 6) // 1)))
    return next((s for s in lengths if s >= need), lengths[-1])


def extension_plan(model: str, first: float, duration: float) -> list[int]:
    """The extensions that take a `first`-second clip toward a `duration`-second scene, as the seconds each adds:
    the shortest that covers what is left, else the longest, for as long as the video is one the model extends
    whole. Empty when the clip covers the scene or the model does not extend."""
    limits = limits_of(model)
    steps, most = sorted(limits.extension_seconds), limits.extension_input_seconds
    plan: list[int] = []
    length = float(first)
    while steps and most and length + 0.05 < duration and length <= most:
        add = next((s for s in steps if length + s + 0.05 >= duration), steps[-1])
        plan.append(add)
        length += add
    return plan


def describe_price(price: Price) -> str:
    """A price in words, in its billing units: 'in $0.75/M, out $3.75/M' or '$0.40/s at 720p'."""
    def usd(value: float) -> str:
        text = f"{value:.4f}".rstrip("0")
        return "$" + (text + "0" * (2 - len(text.split(".")[1])))

    parts = []
    for name, label in (("input_per_mtok", "in"), ("audio_input_per_mtok", "audio in"),
                        ("cached_input_per_mtok", "cached in"), ("output_per_mtok", "out"),
                        ("image_output_per_mtok", "image out"), ("audio_output_per_mtok", "audio out")):
        value = getattr(price, name)
        if value is not None and not (name == "audio_input_per_mtok" and value == price.input_per_mtok):
            parts.append(f"{label} {usd(value)}/M tok")
    if price.per_image:
        parts.append("per image " + ", ".join(f"{usd(v)} {k}" if k != "any" else usd(v) for k, v in price.per_image.items()))
    for name, label in (("per_second", "per s"), ("per_second_audio", "per s with sound")):
        table = getattr(price, name)
        if table:
            parts.append(f"{label} " + ", ".join(f"{usd(v)} {k}" if k != "any" else usd(v) for k, v in table.items()))
    if price.per_track is not None:
        parts.append(f"{usd(price.per_track)} per track")
    if price.flex is not None:
        parts.append(f"flex x{price.flex:g}")
    return "; ".join(parts) or "free"


def lineup(settings: Any) -> list[dict[str, Any]]:
    """Per role with a default: the model in use (the setting, else the default), and what the catalog
    says of it today (status, shutdown date, price now and announced changes)."""
    rows = []
    on = today()
    for role, setting in SETTINGS.items():
        model = getattr(settings, setting)
        row = find(model)
        price = row.price(on) if row else None
        rows.append({
            "role": role, "model": model, "setting": f"DIRECTOR_{setting.upper()}",
            "default": catalog().defaults.get(role) == model,
            "known": row is not None,
            "surfaces": row.surfaces if row else [],
            "status": ("shut down" if row.retired(on) else row.status) if row else "not in the catalog",
            "shutdown": row.shutdown.isoformat() if row and row.shutdown else None,
            "replacement": catalog().replacement(model) if row else None,
            "price": describe_price(price) if price else "no price (config.toml [prices] gives one)",
            "upcoming": [f"from {p.since:%Y-%m-%d}: {describe_price(p)}" for p in (row.upcoming(on) if row else [])],
            "read": row.read.isoformat() if row else None,
            "sources": row.sources if row else [],
        })
    return rows
