"""What a run needs (a Session), built once per command, and the graph it drives."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from director.backends import Backends, Providers, build_providers, check_voice, choose_family
from director.config import Settings
from director.errors import InputError
from director.lease import Lease
from director.limits import BudgetGuard, Limits
from director.prices import Prices
from director.run import Run
from director.state import DirectorState, Goal, Message, Storyboard
from director.store import AssetStore, Catalog, RunRow, Workspace


def clip_rate(settings: Settings, providers: Providers) -> Settings:
    """The settings at the frame rate the motion model makes (Veo and Omni: 24 fps), so the cut keeps its
    clips' rate; a frame rate set in DIRECTOR_FPS, or local motion, keeps the settings' own."""
    from director.backends import charges
    from director.models import limits_of

    motion = providers.backends.motion
    fps = limits_of(motion.model).fps if charges(motion) else None
    if fps is None or "fps" in settings.model_fields_set or fps == settings.fps:
        return settings
    return settings.model_copy(update={"fps": fps})


def resolved(goal: Goal, providers: Providers) -> Goal:
    """The goal with its resolution chosen: auto is the motion model's own (1080p on Veo, 720p on Omni), and
    720p for local motion or held stills. A resolution the run's video model does not make is refused here,
    before anything is paid for (Veo has no 360p; Veo 3.1 Lite no 4k)."""
    from director.backends import charges
    from director.models import limits_of

    motion = providers.backends.motion
    makes = charges(motion) and goal.motion != "still"
    if goal.resolution != "auto":
        allowed = limits_of(motion.model).resolutions if makes else []
        if allowed and goal.resolution not in allowed:
            raise InputError(f"{motion.model} makes {', '.join(allowed)} video, not {goal.resolution}: choose one "
                             "of those, or auto")
        return goal
    own = limits_of(motion.model).default_resolution if makes else None
    return goal.model_copy(update={"resolution": own or "720p"})


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While a run is driven from the main thread, Ctrl-C and SIGTERM stop it within a moment.

    The handler kills the ffmpeg children and stops new calls from starting before
    it raises KeyboardInterrupt, so the batch in flight drains at once instead of
    finishing its work first (LangGraph waits for a step's tasks before it stops).
    """
    import signal

    from director.media import STOPPING, kill_children

    STOPPING.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        kill_children()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)



@dataclass
class Session:
    """Everything one run needs, built once per call."""

    workspace: Workspace
    catalog: Catalog
    store: AssetStore
    providers: Providers
    family: str
    limits: Limits
    prices: Prices
    settings: Settings
    """The settings this run works with: the process's, at the frame rate of the motion model's clips (a Veo
    or Omni cut is 24 fps, so no clip is resampled) unless DIRECTOR_FPS chooses one."""

    @property
    def backends(self) -> Backends:
        return self.providers.backends


@dataclass
class Job:
    """What one invocation drives: the graph input (or Command) and its run's row."""

    session: Session
    run: Run
    graph_input: Any
    budget: float | None
    config: dict[str, Any] = field(default_factory=dict)
    lease: Lease | None = None




@dataclass
class Continuation:
    """Where a command goes on from, handed to the one continuation path (Lifecycle._continue)."""

    session: Session
    graph_input: Any
    """A DirectorState to start from, a langgraph Command for the gate, or None for the saved checkpoint."""
    budget: float | None
    header: dict[str, Any]
    """The run_started event's fields: reason, scenes, aspect, mode, notes."""
    config: dict[str, Any] = field(default_factory=dict)
    """Checkpoint config to go on from (replay), over the run's thread."""
    row: dict[str, Any] = field(default_factory=dict)
    """Catalog fields to set as the run starts again (budget_usd, options_json)."""


