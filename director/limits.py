"""Per-model rate limits, retry-after aware retries, prices, metering and budgets.

- Rate limits: one aiolimiter AsyncLimiter per model, shared by every thread
  of the process; provider calls run in worker threads and wait on a small
  background event loop that owns the limiters. A limit of R per minute paces
  requests 60/R seconds apart (a bucket of one), so no 60-second window ever
  holds more than R. A bucket of R would let 2R-1 through in the first minute.
- Retries: tenacity. A 429 waits for the server's RetryInfo.retryDelay or
  Retry-After; 5xx, timeouts and dropped connections back off exponentially
  with jitter; attempts are bounded. Each retry is reported and recorded.
- Metering: the tool call running in a thread carries a CallMeter (a
  contextvar) that backends feed with token counts, images and video seconds.
- Budget: a run's spend is checked before each paid call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from director.errors import BudgetExceeded, DirectorError, ProviderError
from director.models import Price
from director.secrets import scrub

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- prices -----------------------------------------------------------------------------
# What each model costs comes from the model catalog (director/models.toml), dated; any of it
# can be overridden, or given to a model the catalog lacks, in $DIRECTOR_HOME/config.toml
# under [prices."<model>"] with the catalog's keys. A model with no price is never free:
# asking for its cost raises Unpriced, and a paid run refuses it before its first call.

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
        from director.errors import ConfigError

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
        from director.errors import ConfigError
        from director.models import find

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


# --- metering ---------------------------------------------------------------------------


@dataclass
class CallMeter:
    """What one tool call (or brain turn) used and spent. Backends add to it."""

    prices: Prices
    """The prices this call is billed at (on its service tier)."""
    report: Callable[[str], None] = lambda note: None
    on_retry: Callable[[dict[str, Any]], None] = lambda info: None
    warn: Callable[[str], None] = lambda line: None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    retries: list[dict[str, Any]] = field(default_factory=list)


CURRENT_CALL: ContextVar[CallMeter | None] = ContextVar("director_current_call", default=None)


def _charge(what: Callable[[Prices], float]) -> None:
    """Add a call's cost to the meter. The call has happened: a model without a price (possible only
    with no budget at all) costs what nobody knows, which is said in the log rather than raised."""
    meter = CURRENT_CALL.get()
    if meter is None:
        return
    try:
        meter.cost_usd += what(meter.prices)
    except Unpriced as exc:
        log.warning("%s", exc)


def record_usage(model: str, usage: Usage) -> None:
    """Tokens one answer was billed for, by modality."""
    meter = CURRENT_CALL.get()
    if meter is not None:
        meter.input_tokens += usage.input_tokens
        meter.output_tokens += usage.output_tokens
    _charge(lambda prices: prices.usage(model, usage))


def record_images(model: str, n: int = 1, *, size: str = "1K") -> None:
    _charge(lambda prices: prices.image(model, size, n))


def record_track(model: str, n: int = 1) -> None:
    _charge(lambda prices: prices.track(model, n))


def record_video(model: str, seconds: float, *, resolution: str = "720p", audio: bool = False) -> None:
    _charge(lambda prices: prices.video(model, seconds, resolution=resolution, audio=audio))


def report(note: str) -> None:
    """Progress note from inside a backend (shown by the CLI, streamed by the API)."""
    meter = CURRENT_CALL.get()
    if meter is not None:
        meter.report(note)


# --- rate limits ------------------------------------------------------------------------


class _LimiterLoop:
    """A daemon thread running the event loop that owns every AsyncLimiter."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="director-limiter", daemon=True)
        self.thread.start()
        self.limiters: dict[str, tuple[float, Any]] = {}
        self.lock = threading.Lock()

    def acquire(self, model: str, rpm: float) -> None:
        from aiolimiter import AsyncLimiter

        with self.lock:
            known = self.limiters.get(model)
            if known is None or known[0] != rpm:
                known = self.limiters[model] = (rpm, AsyncLimiter(1, 60.0 / rpm))
        asyncio.run_coroutine_threadsafe(known[1].acquire(), self.loop).result()


_loop: _LimiterLoop | None = None
_loop_lock = threading.Lock()


def _limiter_loop() -> _LimiterLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = _LimiterLoop()
        return _loop


