"""Tool calls on a Ray cluster (DIRECTOR_RAY_ADDRESS or --executor ray), with limits that hold cluster-wide.

This module is the membership, the limits and the plain data a task returns; director/tasks.py sends tool
calls as tasks and is what runs on a worker.

Ray is the engine; nothing here queues or schedules work itself:

- Each tool call goes to Ray, with a resource hint: an encode, or a model that runs on the
  worker's own CPU (the local backends), is a task that asks for one CPU; a call to a hosted
  model asks for none (it waits on the network) and runs on a thread of a caller actor. The driver (the process that holds the
  run's lease) validates the call, checks the memo and reserves its estimated cost before the
  task is sent; the task runs the tool and records the call in the catalog itself, right
  after it returns, so a worker that dies after that point cannot lose a paid result.
- Worker death: Ray runs a task whose worker died again elsewhere (max_retries). The task
  first looks up its memo key in the catalog, so a call that completed and was recorded is
  reused, never paid for twice.
- Rate limits live in one named, detached actor (`director-rate-limits`) that hands out
  start times per model, 60/R seconds apart, to every process of the cluster: no 60-second
  window holds more than R requests, however many servers and workers send them.
- Budgets: every run's account lives in one named actor (`director-budgets`), so every
  reservation of a run, from any process, is checked against one account.
- Calls to hosted models run on the threads of named caller actors (one per CPU node), not a
  process each: a Ray worker process costs a Python start and Director's imports.

Workers need what the driver has: the same DIRECTOR_DATABASE_URL and DIRECTOR_ASSETS_URL
(or, on one machine, the same workspace folder), and their own provider keys in their
environment; keys never travel in a task.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from director.errors import ConfigError

log = logging.getLogger(__name__)

NAMESPACE = "director"
LIMITER = "director-rate-limits"
MAX_RETRIES = 3
"""Times Ray runs a task again after its worker died."""
IDLE_ACCOUNT_S = 86400.0
"""A run's account in the Budgets actor is dropped after this long unused."""


_joined = False


def active() -> bool:
    """Whether this process sends tool calls to a Ray cluster (it joined one), or is a Ray worker."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return False
    return _joined or ray.get_runtime_context().worker.mode == ray.WORKER_MODE


_connect_lock = threading.Lock()


_on_disconnect: list[Any] = []
"""What else holds handles into the cluster (director.tasks' callers): told to drop them on disconnect()."""


def disconnect() -> None:
    """Leave the cluster (the next connect() joins again)."""
    global _joined, _limiter, _budgets
    ray = sys.modules.get("ray")
    with _connect_lock:
        if ray is not None and ray.is_initialized():
            ray.shutdown()
        _joined, _limiter, _budgets = False, None, None
        for forget in _on_disconnect:
            forget()


def connect(address: str) -> None:
    """Join the cluster at `address` ('auto' for the one this machine is part of); ConfigError if it fails."""
    try:
        import ray
    except ImportError:
        raise ConfigError("DIRECTOR_RAY_ADDRESS needs the cluster extra: pip install 'director-video[cluster]'") from None
    global _joined
    with _connect_lock:
        if not ray.is_initialized():
            try:
                ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, logging_level=logging.WARNING,
                         configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(f"cannot join the Ray cluster at {address}: {first}") from None
        _joined = True


# --- cluster-wide rate limits ----------------------------------------------------------------


def _limiter_class() -> Any:
    import ray

    @ray.remote(num_cpus=0, max_restarts=-1)
    class RateLimits:
        """Start times per model, 60/R seconds apart, for every process of the cluster."""

        def __init__(self) -> None:
            self.next: dict[str, float] = {}

        def slot(self, model: str, rpm: float) -> float:
            """Seconds the caller waits before its request may start."""
            now = time.time()
            start = max(now, self.next.get(model, 0.0))
            self.next[model] = start + 60.0 / rpm
            return start - now

    return RateLimits


_limiter: Any = None


def limiter() -> Any:
    global _limiter
    if _limiter is None:
        _limiter = _limiter_class().options(name=LIMITER, namespace=NAMESPACE, get_if_exists=True,
                                            lifetime="detached").remote()
    return _limiter


def throttle(model: str, rpm: float) -> None:
    """Wait for this model's next cluster-wide start time."""
    import ray

    wait = ray.get(limiter().slot.remote(model, rpm))
    if wait > 0:
        time.sleep(wait)


# --- cluster-wide budgets --------------------------------------------------------------------


def _budgets_class() -> Any:
    import ray

    @ray.remote(num_cpus=0, max_restarts=-1)
    class Budgets:
        """Every run's account, in one place for the cluster: the same rules as limits.BudgetGuard."""

        def __init__(self) -> None:
            self.runs: dict[str, list[Any]] = {}  # run -> [limit, spent, reserved, default]
            self.used: dict[str, float] = {}

        def reset(self, run: str, limit: float | None, spent: float, default: bool) -> None:
            """A driver takes the run over: the catalog's spend is the truth; in-flight reservations are its own.
            Accounts untouched for a day are dropped (the catalog keeps what was spent)."""
            now = time.time()
            for old in [r for r, at in self.used.items() if now - at > IDLE_ACCOUNT_S]:
                self.runs.pop(old, None)
                self.used.pop(old, None)
            self.runs[run] = [limit, spent, 0.0, default]
            self.used[run] = now

        def reserve(self, run: str, estimate: float) -> tuple[bool, float, float | None]:
            self.used[run] = time.time()
            limit, spent, reserved, _ = self.runs[run]
            if limit is None or estimate <= 0:
                return True, spent + reserved, limit
            if spent + reserved + estimate > limit + 1e-9:
                return False, spent + reserved, limit
            self.runs[run][2] += estimate
            return True, spent + reserved + estimate, limit

        def settle(self, run: str, estimate: float, actual: float) -> tuple[float | None, float, float, bool]:
            account = self.runs[run]
            if account[0] is not None and estimate > 0:
                account[2] -= estimate
            account[1] += actual
            return tuple(account)  # type: ignore[return-value]

        def allow(self, run: str, quote: float) -> float:
            account = self.runs[run]
            account[0] = round(max(account[0] or 0.0, account[1] + quote * 1.25 + 0.05), 2)
            return account[0]

        def state(self, run: str) -> tuple[float | None, float, float, bool]:
            return tuple(self.runs[run])  # type: ignore[return-value]

    return Budgets


_budgets: Any = None


def budgets(run_id: str, limit: float | None, spent: float, default: bool) -> Any:
    """The cluster's Budgets actor, with this run's account set from the catalog."""
    import ray

    global _budgets
    if _budgets is None:
        _budgets = _budgets_class().options(name="director-budgets", namespace=NAMESPACE, get_if_exists=True,
                                            lifetime="detached").remote()
    ray.get(_budgets.reset.remote(run_id, limit, spent, default))
    return _budgets


# --- what a tool call's task comes to ----------------------------------------------------------


@dataclass
class Executed:
    """What running one tool call came to, wherever it ran (plain data: it crosses the cluster)."""

    output: dict[str, Any] | None
    error: str | None
    stop: tuple[str, str] | None = None
    """('budget' | 'storage', message): the run stops after this call."""
    ms: int = 0
    cost_usd: float = 0.0
    reused: bool = False
    notes: list[str] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)
    node: str | None = None


def fingerprint(url: str) -> str:
    """Names a database without showing it: the driver's and a worker's must match."""
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:16]