class Base:
    """The lifecycle's ground floor: settings, workspace, sessions, the catalog and the compiled graph."""

    def __init__(self, settings: Settings, workspace: Workspace, *, backend: str = "auto",
                 explicit: set[str] | None = None, executor: Executor | None = None) -> None:
        self.settings = settings
        self.workspace = workspace
        self.requested_backend = backend
        self.explicit = explicit or set()
        self.executor = executor
        self._active: dict[str, Run] = {}
        self._sessions: dict[str, Session] = {}
        self._active_lock = threading.Lock()
        self.pool: BudgetGuard | None = None
        """One account over every run this lifecycle drives, besides each run's own (a batch's budget)."""

    def choose_backend(self) -> tuple[str, str]:
        """(family, reason) for this --backend choice."""
        return choose_family(self.settings, self.requested_backend)

    def _session(self, family: str, *, voice: str | None = None, goal: Goal | None = None,
                 check: bool = True) -> Session:
        """Everything a run needs. With `check`, the models its goal will call (every paid model, without a
        goal) are checked first: shut down, unpriced or not served is one line, before anything is paid."""
        from director import preflight

        limits = Limits(rpm=self.settings.rate_limits(), max_attempts=self.settings.max_attempts,
                        backoff_base_s=self.settings.backoff_base_s, backoff_max_s=self.settings.backoff_max_s)
        prices = Prices(self.settings.file_config().get("prices"))
        address = self.settings.ray()
        if address:  # tool calls become Ray tasks; rate limits and budgets go cluster-wide
            from director import cluster

            cluster.connect(address)
            limits.shared = cluster.throttle  # the brain's calls, made here, share the cluster's limiter
        providers = build_providers(self.settings, family, limits, cache_dir=self.workspace.cache_dir / "runtime")
        check_voice(providers.backends.voice, voice)  # before anything is written
        if check and providers.paid:
            providers.notes += preflight.check(providers, goal, prices)
        self.workspace.prepare()
        catalog = Catalog.open(self.workspace, create=True)
        store = AssetStore(self.workspace, catalog)
        return Session(self.workspace, catalog, store, providers, family, limits, prices,
                       clip_rate(self.settings, providers))

    def _run_session(self, row: RunRow) -> Session:
        """A session for an existing run: its own family and its --fallback, unless overridden now."""
        settings = self.settings
        options = json.loads(row.options_json or "{}")
        if "fallback" not in self.explicit and options.get("fallback"):
            self.settings = self.settings.model_copy(update={"fallback": options["fallback"]})
        goal = Goal.model_validate(options["goal"]) if options.get("goal") else None
        try:
            return self._session(row.backend, goal=goal)
        finally:
            self.settings = settings

    def _catalog(self) -> Catalog:
        """The catalog for reading; never creates a database."""
        return Catalog.open(self.workspace, create=False)

    def compile(self, family: str, *, checkpointer: Any, cached: bool = False) -> Any:
        """The compiled agent graph for a backend family, on this workspace, with a budget of its own.

        cached reuses the family's session (providers, catalog) from an earlier compile: a host
        that compiles the graph for every run (LangGraph's server) builds them once."""
        if cached:
            with self._active_lock:
                session = self._sessions.get(family)
            if session is None:
                session = self._session(family)
                with self._active_lock:
                    session = self._sessions.setdefault(family, session)
        else:
            session = self._session(family)
        return self._build(session, checkpointer, BudgetGuard(self.settings.budget_usd, 0.0))

    def _build(self, session: Session, checkpointer: Any, budget: BudgetGuard,
               stop: threading.Event | None = None) -> Any:
        from director.graph import build_graph
        from director.publish import Publisher

        brain: Any = session.providers.brain  # a Brain; Providers keeps it untyped to stay free of brain imports
        runner = self._runner(session, budget, stop)
        publisher = Publisher(self.workspace, session.store, session.catalog, session.settings, session.backends, brain)
        return build_graph(brain=brain, runner=runner, finish=publisher, checkpointer=checkpointer)  # type: ignore[arg-type]

    def _runner(self, session: Session, budget: BudgetGuard, stop: threading.Event | None = None) -> Any:
        from director.runner import Runner
        from director.tools import registry

        submit: Callable[..., Any] | None = None
        if self.settings.ray():
            from director.tasks import submit as remote

            submit = remote
        return Runner(settings=session.settings, backends=session.backends, store=session.store,
                      catalog=session.catalog, tools=registry(), prices=session.prices, budget=budget, stop=stop,
                      cluster=submit, family=session.family)

    @staticmethod
    def _initial_state(row: RunRow) -> DirectorState:
        """The state a run started from, rebuilt from its catalog row (for a run killed before its first step)."""
        options = json.loads(row.options_json or "{}")
        if "goal" not in options:
            raise InputError(f"run {row.id} has no checkpoints and no saved goal to start again from")
        goal = Goal.model_validate(options["goal"])
        board = Storyboard.model_validate(options["board"]) if options.get("board") else None
        return DirectorState(run_id=row.id, goal=goal, storyboard=board,
                             messages=[Message(role="user", text=goal.text, intent="goal")])