# --- retries ----------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def parse_retry_delay(value: Any) -> float | None:
    """'1s' / '0.5s' (google.rpc.RetryInfo) or '3' (Retry-After seconds) -> seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    m = _DURATION.match(text)
    if m:
        return float(m.group(1))
    try:
        return float(text)
    except ValueError:
        return None


class Limits:
    """Rate limits and retries for provider requests; one per run."""

    def __init__(
        self,
        *,
        rpm: dict[str, float],
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        sleep: Callable[[float], None] | None = None,
        shared: Callable[[str, float], None] | None = None,
    ) -> None:
        self.rpm = rpm
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.sleep = sleep
        self.shared = shared
        """On a Ray cluster, its one limiter for every process (director.cluster.throttle), given by whoever
        builds the Limits there; else each process keeps its own."""

    def throttle(self, model: str) -> None:
        rpm = self.rpm.get(model)
        if rpm:
            if self.shared is not None:
                self.shared(model, rpm)
            else:
                _limiter_loop().acquire(model, rpm)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return min(float(after), self.backoff_max_s * 10) + random.uniform(0, 0.1)
        expo = self.backoff_base_s * (2 ** (state.attempt_number - 1))
        return min(self.backoff_max_s, expo) * random.uniform(0.5, 1.0)

    def _before_sleep(self, model: str) -> Callable[[RetryCallState], None]:
        def hook(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            info = {"model": model, "attempt": state.attempt_number, "of": self.max_attempts,
                    "wait_s": round(wait, 2), "error": scrub(str(exc))}
            log.info("retrying %s in %.1fs after attempt %d: %s", model, wait, state.attempt_number, exc)
            meter = CURRENT_CALL.get()
            if meter is not None:
                meter.retries.append(info)
                meter.on_retry(info)
        return hook

    def call(self, model: str, fn: Callable[[], T], *, classify: Callable[[BaseException], ProviderError]) -> T:
        """Run one provider request under the model's rate limit, retrying what may pass."""
        kwargs: dict[str, Any] = {}
        if self.sleep is not None:
            kwargs["sleep"] = self.sleep
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, ProviderError) and e.retryable),
            before_sleep=self._before_sleep(model),
            reraise=True,
            **kwargs,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self.throttle(model)
                    try:
                        return fn()
                    except DirectorError:  # already says what happened (ProviderError, BudgetExceeded...)
                        raise
                    except Exception as exc:
                        raise classify(exc) from exc
        except ProviderError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if exc.retryable and attempts >= self.max_attempts:
                raise ProviderError(
                    f"{exc} (gave up after {attempts} attempts)",
                    provider=exc.provider, model=exc.model, status=exc.status, retryable=False,
                ) from exc
            raise
        raise AssertionError("unreachable")  # pragma: no cover


# --- budget ----------------------------------------------------------------------------


class BudgetGuard:
    """Reserve an estimate before a paid call; refuse what would pass the limit."""

    def __init__(self, limit_usd: float | None, spent_usd: float, *, default: bool = False,
                 name: str = "budget") -> None:
        self.limit = limit_usd
        self.name = name
        """What the refusal calls this account: the run's "budget", a batch's "batch budget"."""
        self.spent = spent_usd
        self.reserved = 0.0
        self.default = default
        """The limit is the settings' default cap, not one the user chose: a quote that passes it
        stops at the approval gate, and an approval raises it."""
        self.lock = threading.Lock()
        self.remote: Any = None
        """On a Ray cluster, the cluster's Budgets actor (director.cluster): the one account for every process."""
        self.run_id = ""
        self.pool: BudgetGuard | None = None
        """An account over several runs (a batch's one budget): each reservation must fit it too."""

    def share(self, run_id: str, account: Callable[[str, float | None, float, bool], Any]) -> None:
        """Keep this run's account in the cluster-wide Budgets actor from now on: `account` (director.cluster.budgets)
        opens it with this guard's limit, spending and kind of cap."""
        self.remote, self.run_id = account(run_id, self.limit, self.spent, self.default), run_id

    def _pull(self) -> None:
        import ray

        self.limit, self.spent, self.reserved, self.default = ray.get(self.remote.state.remote(self.run_id))

    def over(self, quote: float) -> bool:
        """Whether spending `quote` more would pass a default cap (an explicit budget never asks)."""
        if self.remote is not None:
            self._pull()
        return self.default and self.limit is not None and self.spent + quote > self.limit + 1e-9

    def allow(self, quote: float) -> float:
        """The user approved `quote`: raise the cap to cover it, with a quarter more for brain turns and retries."""
        if self.remote is not None:
            import ray

            self.limit = ray.get(self.remote.allow.remote(self.run_id, quote))
            return self.limit
        with self.lock:
            self.limit = round(max(self.limit or 0.0, self.spent + quote * 1.25 + 0.05), 2)
            return self.limit

    def reserve(self, estimate: float, what: str) -> None:
        if self.pool is not None:
            self.pool.reserve(estimate, what)
            try:
                self._reserve(estimate, what)
            except BaseException:
                self.pool.settle(estimate, 0.0)  # the run's own budget refused it: the pool gives it back
                raise
            return
        self._reserve(estimate, what)

    def _reserve(self, estimate: float, what: str) -> None:
        if self.remote is not None:
            import ray

            ok, committed, limit = ray.get(self.remote.reserve.remote(self.run_id, estimate))
            if not ok:
                raise BudgetExceeded(f"{what} would cost about ${estimate:.3f}, and ${committed:.3f} of the "
                                     f"${limit:.2f} budget is spent or committed")
            return
        if self.limit is None or estimate <= 0:
            return
        with self.lock:
            if self.spent + self.reserved + estimate > self.limit + 1e-9:
                raise BudgetExceeded(
                    f"{what} would cost about ${estimate:.3f}, and ${self.spent + self.reserved:.3f} of the "
                    f"${self.limit:.2f} {self.name} is spent or committed"
                )
            self.reserved += estimate

    def settle(self, estimate: float, actual: float) -> None:
        if self.pool is not None:
            self.pool.settle(estimate, actual)
        if self.remote is not None:
            import ray

            self.limit, self.spent, self.reserved, self.default = ray.get(
                self.remote.settle.remote(self.run_id, estimate, actual))
            return
        with self.lock:
            if self.limit is not None and estimate > 0:
                self.reserved -= estimate
            self.spent += actual
