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
import math
import random
import re
import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from director.errors import BudgetExceeded, DirectorError, ProviderError
from director.secrets import scrub

log = logging.getLogger(__name__)
T = TypeVar("T")


# --- prices -----------------------------------------------------------------------------
# USD list prices as published for the paid tiers (late 2025). Override any of them in
# $DIRECTOR_HOME/config.toml under [prices."<model>"] with the same keys.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gemini-2.5-flash": {"input_per_mtok": 0.30, "output_per_mtok": 2.50},
    "gemini-2.5-flash-lite": {"input_per_mtok": 0.10, "output_per_mtok": 0.40},
    "gemini-2.5-pro": {"input_per_mtok": 1.25, "output_per_mtok": 10.00},
    "gemini-2.5-flash-image": {"input_per_mtok": 0.30, "output_per_mtok": 30.00, "per_image": 0.039},
    "gemini-2.5-flash-preview-tts": {"input_per_mtok": 0.50, "output_per_mtok": 10.00},
    "gemini-2.5-pro-preview-tts": {"input_per_mtok": 1.00, "output_per_mtok": 20.00},
    "imagen-4.0-generate-001": {"per_image": 0.04},
    "imagen-4.0-fast-generate-001": {"per_image": 0.02},
    "imagen-4.0-ultra-generate-001": {"per_image": 0.06},
    # Veo bills the seconds it is asked for: per_second for video only, per_second_audio with
    # generated sound. Director asks for no sound (the narration replaces it).
    "veo-3.0-generate-001": {"per_second": 0.20, "per_second_audio": 0.40},
    "veo-3.0-fast-generate-001": {"per_second": 0.10, "per_second_audio": 0.15},
    "veo-3.1-generate-preview": {"per_second": 0.20, "per_second_audio": 0.40},
    "veo-3.1-fast-generate-preview": {"per_second": 0.10, "per_second_audio": 0.15},
    "veo-2.0-generate-001": {"per_second": 0.35},
    "reve": {"per_image": 0.04},
    # Lyria 2 bills each 30 s track it returns.
    "lyria-002": {"per_clip": 0.06},
}
AUDIO_TOKENS_PER_SECOND = 32  # Gemini counts generated audio at 32 tokens per second


class Prices:
    def __init__(self, overrides: dict[str, dict[str, float]] | None = None) -> None:
        self.table = {k: dict(v) for k, v in DEFAULT_PRICES.items()}
        for model, entry in (overrides or {}).items():
            self.table.setdefault(model, {}).update({k: float(v) for k, v in entry.items()})

    def of(self, model: str) -> dict[str, float]:
        if model in self.table:
            return self.table[model]
        # A dated or suffixed variant takes the price of the longest known prefix.
        best = max((k for k in self.table if model.startswith(k)), key=len, default=None)
        return self.table[best] if best else {}

    def tokens(self, model: str, input_tokens: int, output_tokens: int) -> float:
        p = self.of(model)
        return (input_tokens * p.get("input_per_mtok", 0.0) + output_tokens * p.get("output_per_mtok", 0.0)) / 1e6

    def images(self, model: str, n: int = 1) -> float:
        return n * self.of(model).get("per_image", 0.0)

    def clips(self, model: str, n: int = 1) -> float:
        """A model billed per piece it returns (Lyria's 30 s tracks)."""
        return n * self.of(model).get("per_clip", 0.0)

    def video(self, model: str, seconds: float, *, audio: bool = False) -> float:
        p = self.of(model)
        rate = p.get("per_second_audio", p.get("per_second", 0.0)) if audio else p.get("per_second", 0.0)
        return seconds * rate


VEO_SECONDS = (4, 6, 8)
"""The clip lengths Veo accepts; a request is billed for the length asked, not the length used."""


def veo_seconds(duration: float) -> int:
    """The Veo clip length Director requests for a scene of `duration` seconds (and pays for)."""
    return next((s for s in VEO_SECONDS if s >= math.ceil(duration - 1e-6)), VEO_SECONDS[-1])


def veo_audio(model: str) -> bool | None:
    """What to send as generate_audio: False for Veo 3 (which would add sound by default), None for
    models that take no such parameter."""
    return False if model.startswith("veo-3") else None


# --- metering ---------------------------------------------------------------------------


@dataclass
class CallMeter:
    """What one tool call (or brain turn) used and spent. Backends add to it."""

    prices: Prices
    report: Callable[[str], None] = lambda note: None
    on_retry: Callable[[dict[str, Any]], None] = lambda info: None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    retries: list[dict[str, Any]] = field(default_factory=list)


CURRENT_CALL: ContextVar[CallMeter | None] = ContextVar("director_current_call", default=None)


def record_tokens(model: str, input_tokens: int | None, output_tokens: int | None) -> None:
    meter = CURRENT_CALL.get()
    if meter is None:
        return
    i, o = int(input_tokens or 0), int(output_tokens or 0)
    meter.input_tokens += i
    meter.output_tokens += o
    meter.cost_usd += meter.prices.tokens(model, i, o)


def record_images(model: str, n: int = 1) -> None:
    meter = CURRENT_CALL.get()
    if meter is not None:
        meter.cost_usd += meter.prices.images(model, n)


def record_clips(model: str, n: int = 1) -> None:
    meter = CURRENT_CALL.get()
    if meter is not None:
        meter.cost_usd += meter.prices.clips(model, n)


def record_video(model: str, seconds: float, *, audio: bool = False) -> None:
    meter = CURRENT_CALL.get()
    if meter is not None:
        meter.cost_usd += meter.prices.video(model, seconds, audio=audio)


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
    ) -> None:
        self.rpm = rpm
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.sleep = sleep

    def throttle(self, model: str) -> None:
        rpm = self.rpm.get(model)
        if rpm:
            from director import cluster

            if cluster.active():  # one limiter for every process of the Ray cluster
                cluster.throttle(model, rpm)
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

    def __init__(self, limit_usd: float | None, spent_usd: float, *, default: bool = False) -> None:
        self.limit = limit_usd
        self.spent = spent_usd
        self.reserved = 0.0
        self.default = default
        """The limit is the settings' default cap, not one the user chose: a quote that passes it
        stops at the approval gate, and an approval raises it."""
        self.lock = threading.Lock()
        self.remote: Any = None
        """On a Ray cluster, the cluster's Budgets actor (director.cluster): the one account for every process."""
        self.run_id = ""

    def share(self, run_id: str) -> None:
        """Keep this run's account in the cluster-wide Budgets actor from now on."""
        from director import cluster

        self.remote, self.run_id = cluster.budgets(run_id, self.limit, self.spent, self.default), run_id

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
                    f"${self.limit:.2f} budget is spent or committed"
                )
            self.reserved += estimate

    def settle(self, estimate: float, actual: float) -> None:
        if self.remote is not None:
            import ray

            self.limit, self.spent, self.reserved, self.default = ray.get(
                self.remote.settle.remote(self.run_id, estimate, actual))
            return
        with self.lock:
            if self.limit is not None and estimate > 0:
                self.reserved -= estimate
            self.spent += actual
