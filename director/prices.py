"""Prices and usage: what a model call costs, from the model catalog under config.toml's overrides.

What each model costs comes from the model catalog (director/models.toml), dated; any of it
can be overridden, or given to a model the catalog lacks, in $DIRECTOR_HOME/config.toml
under [prices."<model>"] with the catalog's keys. A model with no price is never free:
asking for its cost raises Unpriced, and a paid run refuses it before its first call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from director.errors import ConfigError, DirectorError
from director.models import Price, find, image_size

AUDIO_TOKENS_PER_SECOND = 32  # Gemini counts audio at 32 tokens per second (estimates only; the meter reads usage)
PRICE_KEYS = ("input_per_mtok", "audio_input_per_mtok", "cached_input_per_mtok", "cached_audio_input_per_mtok",
              "output_per_mtok", "image_output_per_mtok", "audio_output_per_mtok", "per_image", "per_second",
              "per_second_audio", "per_track", "flex")
OLD_PRICE_KEYS = {"per_clip": "per_track"}
"""config.toml keys from before the catalog, read under their new names."""


@dataclass
class Usage:
    """The tokens one answer was billed for, by modality (TEXT, IMAGE, AUDIO, VIDEO)."""

    prompt: dict[str, int] = field(default_factory=dict)
    cached: dict[str, int] = field(default_factory=dict)
    output: dict[str, int] = field(default_factory=dict)
    thoughts: int = 0

    @property
    def input_tokens(self) -> int:
        return sum(self.prompt.values())

    @property
    def output_tokens(self) -> int:
        return sum(self.output.values()) + self.thoughts


class Prices:
    """Prices by model and date: the catalog's, under config.toml's overrides."""

    def __init__(self, overrides: dict[str, dict[str, Any]] | None = None, *, on: date | None = None,
                 tier: str = "standard") -> None:
        self.on = on
        """The day prices are judged by; None is today (UTC)."""
        self.tier = tier
        """The service tier calls are made on: "flex" bills a model's flex share where it has one."""
        self.overrides: dict[str, dict[str, Any]] = {}
        for model, entry in (overrides or {}).items():
            if not isinstance(entry, dict):
                raise ConfigError(f'config.toml: [prices."{model}"] must be a table of prices')
            fields: dict[str, Any] = {}
            for key, value in entry.items():
                name = OLD_PRICE_KEYS.get(key, key)
                if name not in PRICE_KEYS:
                    raise ConfigError(f'config.toml: [prices."{model}"] has no key {key!r}; use '
                                      f"{', '.join(PRICE_KEYS)}")
                if name in ("per_image", "per_second", "per_second_audio") and not isinstance(value, dict):
                    value = {"any": value}  # one price for every size or resolution
                fields[name] = value
            self.overrides[str(model)] = fields

    def with_tier(self, tier: str) -> Prices:
        """These prices for calls on another service tier."""
        if tier == self.tier:
            return self
        other = Prices(on=self.on, tier=tier)
        other.overrides = self.overrides
        return other

    def flexes(self, model: str) -> bool:
        """Whether `model` has a flex price, so a flex call to it is sent and billed as one."""
        price = self.of(model)
        return price is not None and price.flex is not None

    def share(self, model: str) -> float:
        """The part of the list price this tier bills for `model`."""
        if self.tier != "flex":
            return 1.0
        price = self.of(model)
        return price.flex if price is not None and price.flex is not None else 1.0

    def of(self, model: str) -> Price | None:
        """The price of `model` in effect today (or on self.on), or None when it has none."""
        row = find(model)
        base = row.price(self.on) if row is not None else None
        extra = self.overrides.get(model) or (self.overrides.get(row.id) if row is not None else None)
        if not extra:
            return base
        try:
            return Price.model_validate({**(base.model_dump() if base else {"since": date(1970, 1, 1)}), **extra})
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise ConfigError(f'config.toml: [prices."{model}"].{problem["loc"][0]}: {problem["msg"]}') from None

    def require(self, model: str, what: str, value: Any) -> Any:
        """`value` (a price field read from of(model)), or Unpriced naming what has no price."""
        if value is None:
            raise Unpriced(model, what)
        return value

    def _field(self, model: str, name: str, what: str) -> float:
        price = self.of(model)
        return float(self.require(model, what, getattr(price, name) if price else None))

    def tokens(self, model: str, input_tokens: int, output_tokens: int, *, audio_input: int = 0,
               cached: int = 0) -> float:
        """Text tokens in and out (an estimate, or a meter without a breakdown): audio and cached input apart."""
        usd = 0.0
        plain = max(0, input_tokens - cached)
        if plain:
            usd += plain * self._field(model, "input_per_mtok", "input tokens")
        if cached:
            rate = self.of(model)
            usd += cached * (rate.cached_input_per_mtok if rate and rate.cached_input_per_mtok is not None
                             else self._field(model, "input_per_mtok", "input tokens"))
        if audio_input:
            usd += audio_input * self._field(model, "audio_input_per_mtok", "audio input")
        if output_tokens:
            usd += output_tokens * self._field(model, "output_per_mtok", "output tokens")
        return usd / 1e6 * self.share(model)

    def usage(self, model: str, usage: Usage) -> float:
        """What one answer costs, by modality, as Google bills it: audio input and cached input at their
        own rates, image and audio output at theirs, thinking as text output."""
        price = self.of(model)
        if price is None:
            raise Unpriced(model, "tokens")
        usd = 0.0
        cached = dict(usage.cached)
        for modality, count in usage.prompt.items():
            hit = min(count, cached.pop(modality, 0))
            audio = modality == "AUDIO"
            rate = self.require(model, "audio input" if audio else "input tokens",
                                price.audio_input_per_mtok if audio else price.input_per_mtok)
            cheap = price.cached_audio_input_per_mtok if audio else price.cached_input_per_mtok
            usd += (count - hit) * rate + hit * (cheap if cheap is not None else rate)
        for modality, count in usage.output.items():
            name = {"IMAGE": "image_output_per_mtok", "AUDIO": "audio_output_per_mtok"}.get(modality, "output_per_mtok")
            usd += count * self.require(model, f"{modality.lower()} output", getattr(price, name))
        if usage.thoughts:
            usd += usage.thoughts * self.require(model, "thinking tokens", price.output_per_mtok)
        return usd / 1e6 * self.share(model)

    def image(self, model: str, size: str = "1K", n: int = 1) -> float:
        """n pictures at imageSize `size` (the model's 'any' price when it has one for every size)."""
        table = self.require(model, "images", getattr(self.of(model), "per_image", None))
        rate = table.get(size, table.get("any"))
        return n * float(self.require(model, f"{size} images", rate)) * self.share(model)

    def image_at(self, model: str, width: int, height: int, n: int = 1) -> float:
        """n pictures of width x height, at the imageSize the backend asks the model for (models.image_size):
        a 4k run's stills are priced as 4K pictures, not 1K."""
        return self.image(model, image_size(model, width, height) or "1K", n)

    def speech(self, model: str, text: str, seconds: float) -> float:
        """Speech of `seconds` from `text`: its tokens in, audio tokens out."""
        price = self.of(model)
        usd = len(text) / 4 * self.require(model, "input tokens", price.input_per_mtok if price else None)
        usd += seconds * AUDIO_TOKENS_PER_SECOND * self.require(
            model, "audio output", price.audio_output_per_mtok if price else None)
        return usd / 1e6 * self.share(model)

    def track(self, model: str, n: int = 1) -> float:
        """A model billed per piece of music it returns (Lyria 2's 30 s clip, Lyria 3's song)."""
        return n * self._field(model, "per_track", "music")

    def video(self, model: str, seconds: float, *, resolution: str = "720p", audio: bool = False) -> float:
        """Seconds of video at `resolution`, with or without generated sound, as the model bills them."""
        name = "per_second_audio" if audio else "per_second"
        table = getattr(self.of(model), name, None)
        if table is None and not audio:
            # A model that always makes sound bills every second with it.
            table, name = getattr(self.of(model), "per_second_audio", None), "per_second_audio"
        table = self.require(model, "video seconds", table)
        rate = table.get(resolution, table.get("any"))
        return seconds * float(self.require(model, f"{resolution} video seconds" + (" with sound" if audio else ""),
                                            rate))


class Unpriced(DirectorError):
    """A model with no price, asked for while a budget holds: refused before the call."""

    exit_code = 2

    def __init__(self, model: str, what: str = "") -> None:
        super().__init__(
            f"{model} has no price{' for ' + what if what else ''} in Director's model catalog, so it cannot be "
            f"called under a budget; give it one in $DIRECTOR_HOME/config.toml, e.g. "
            f'[prices."{model}"] input_per_mtok = 0.5 and output_per_mtok = 3.0 '
            f"(keys: see `director models`), or pick a catalogued model")
        self.model = model
