"""The lifecycle layer: make, resume, say, replay and fork, for every face (CLI, Python, HTTP).

Each command checks its input, takes the run's lease, works out where the graph
goes on from (a Continuation) and hands it to one continuation path, which
marks the run running, announces it and drives the graph, on this thread or a
worker. What a face reads about a run comes from the catalog (rows, events,
leases), never from the memory of the process that runs it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from director.backends import Backends, Providers, build_providers, check_voice, choose_family
from director.checkpoints import open_checkpointer, started
from director.config import Settings
from director.errors import BudgetExceeded, DirectorError, InputError, Interrupted, RunStateError, StorageError
from director.goals import check_run_id, make_goal, make_trailer_goal, new_run_id, new_run_id_for
from director.options import MakeOptions
from director.lease import Lease, RunBusy, effective_status, holder_alive
from director.lease import describe as lease_busy
from director.limits import BudgetGuard, Limits, Prices
from director.run import Event, OnEvent, Run
from director.secrets import scrub
from director.state import DirectorState, Goal, Message, Storyboard
from director.store import DATABASE_ERRORS, AssetStore, Catalog, RunRow, Workspace, disk_full, storage_error

log = logging.getLogger(__name__)


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
    720p for local motion or held stills."""
    from director.backends import charges
    from director.models import limits_of

    if goal.resolution != "auto":
        return goal
    motion = providers.backends.motion
    own = limits_of(motion.model).default_resolution if charges(motion) and goal.motion != "still" else None
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
class _Job:
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


