"""Per-model rate limits, retry-after aware retries, metering and budgets (prices: director.prices).

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
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from director.errors import BudgetExceeded, DirectorError, ProviderError
from director.prices import Prices, Unpriced, Usage
from director.secrets import scrub

log = logging.getLogger(__name__)
T = TypeVar("T")


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