class Lifecycle:
    """make / resume / say / replay / fork / cancel over one workspace, shared by every face.

    With an executor, background runs go to its workers (the HTTP server's pool);
    without one each gets its own thread.
    """

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

    # -- choosing ----------------------------------------------------------------
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
        if self.settings.ray():  # tool calls become Ray tasks; rate limits and budgets go cluster-wide
            from director import cluster

            cluster.connect(self.settings.ray())
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

    # -- making ------------------------------------------------------------------
    def make(self, goal: str, *, on_event: OnEvent | None = None, background: bool = True, face: str = "python",
             **options: Any) -> Run:
        """Begin a run from a goal with the make options (director.options.MakeOptions, by keyword). Bad input
        raises InputError here, before anything is written; face names the options as that face spells them.

        backend overrides this Lifecycle's choice for this run (the server's per-request choice)."""
        opts = MakeOptions.check(options, face=face)
        sources, title, plot = opts.sources, opts.title, opts.plot
        opts.mode_check("trailer" if sources else "story", face)
        if opts.tier is None:
            opts = opts.model_copy(update={"tier": self.settings.tier})
        early: list[Event] = []
        if sources:
            spec = make_trailer_goal(goal, opts)
        else:
            spec = make_goal(goal, opts, default_scenes=self.settings.default_scenes)
        run_id = opts.run_id
        budget = opts.budget if opts.budget is not None else self.settings.budget_usd
        backend = opts.backend if "backend" in opts.model_fields_set else None
        family, reason = choose_family(self.settings, backend or self.requested_backend)
        board = None

        def warn(message: str) -> None:
            event = {"type": "warning", "message": message}
            early.append(event)
            if on_event:
                on_event(event)

        if sources:
            from director.sources import load_sources

            footage = load_sources(sources, title=title, plot=plot, warn=warn)
            titles = list(dict.fromkeys(f.title for f in footage))
            board = Storyboard(title=title or " & ".join(titles),
                               art_style=f"{spec.style} (prompts/styles/{spec.style}.md)", footage=footage)
        session = self._session(family, voice=spec.voice, goal=spec)
        spec = resolved(spec, session.providers)
        run_id = run_id or new_run_id()
        if session.catalog.get_run(run_id) is not None:
            raise RunStateError(f"run {run_id!r} already exists; pick another --run-id")
        notes = getattr(session.providers.backends.story, "notes", None)
        if notes is not None and not sources:  # what the writer will not do with this goal, said up front
            for line in notes(spec.text):
                warn(line)
        default_cap = budget is None and session.providers.paid
        if default_cap:
            budget = self.settings.default_budget_usd  # no surprise bills: a quote past it asks first
        options = {"goal": spec.model_dump(), "fallback": self.settings.fallback, "default_cap": default_cap,
                   "board": board.model_dump(mode="json") if board is not None else None}
        session.catalog.create_run(RunRow(
            id=run_id, goal=spec.text, options_json=json.dumps(options), backend=family, pid=os.getpid(), host=socket.gethostname(),
            budget_usd=budget))
        lease = Lease(session.catalog, run_id, "make").acquire()
        state = DirectorState(run_id=run_id, goal=spec, storyboard=board,
                              messages=[Message(role="user", text=spec.text, intent="goal")])
        quote = self._runner(session, BudgetGuard(None, 0.0)).quote_plan(state) if session.providers.paid else None
        header = {"reason": reason, "scenes": spec.scenes, "aspect": spec.aspect, "notes": session.providers.notes,
                  "mode": spec.mode, "quote": quote, "default_cap": default_cap}
        # The warnings went to on_event as they happened; the rest of the log goes now.
        return self._continue(lease, run_id, Continuation(session, state, budget, header), on_event,
                              background=background, early=early)

    def resume(self, run_id: str, *, budget: float | None = None, approve: str | None = None,
               on_event: OnEvent | None = None, background: bool = False, wait: bool = False,
               retry_unsure: bool = False) -> Run:
        """Finish a stopped run: killed, over budget, failed scenes, or waiting for approval.

        approve answers the approval gate: "yes", "no", or a change in words.
        Completed calls are reused, never paid for again. A run another command holds
        raises RunBusy, unless wait=True, which queues behind it.
        """
        if budget is not None and budget < 0:
            raise InputError(f"budget must be zero or more dollars (got {budget})")
        if retry_unsure:  # the user's word: the starts that were never answered may be sent again
            self._catalog().drop_unsure_jobs(run_id)
        return self._holding(run_id, "resume", wait, on_event, background,
                             lambda lease: self._resume(lease, run_id, budget=budget, approve=approve))

    def say(self, run_id: str, message: str, *, on_event: OnEvent | None = None, background: bool = False,
            wait: bool = False) -> Run:
        """Tell a stopped run what to change; only what the change touches is made again."""
        message = " ".join((message or "").split())
        if not message:
            raise InputError("the message is empty")
        return self._holding(run_id, "say", wait, on_event, background, lambda lease: self._say(lease, run_id, message))

    def replay(self, run_id: str, checkpoint_id: str | None = None, *, on_event: OnEvent | None = None,
               background: bool = False, wait: bool = False) -> Run:
        """Run again from a checkpoint (default: the first step). With nothing changed, every call is reused."""
        return self._holding(run_id, "replay", wait, on_event, background,
                             lambda lease: self._replay(run_id, checkpoint_id))

    def fork(self, run_id: str, checkpoint_id: str, *, say: str | None = None, new_run_id: str | None = None,
             on_event: OnEvent | None = None, background: bool = False) -> Run:
        """A new run whose history starts at a checkpoint of another, with a change; assets are shared."""
        catalog = self._catalog()
        catalog.require_run(run_id)
        holder = catalog.lease_of(run_id)
        if holder is not None and holder.expires > time.time() and holder_alive(holder):
            raise RunBusy(lease_busy(run_id, holder))
        check_run_id(new_run_id)
        new_id = new_run_id or new_run_id_for(run_id)
        if catalog.get_run(new_id) is not None:
            raise RunStateError(f"run {new_id!r} already exists; pick another --run-id")
        lease, cont = self._fork(run_id, checkpoint_id, new_id, " ".join((say or "").split()))
        try:
            return self._continue(lease, new_id, cont, on_event, background=background)
        except BaseException:
            lease.release()
            raise

    def cancel(self, run_id: str) -> Run | None:
        """Stop a run: one this process drives stops at its next step (what finished is kept);
        one paused at the gate is answered no; one no process drives is marked cancelled.
        Returns the live Run when this process drives it (its events follow the stop)."""
        with self._active_lock:
            live = self._active.get(run_id)
        if live is not None and not live.finished:
            live.cancelling.set()
            if not live.working.is_set():
                # Still in the queue: it is cancelled now (when its turn comes it stops before its first step).
                live.status, live.error = live.stop_as
                self._catalog().update_run(run_id, status=live.stop_as[0], error=live.stop_as[1])
            return live
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        status = effective_status(row, catalog)
        if status == "paused":
            return self.resume(run_id, approve="no")
        if status == "running":
            holder = catalog.lease_of(run_id)
            raise RunBusy(lease_busy(run_id, holder) if holder else f"run {run_id} is running in another process")
        if status in ("done", "cancelled"):
            raise RunStateError(f"run {run_id} is {status}: there is nothing to cancel")
        lease = Lease(catalog, run_id, "cancel").acquire()
        try:
            catalog.update_run(run_id, status="cancelled", error="cancelled by the user")
        finally:
            lease.release()
        return None

    def stop_all(self, status: str = "interrupted", reason: str = "the server stopped; resume the run to go on",
                 *, grace: float | None = None, kill: bool = False) -> list[Run]:
        """Stop every run this process drives (a server shutting down): each keeps its last checkpoint
        and is marked `status`, so a later resume continues it. Returns them, to wait on.

        With `grace`, waits that long for them to reach their next step; one still inside a step is marked
        `status` in the catalog there and then (its finished tool calls are kept, the step runs again on
        resume), and with `kill` its encodes are stopped, since the process is about to end."""
        with self._active_lock:
            runs = [r for r in self._active.values() if not r.finished]
        for run in runs:
            run.stop_as = (status, reason)
            run.cancelling.set()
        if grace is None or not runs:
            return runs
        deadline = time.monotonic() + grace
        stuck = [r for r in runs if not r.wait_quietly(max(0.0, deadline - time.monotonic()))]
        if stuck and kill:
            from director.media import kill_children

            kill_children()
        catalog = self._catalog() if stuck else None
        for run in stuck:
            with suppress(*DATABASE_ERRORS):  # then the dead pid tells the same (effective_status)
                if run.working.is_set():
                    catalog.update_run(run.id, status=status, error=reason)
                    if kill:  # the process ends now: its followers hear it from here
                        catalog.add_event(run.id, {"type": "run_finished", "run_id": run.id, "status": status,
                                                   "error": reason, "final": ""})
        return runs

    # -- where each command goes on from -------------------------------------------
    def _holding(self, run_id: str, command: str, wait: bool, on_event: OnEvent | None, background: bool,
                 prepare: Callable[[Lease], Continuation | Run]) -> Run:
        """Take the run's lease, work out the continuation, and go on; the job releases the lease when it stops."""
        catalog = self._catalog()
        catalog.require_run(run_id)
        tell = (lambda line: on_event({"type": "warning", "message": line})) if on_event else None
        lease = Lease(catalog, run_id, command).acquire(wait=wait, on_wait=tell)
        try:
            cont = prepare(lease)
            if isinstance(cont, Run):  # nothing to do: the answer is already known
                lease.release()
                for event in list(cont._log) if on_event else []:
                    on_event(event)
                return cont
            return self._continue(lease, run_id, cont, on_event, background=background)
        except BaseException:
            lease.release()  # nothing was launched, or it already released it: either way, free the run
            raise

    def _resume(self, lease: Lease, run_id: str, *, budget: float | None, approve: str | None) -> Continuation | Run:
        from langgraph.types import Command

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        limit = budget if budget is not None else row.budget_usd
        config = {"configurable": {"thread_id": run_id}}
        graph_input: Any = None
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            try:
                snapshot = graph.get_state(config)
            except ValidationError:  # a checkpoint without a whole state (left by an older version): start again
                snapshot = None
            if not started(snapshot):
                # Killed before its first step finished: no step's work is in its checkpoints (what
                # tools finished is in the memo), so they are dropped and it starts again from the goal.
                state = self._initial_state(row)
                graph_input = state
                snapshot = None
            else:
                state = DirectorState.model_validate(snapshot.values)
            waiting = bool(snapshot and snapshot.interrupts)
            asked = snapshot.interrupts[0].value if waiting and isinstance(snapshot.interrupts[0].value, dict) else {}
            if waiting and approve is None and budget is not None and asked.get("cap_usd") is not None \
                    and not state.goal.approve:
                approve = "yes"  # it stopped only for the default cap; a chosen budget now governs
            if waiting and approve is None:
                raise RunStateError(f"run {run_id} is waiting for approval: director resume {run_id} --approve yes|no")
            if approve is not None and not waiting:
                raise RunStateError(f"run {run_id} is not waiting for approval")
            if waiting:
                if approve.strip().lower() not in ("yes", "y", "no", "n", "ok", "approve", "cancel", "stop", "go"):
                    self._check_revision(session, state, approve)
                graph_input = Command(resume=approve)
            elif snapshot is None:
                saver.delete_thread(run_id)  # only now, once the command is known to go ahead
            elif not snapshot.next and state.status == "done":
                run = Run(run_id, self.workspace.root)
                self._settle(session, run, state.model_dump(), 0)
                run._emit({"type": "run_finished", "run_id": run_id, "status": "done", "final": str(run.final),
                           "executed": 0, "reused": 0, "failed": 0, "error": None, "note": "already done"})
                run._close()
                return run
            elif not snapshot.next:
                # It ended failed or cancelled: clear the scene errors and hand it back to the brain,
                # which asks only for what is missing; everything made before is reused.
                board = state.storyboard.model_copy(deep=True) if state.storyboard else None
                retry = [s.index for s in board.scenes if s.errors] if board else []
                for s in board.scenes if board else []:
                    s.errors.clear()
                note = (f"Resume: retry scenes {retry}; keep everything that is already made." if retry
                        else "Resume: finish the video; keep everything that is already made.")
                graph.update_state(config, {"status": "running", "error": None, "storyboard": board, "outputs": {},
                                            "messages": [Message(role="user", text=note, intent="resume")]},
                                   as_node="tools")
        update: dict[str, Any] = {"budget_usd": limit}
        if budget is not None:  # the user chose a budget: it replaces the default cap
            update["options_json"] = json.dumps({**json.loads(row.options_json or "{}"), "default_cap": False})
        header = {"reason": "resumed", "scenes": state.goal.scenes, "aspect": state.goal.aspect,
                  "notes": session.providers.notes, "mode": state.goal.mode}
        return Continuation(session, graph_input, limit, header, row=update)

    def _say(self, lease: Lease, run_id: str, message: str) -> Continuation | Run:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        config = {"configurable": {"thread_id": run_id}}
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshot = graph.get_state(config)
            if not snapshot.values:
                raise RunStateError(f"run {run_id} has no checkpoints")
            if snapshot.interrupts:
                return self._resume(lease, run_id, budget=None, approve=message)
            if snapshot.next:
                raise RunStateError(f"run {run_id} did not finish; resume it first (director resume {run_id})")
            state = DirectorState.model_validate(snapshot.values)
            self._check_revision(session, state, message)
            graph.update_state(config, self._revision_update(message), as_node="tools")
        return Continuation(session, None, row.budget_usd, {"reason": f"revision: {message}", **self._shape(state)})

    def _replay(self, run_id: str, checkpoint_id: str | None) -> Continuation:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
        if not snapshots:
            raise RunStateError(f"run {run_id} has no checkpoints")
        if checkpoint_id is None:
            target = next((s for s in reversed(snapshots) if s.next and s.next != ("__start__",)), snapshots[-1])
        else:
            target = self._find_checkpoint(snapshots, run_id, checkpoint_id)
        if not target.next:
            raise InputError(f"checkpoint {checkpoint_id} is the end of run {run_id}: nothing to replay after it")
        whole = started(target)
        state = DirectorState.model_validate(target.values) if whole else self._initial_state(row)
        config = dict(target.config["configurable"])
        graph_input: Any = None
        approved = any((s.values or {}).get("approvals") for s in snapshots)
        if not whole:  # from before the first step: the run starts again from its goal
            graph_input = state.model_copy(update={"approved": approved, "approvals": int(approved)})
        elif approved and not state.approved:
            # The user already approved this run's paid steps: a replay does not ask again.
            with open_checkpointer(self.workspace) as saver:
                graph = self._build(session, saver, BudgetGuard(None, 0.0))
                config = dict(graph.update_state(target.config, {"approved": True, "approvals": max(
                    1, state.approvals)})["configurable"])
        header = {"reason": f"replay from {target.config['configurable']['checkpoint_id']}", **self._shape(state)}
        return Continuation(session, graph_input, row.budget_usd, header, config=config)

    def _fork(self, run_id: str, checkpoint_id: str, new_id: str, say: str) -> tuple[Lease, Continuation]:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        from director.revisions import goal_change

        message = say
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
            source = self._find_checkpoint(snapshots, run_id, checkpoint_id)
            whole = started(source)
            # A checkpoint from before the first step holds no state yet: the fork starts from the goal.
            state = DirectorState.model_validate(source.values) if whole else self._initial_state(row)
            options_json, regoal = row.options_json, False
            if message and (state.storyboard is None or not state.storyboard.scenes) and \
                    (early := goal_change(message)) is not None:
                # Before the story: a change of the goal itself (frame shape, voice, music, captions, cards,
                # transitions) is made to the goal, and the run goes on from there as it would have.
                check_voice(session.backends.voice, early.get("voice"))
                state = state.model_copy(update={"goal": state.goal.model_copy(update=early)})
                options = json.loads(row.options_json or "{}")
                if "goal" in options:
                    options["goal"] = state.goal.model_dump(mode="json")
                    options_json = json.dumps(options)
                message, regoal = "", True
            change = self._check_revision(session, state, message) if message else None
            values = state.model_dump()
            values.update(run_id=new_id, status="running", error=None, outputs={})
            values["messages"] = [Message.model_validate(m) for m in values["messages"]]
            if message or regoal:
                if message:
                    values["messages"].append(Message(role="user", text=message, intent="revision"))
                values["approved"] = False
                as_node = "tools"  # the brain reads the change (or plans for the changed goal) next
            else:
                as_node = {("tools",): "gate", ("gate",): "brain", ("finish",): "brain"}.get(tuple(source.next), "tools")
            if tuple(source.next) == ("finish",):
                values["calls"] = []  # as if the brain had just planned nothing more: on to publishing
            # (A fork at the gate keeps its batch: as if the brain had just asked for it, so the gate sees it.)
            catalog.create_run(RunRow(id=new_id, goal=row.goal, options_json=options_json, backend=row.backend,
                                      pid=os.getpid(), host=socket.gethostname(), budget_usd=row.budget_usd, parent_run=run_id,
                                      parent_checkpoint=source.config["configurable"]["checkpoint_id"]))
            lease = Lease(catalog, new_id, "fork").acquire()
            graph_input: Any = None
            if whole:
                graph.update_state({"configurable": {"thread_id": new_id}}, values, as_node=as_node)
            else:
                graph_input = DirectorState.model_validate(values)
        header = {"reason": f"fork of {run_id} at {checkpoint_id}" + (f": {say}" if say else ""),
                  **self._shape(state, change)}
        return lease, Continuation(session, graph_input, row.budget_usd, header)

    @staticmethod
    def _shape(state: DirectorState, change: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a run header shows: scenes, aspect and mode as the state (and a pending change) has them."""
        board = state.storyboard
        scenes = len(board.scenes) if board is not None and board.scenes else state.goal.scenes
        aspect = (change or {}).get("aspect") or (board.aspect if board else None) or state.goal.aspect
        return {"scenes": scenes, "aspect": aspect, "mode": state.goal.mode, "notes": []}

    # -- the one continuation path ---------------------------------------------------
    def _continue(self, lease: Lease, run_id: str, cont: Continuation, on_event: OnEvent | None, *,
                  background: bool, early: list[Event] | None = None) -> Run:
        """Mark the run running in this process, announce it, and drive the graph from `cont`."""
        catalog = cont.session.catalog
        catalog.update_run(run_id, status="running", error=None, pid=os.getpid(), host=socket.gethostname(),
                           **cont.row)
        run = Run(run_id, self.workspace.root)
        for event in early or []:
            run._emit(event)
        run._emit({"type": "run_started", "run_id": run_id, "backend": cont.session.family,
                   "workspace": str(self.workspace.root), "budget_usd": cont.budget, **cont.header})
        job = _Job(cont.session, run, cont.graph_input, cont.budget, config=cont.config, lease=lease)
        return self._launch(job, on_event, background=background, deliver_from=len(early or []))

    # -- the engine --------------------------------------------------------------
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

        brain = session.providers.brain
        runner = self._runner(session, budget, stop)
        publisher = Publisher(self.workspace, session.store, session.catalog, session.settings, session.backends, brain)
        return build_graph(brain=brain, runner=runner, finish=publisher, checkpointer=checkpointer)  # type: ignore[arg-type]

    def _runner(self, session: Session, budget: BudgetGuard, stop: threading.Event | None = None) -> Any:
        from director.runner import Runner
        from director.tools import registry

        submit = None
        if self.settings.ray():
            from director.tasks import submit
        return Runner(settings=session.settings, backends=session.backends, store=session.store,
                      catalog=session.catalog, tools=registry(), prices=session.prices, budget=budget, stop=stop,
                      cluster=submit, family=session.family)

    def _launch(self, job: _Job, on_event: OnEvent | None, *, background: bool, deliver_from: int = 0) -> Run:
        run = job.run
        if on_event is not None:
            for event in list(run._log)[deliver_from:]:
                on_event(event)

        catalog = job.session.catalog

        def persist(event: Event) -> None:
            # Every event is also a catalog row, so any process can follow the run (never fatal).
            try:
                catalog.add_event(run.id, event)
            except (*DATABASE_ERRORS, OSError):
                log.debug("could not record an event of run %s", run.id, exc_info=True)

        for event in list(run._log):
            persist(event)

        def emit(event: Event) -> None:
            run._emit(event)
            persist(event)
            if on_event is not None:
                on_event(event)

        def work() -> None:
            run.working.set()
            try:
                self._drive(job, emit)
            except BaseException as exc:  # handed to wait(), which re-raises it in the caller's thread
                run.exception = exc
            finally:
                if job.lease is not None:
                    job.lease.release()
                with self._active_lock:
                    if self._active.get(run.id) is run:
                        del self._active[run.id]
                run._close()

        with self._active_lock:
            self._active[run.id] = run
        if background:
            if self.executor is not None:
                emit({"type": "queued", "run_id": run.id})
                try:
                    self.executor.submit(work)
                except RuntimeError:  # the pool is shut down: the server is stopping
                    run.stop_as = ("interrupted", "the server was stopping; resume the run to go on")
                    run.cancelling.set()
                    work()  # stops before its first step, releases the lease and says so
            else:
                threading.Thread(target=work, name=f"director-{run.id}", daemon=True).start()
            return run
        work()
        return run.wait()  # what stopped a blocking call is raised to its caller, never swallowed

    def _drive(self, job: _Job, emit: OnEvent) -> None:
        from langgraph.errors import GraphRecursionError

        session, run = job.session, job.run
        config = {"configurable": {"thread_id": run.id, **job.config}, "recursion_limit": self.settings.max_steps}
        options = json.loads(session.catalog.require_run(run.id).options_json or "{}")
        guard = BudgetGuard(job.budget, session.catalog.run_spend(run.id), default=bool(options.get("default_cap")))
        if self.settings.ray():
            guard.share(run.id)  # one account for the run, whichever process reserves from it
        mark = session.catalog.last_call_id()
        try:
            with open_checkpointer(self.workspace) as saver, stop_on_signals():
                graph = self._build(session, saver, guard, run.cancelling)
                stream = () if run.cancelling.is_set() else graph.stream(  # stopped before its turn came
                    job.graph_input, config, stream_mode=["custom", "updates"])
                try:
                    for mode, chunk in stream:
                        if run.cancelling.is_set():
                            break  # the last checkpoint stays; what finished is in the memo
                        if mode == "custom":
                            emit(chunk)
                        elif "__interrupt__" in chunk:
                            value = chunk["__interrupt__"][0].value
                            emit({"type": "interrupt", "run_id": run.id, **(value if isinstance(value, dict) else {})})
                        else:
                            for node in chunk:
                                emit({"type": "checkpoint", "node": node})
                finally:
                    # A stream left early still has checkpoint writes in flight on its own threads: closing
                    # it waits for them, before the connection they write to is closed (or sqlite crashes).
                    getattr(stream, "close", lambda: None)()
                snapshot = graph.get_state({"configurable": {"thread_id": run.id}})
            if run.cancelling.is_set():
                self._mark(session, run, *run.stop_as)
                self._settle(session, run, {"status": run.stop_as[0], "error": run.error,
                                            "outputs": dict(snapshot.values).get("outputs")}, mark)
                emit(self._finished(run))
                return
        except GraphRecursionError:
            self._mark(session, run, "failed", "too many steps")
            raise DirectorError(
                f"run {run.id} took more than {self.settings.max_steps} steps; raise DIRECTOR_MAX_STEPS "
                f"and run `director resume {run.id}`"
            ) from None
        except DirectorError as exc:
            # The checkpoint before the failing step is intact: say how to go on from it.
            stopped = isinstance(exc, BudgetExceeded)
            message = self.settings.redact(str(exc))
            self._mark(session, run, "stopped" if stopped else "failed", message)
            hint = f"director resume {run.id} --budget <more>" if stopped else f"director resume {run.id}"
            exc.args = (f"{message}. Run {run.id} is saved: {hint}",)
            raise
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: stop the encodes, keep the last checkpoint, leave the run resumable.
            from director.media import kill_children

            kill_children()
            self._mark(session, run, "interrupted", "interrupted by Ctrl-C or SIGTERM")
            raise Interrupted(f"interrupted: director resume {run.id}") from None
        except Exception as exc:
            if run.cancelling.is_set():  # the stop came first: what broke after it (killed encodes) is its doing
                self._mark(session, run, *run.stop_as)
                emit(self._finished(run))
                return
            if not (disk_full(exc) or isinstance(exc, DATABASE_ERRORS)):
                self._mark(session, run, "failed", scrub(f"{type(exc).__name__}: {exc}"))
                raise
            # A full disk or a broken database: one line that names the file, the run left resumable.
            problem = storage_error(exc, self.workspace)
            self._mark(session, run, "failed", str(problem))
            raise StorageError(f"{problem}. Run {run.id} is saved: director resume {run.id}") from None
        values = dict(snapshot.values)
        if snapshot.interrupts:
            value = snapshot.interrupts[0].value
            run.interrupt = value if isinstance(value, dict) else {"ask": str(value)}
            values["status"] = "paused"
            session.catalog.update_run(run.id, status="paused", error=None)
        self._settle(session, run, values, mark)
        emit(self._finished(run))

    @staticmethod
    def _finished(run: Run) -> Event:
        return {"type": "run_finished", "run_id": run.id, "status": run.status, "final": str(run.final or ""),
                "executed": run.executed, "reused": run.reused, "failed": run.failed, "error": run.error,
                "cost_usd": run.cost_usd, "interrupt": run.interrupt}

    @staticmethod
    def _mark(session: Session, run: Run, status: str, error: str) -> None:
        """Record why a run stopped; on a full disk or a broken database the row may not take it,
        and then the dead process's run reads as interrupted (effective_status)."""
        run.status, run.error = status, error
        try:
            session.catalog.update_run(run.id, status=status, error=error)
        except (*DATABASE_ERRORS, OSError):
            log.warning("could not record that run %s stopped (%s)", run.id, status)

    def _settle(self, session: Session, run: Run, values: dict[str, Any], mark: int) -> None:
        """Fill the Run from the final state and the calls this invocation made."""
        row = session.catalog.require_run(run.id)
        calls = [c for c in session.catalog.run_calls(run.id) if c.tool != "brain" and (c.id or 0) > mark]
        run.goal, run.backend = row.goal, row.backend
        run.status = values.get("status", row.status)
        run.error = values.get("error") or row.error
        if run.status not in ("done", "paused") and not run.error:
            # Every stop says why; a run that ended with no recorded reason says that much, with the way on.
            run.error = f"the run ended as {run.status} with no reason recorded; director resume {run.id} goes on"
        run.outputs = {name: self.workspace.abspath(rel) for name, rel in (values.get("outputs") or {}).items()}
        run.executed = sum(1 for c in calls if not c.reused and c.error is None)
        run.reused = sum(1 for c in calls if c.reused)
        run.failed = sum(1 for c in calls if c.error)
        run.cost_usd = round(session.catalog.run_spend(run.id), 6)

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

    # -- checks ------------------------------------------------------------------
    def _find_checkpoint(self, snapshots: list[Any], run_id: str, checkpoint_id: str) -> Any:
        for snap in snapshots:
            if snap.config["configurable"]["checkpoint_id"] == checkpoint_id:
                return snap
        raise InputError(f"run {run_id} has no checkpoint {checkpoint_id!r} (see director history {run_id})")

    def _check_revision(self, session: Session, state: DirectorState, message: str) -> dict[str, Any] | None:
        """With the local brain, a revision must parse: a bad one changes nothing (InputError).

        Returns the parsed change (None with a model brain, which reads the words itself)."""
        from director.brain.local import LocalBrain
        from director.revisions import HELP, parse

        if not isinstance(session.providers.brain, LocalBrain):
            return None
        if state.storyboard is None or not state.storyboard.scenes:
            raise InputError(f"that point of run {state.run_id} comes before the story exists: only the frame shape, "
                             f"voice, music, captions, cards or transitions can change there; for the rest, fork from "
                             f"a later checkpoint (see director history {state.run_id})")
        change = parse(message, state.storyboard)
        if change is None:
            raise InputError(f"I can't do that offline: {message!r}. {HELP}")
        check_voice(session.backends.voice, change.get("voice"))
        return change

    @staticmethod
    def _revision_update(message: str) -> dict[str, Any]:
        return {"status": "running", "error": None, "outputs": {}, "approved": False, "calls": [],
                "messages": [Message(role="user", text=message, intent="revision")]}

    # -- looking -----------------------------------------------------------------
    def _catalog(self) -> Catalog:
        """The catalog for reading; never creates a database."""
        return Catalog.open(self.workspace, create=False)

    def health(self) -> dict[str, Any]:
        """Whether this process can reach what runs need: the database, the asset store and the cluster.
        Each part says ok and where, never a password; `ok` is all of them."""
        from director import cluster

        parts: dict[str, dict[str, Any]] = {}
        try:
            catalog = Catalog.open(self.workspace, create=True)
            with catalog.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            parts["database"] = {"ok": True, "engine": catalog.engine.dialect.name, "where": self.workspace.where}
        except (DirectorError, *DATABASE_ERRORS, OSError) as exc:
            parts["database"] = {"ok": False, "where": self.workspace.where, "error": scrub(str(exc).splitlines()[0])}
            catalog = None
        url = self.workspace.assets_url
        try:
            if url and catalog is not None:
                # A lookup of a name nobody uses: the store is reachable and lets us in.
                AssetStore(self.workspace, catalog).shared.size("assets/00/health-probe")  # type: ignore[union-attr]
            elif not url:
                self.workspace.prepare()
            parts["assets"] = {"ok": True, "kind": url.split("://")[0] if url else "local",
                               "where": url or str(self.workspace.assets_dir)}
        except (DirectorError, OSError) as exc:
            parts["assets"] = {"ok": False, "where": url or str(self.workspace.assets_dir),
                               "error": scrub(str(exc).splitlines()[0])}
        address = self.settings.ray()
        if address is None:
            parts["cluster"] = {"ok": True, "executor": "local", "render_jobs": self.settings.render_jobs}
        else:
            try:
                cluster.connect(address)
                import ray

                nodes = [n for n in ray.nodes() if n.get("Alive")]
                cpus = sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)
                parts["cluster"] = {"ok": cpus > 0, "executor": "ray", "address": address, "nodes": len(nodes),
                                    "cpus": cpus, **({} if cpus > 0 else {"error": "no node offers a CPU"})}
            except DirectorError as exc:
                parts["cluster"] = {"ok": False, "executor": "ray", "address": address, "error": str(exc)}
        return {"ok": all(p["ok"] for p in parts.values()), **parts}

    def store(self) -> AssetStore:
        """The asset store for reading: path() fetches from a shared store what this machine has not cached."""
        return AssetStore(self.workspace, self._catalog())

    def runs_row(self, run_id: str) -> dict[str, Any]:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        return {"id": row.id, "status": effective_status(row, catalog), "goal": row.goal}

    def runs(self) -> list[dict[str, Any]]:
        catalog = self._catalog()
        return [
            {"id": r.id, "goal": r.goal, "status": effective_status(r, catalog), "created": r.created.isoformat(timespec="seconds"),
             "backend": r.backend, "final": r.final_path, "error": r.error, "parent": r.parent_run,
             "parent_checkpoint": r.parent_checkpoint, "cost_usd": round(catalog.run_spend(r.id), 4),
             "budget_usd": r.budget_usd}
            for r in catalog.list_runs()
        ]

    def events(self, run_id: str, *, after: int = 0) -> list[Event]:
        """A run's progress events as recorded in the catalog (from any process), numbered by "seq"."""
        catalog = self._catalog()
        catalog.require_run(run_id)
        return catalog.events(run_id, after=after)

    def latest(self, run_id: str) -> tuple[DirectorState | None, dict[str, Any] | None]:
        """The run's state at its newest checkpoint (None before its first step) and what it asks,
        if it waits at the approval gate."""
        from director.graph import build_graph

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        with open_checkpointer(self.workspace, readonly=catalog.readonly) as saver:
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            try:
                snapshot = graph.get_state({"configurable": {"thread_id": run_id}})
            except ValidationError:
                snapshot = None
        if not started(snapshot):
            options = json.loads(row.options_json or "{}")
            return (self._initial_state(row) if "goal" in options else None), None
        asked = None
        if snapshot.interrupts and effective_status(row, catalog) == "paused":
            value = snapshot.interrupts[0].value
            asked = value if isinstance(value, dict) else {"ask": str(value)}
        return DirectorState.model_validate(snapshot.values), asked

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """Checkpoints of a run, newest first (id, parent, step, node, what changed), with its forks."""
        from director.graph import build_graph
        from director.history import describe_history

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        with open_checkpointer(self.workspace, readonly=catalog.readonly) as saver:
            # Only the state schema matters for reading checkpoints; nothing runs.
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
        rows = describe_history(snapshots)
        forks: dict[str, list[str]] = {}
        for child in catalog.list_runs():
            if child.parent_run == run_id and child.parent_checkpoint:
                forks.setdefault(child.parent_checkpoint, []).append(child.id)
        for r in rows:
            r["forks"] = sorted(forks.get(r["checkpoint"], []))
        if row.parent_run:
            rows.append({"checkpoint": row.parent_checkpoint, "parent": None, "step": None, "node": "fork",
                         "created": row.created.isoformat(), "next": [], "forks": [],
                         "change": f"forked from run {row.parent_run} at checkpoint {row.parent_checkpoint}"})
        return rows
