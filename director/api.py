"""The Python API. The CLI is a thin layer over this.

    from director import Director
    director = Director(workspace="~/.director")
    run = director.submit("a 3-scene bedtime story about a cat and a dog")
    print(run.status, run.final)

    run = director.start("a fox in the snow", approve=True)     # in the background
    for event in run.events():                                 # live progress
        print(event["type"])
    director.resume(run.id, approve="yes")                     # past the approval gate
    director.say(run.id, "make scene 2 at night")              # a revision: only scene 2 is redone
    director.fork(run.id, checkpoint_id, say="now 9:16")       # a variant, sharing every asset
"""

from __future__ import annotations

import asyncio
import json
import logging
import lzma
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from director.backends import Backends, Providers, build_providers, check_voice, choose_family
from director.config import Settings, load_settings
from director.errors import BudgetExceeded, DirectorError, InputError, Interrupted, StorageError
from director.lease import Lease, RunBusy, holder_alive, pid_alive
from director.lease import describe as lease_busy
from director.limits import BudgetGuard, Limits, Prices
from director.secrets import scrub
from director.state import ASPECT_SIZES, MOTION_CHOICES, DirectorState, Goal, Message, Storyboard
from director.store import (SQLITE_TIMEOUT_S, AssetStore, Catalog, RunRow, Workspace, disk_full, sqlite_pragmas,
                            storage_error)

log = logging.getLogger(__name__)

Event = dict[str, Any]
OnEvent = Callable[[Event], None]

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # used with fullmatch: no trailing newline
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
SCENES_IN_GOAL = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*(?:scenes?|shots?|parts?)\b", re.I)
MAX_SCENES = 50
MAX_SEED = 2**31 - 1  # the models' seed fields are int32
TRAILER_SCENES = 6


def scenes_from_goal(text: str) -> int | None:
    """'a 5-scene story' -> 5; 'in three scenes' -> 3; None when the goal does not say."""
    m = SCENES_IN_GOAL.search(text)
    if not m:
        return None
    word = m.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def make_goal(
    text: str,
    *,
    scenes: int | None,
    aspect: str,
    seed: int,
    voice: str | None,
    default_scenes: int,
    approve: bool = False,
    motion: str = "auto",
) -> Goal:
    """Validate what the user asked for; InputError names the problem in one line."""
    text = " ".join((text or "").split())
    if not text:
        raise InputError("the goal is empty: say what the video should be about")
    if len(text) > 2000:
        raise InputError(f"the goal is {len(text)} characters long; keep it under 2000")
    if scenes is None:
        scenes = scenes_from_goal(text) or default_scenes
    if not 1 <= scenes <= MAX_SCENES:
        raise InputError(f"scenes must be between 1 and {MAX_SCENES} (got {scenes})")
    if aspect not in ASPECT_SIZES:
        raise InputError(f"unknown aspect {aspect!r}: use one of {', '.join(ASPECT_SIZES)}")
    if motion not in MOTION_CHOICES:
        raise InputError(f"unknown motion {motion!r}: use one of {', '.join(MOTION_CHOICES)}")
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED} (got {seed})")
    return Goal(text=text, scenes=scenes, aspect=aspect, seed=seed, voice=voice, approve=approve,  # type: ignore[arg-type]
                motion=motion)  # type: ignore[arg-type]


def make_trailer_goal(
    text: str,
    *,
    scenes: int | None,
    aspect: str,
    seed: int,
    voice: str | None,
    style: str | None,
    audio: str | None,
    approve: bool = False,
    motion: str = "auto",
) -> Goal:
    """A trailer goal: style from --style or the goal's words (default diorama), sound, scene cap."""
    from director.tools.describe_frame import styles

    known = styles()
    words = set(re.findall(r"[a-z]+", (text or "").lower()))
    style = style or next((s for s in known if s in words), None) or "diorama"
    if style not in known:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(known)} (files in prompts/styles/)")
    audio = audio or "narration"
    if audio not in ("narration", "source", "mix"):
        raise InputError(f"unknown audio {audio!r}: use narration, source or mix")
    goal = make_goal(text or f"a {style} trailer", scenes=scenes, aspect=aspect, seed=seed, voice=voice,
                     default_scenes=TRAILER_SCENES, approve=approve, motion=motion)
    return goal.model_copy(update={"mode": "trailer", "style": style, "audio": audio})


def new_run_id() -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class CheckpointCodec:
    """Compression as the byte transform of langgraph's EncryptedSerializer.

    SqliteSaver writes the whole state on every super-step. xz (LZMA) shrinks
    a 40-scene state from 106 KB to 16 KB where zlib gets 21 KB: its window
    spans the whole state, so the prompts in the tool calls find their twins
    in the storyboard. It costs about 35 ms per 100 KB. EncryptedSerializer is
    langgraph's one pluggable byte transform that keeps the strict-msgpack
    allowlist working, so compression rides on it; rows without a "+codec"
    suffix in their type still load.
    """

    name = "xz"

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return self.name, lzma.compress(plaintext, preset=6)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername == self.name:
            return lzma.decompress(ciphertext)
        raise ValueError(f"checkpoint written with {ciphername!r}, which this Director cannot read")


@contextmanager
def open_checkpointer(workspace: Workspace, *, readonly: bool = False) -> Iterator[Any]:
    """SqliteSaver on <workspace>/director.db (WAL, busy timeout, xz), closed afterwards.

    readonly opens it without locks or WAL files, for a workspace this process may not write."""
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite import SqliteSaver

    if readonly:
        conn = sqlite3.connect(f"file:{workspace.db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(workspace.db_path, check_same_thread=False, timeout=SQLITE_TIMEOUT_S)
        sqlite_pragmas(conn)
    try:
        saver = SqliteSaver(conn, serde=EncryptedSerializer(CheckpointCodec(), JsonPlusSerializer()))
        saver.is_setup = saver.is_setup or readonly  # the tables exist; creating them would be a write
        yield saver
    finally:
        conn.close()


def started(snapshot: Any) -> bool:
    """Whether a checkpoint holds a whole state. The graph's input checkpoint does not: its values
    are only pending writes (a run killed there never took its first step), so it starts again."""
    if snapshot is None or "goal" not in (snapshot.values or {}) or "run_id" not in (snapshot.values or {}):
        return False
    return (snapshot.metadata or {}).get("source") != "input"


def effective_status(row: RunRow) -> str:
    """'running' only while the process that runs it is alive; otherwise 'interrupted'."""
    if row.status == "running" and not (row.pid == os.getpid() or pid_alive(row.pid)):
        return "interrupted"
    return row.status


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


class Run:
    """A run: its outputs once it stops, and its progress events, live while it runs.

    Run.events() yields every event so far and then, while the run is still going
    (Director.start), waits for the next; on a finished run it replays the log.
    """

    def __init__(self, run_id: str, workspace: Path) -> None:
        self.id = run_id
        self.workspace = workspace
        self.goal = ""
        self.status = "running"
        self.backend = ""
        self.error: str | None = None
        self.outputs: dict[str, Path] = {}
        self.executed = 0
        self.reused = 0
        self.failed = 0
        self.cost_usd = 0.0
        self.interrupt: dict[str, Any] | None = None
        self.exception: BaseException | None = None
        self._log: list[Event] = []
        self._done = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Run({self.id!r}, status={self.status!r}, final={self.final})"

    @property
    def final(self) -> Path | None:
        return self.outputs.get("final.mp4")

    @property
    def run_dir(self) -> Path:
        return self.workspace / "runs" / self.id

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))

    def events(self) -> Iterator[Event]:
        seen = 0
        while True:
            with self._cond:
                while seen >= len(self._log) and not self._done:
                    self._cond.wait()
                batch = self._log[seen:]
                seen = len(self._log)
                finished = self._done
            yield from batch
            if finished and seen >= len(self._log):
                return

    def wait(self) -> Run:
        """Block until the run stops; re-raise what stopped it, if it was an error."""
        if self._thread is not None:
            self._thread.join()
        if self.exception is not None:
            raise self.exception
        return self

    def _emit(self, event: Event) -> None:
        with self._cond:
            self._log.append(event)
            self._cond.notify_all()

    def _close(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify_all()


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


class Director:
    """Make videos from goals, in one workspace."""

    def __init__(
        self,
        workspace: str | Path | None = None,
        *,
        backend: str = "auto",
        settings: Settings | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or load_settings(**overrides)
        self.workspace = Workspace(Path(workspace) if workspace else self.settings.home)
        self.requested_backend = backend
        self.explicit = set(overrides)

    # -- choosing ----------------------------------------------------------------
    def choose_backend(self) -> tuple[str, str]:
        """(family, reason) for this Director's --backend choice."""
        return choose_family(self.settings, self.requested_backend)

    def _session(self, family: str, *, voice: str | None = None) -> Session:
        limits = Limits(rpm=self.settings.rate_limits(), max_attempts=self.settings.max_attempts,
                        backoff_base_s=self.settings.backoff_base_s, backoff_max_s=self.settings.backoff_max_s)
        prices = Prices(self.settings.file_config().get("prices"))
        providers = build_providers(self.settings, family, limits, cache_dir=self.workspace.cache_dir / "runtime")
        check_voice(providers.backends.voice, voice)  # before anything is written
        self.workspace.prepare()
        catalog = Catalog.open(self.workspace, create=True)
        store = AssetStore(self.workspace, catalog)
        return Session(self.workspace, catalog, store, providers, family, limits, prices)

    def _run_session(self, row: RunRow) -> Session:
        """A session for an existing run: its own family and its --fallback, unless overridden now."""
        options = json.loads(row.options_json or "{}")
        if "fallback" not in self.explicit and options.get("fallback"):
            self.settings = self.settings.model_copy(update={"fallback": options["fallback"]})
        return self._session(row.backend)

    # -- making ------------------------------------------------------------------
    def submit(self, goal: str, **options: Any) -> Run:
        """Run a goal to the end (blocking) and return the Run. See start() for the options."""
        return self.start(goal, background=False, **options).wait()

    async def asubmit(self, goal: str, **options: Any) -> Run:
        """submit() for async code: the run goes on a worker thread; events stream through on_event."""
        return await asyncio.to_thread(self.submit, goal, **options)

    def start(
        self,
        goal: str,
        *,
        scenes: int | None = None,
        aspect: str = "16:9",
        seed: int = 0,
        voice: str | None = None,
        run_id: str | None = None,
        budget: float | None = None,
        approve: bool = False,
        sources: list[str] | None = None,
        title: str | None = None,
        plot: str | None = None,
        style: str | None = None,
        audio: str | None = None,
        motion: str = "auto",
        on_event: OnEvent | None = None,
        background: bool = True,
    ) -> Run:
        """Begin a run and return its Run at once (background=True), with live events().

        With sources it is a trailer of them. Bad input raises InputError here,
        before anything is written.
        """
        early: list[Event] = []
        if sources:
            spec = make_trailer_goal(goal, scenes=scenes, aspect=aspect, seed=seed, voice=voice, style=style,
                                     audio=audio, approve=approve, motion=motion)
        else:
            extras = [flag for flag, value in (("--title", title), ("--plot", plot), ("--style", style),
                                               ("--audio", audio)) if value]
            if extras:
                raise InputError(f"{', '.join(extras)} apply to trailers: add --source VIDEO")
            spec = make_goal(goal, scenes=scenes, aspect=aspect, seed=seed, voice=voice,
                             default_scenes=self.settings.default_scenes, approve=approve, motion=motion)
        if run_id is not None and not RUN_ID.fullmatch(run_id):
            raise InputError(f"run id {run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        budget = budget if budget is not None else self.settings.budget_usd
        if budget is not None and budget < 0:
            raise InputError(f"budget must be zero or more dollars (got {budget})")
        family, reason = self.choose_backend()
        board = None
        if sources:
            from director.sources import load_sources

            def warn(message: str) -> None:
                event = {"type": "warning", "message": message}
                early.append(event)
                if on_event:
                    on_event(event)

            footage = load_sources(sources, title=title, plot=plot, warn=warn)
            titles = list(dict.fromkeys(f.title for f in footage))
            board = Storyboard(title=title or " & ".join(titles),
                               art_style=f"{spec.style} (prompts/styles/{spec.style}.md)", footage=footage)
        session = self._session(family, voice=spec.voice)
        run_id = run_id or new_run_id()
        if session.catalog.get_run(run_id) is not None:
            raise InputError(f"run {run_id!r} already exists in {self.workspace.root}; pick another --run-id")
        default_cap = budget is None and session.providers.paid
        if default_cap:
            budget = self.settings.default_budget_usd  # no surprise bills: a quote past it asks first
        options = {"goal": spec.model_dump(), "fallback": self.settings.fallback, "default_cap": default_cap,
                   "board": board.model_dump(mode="json") if board is not None else None}
        session.catalog.create_run(RunRow(
            id=run_id, goal=spec.text, options_json=json.dumps(options), backend=family, pid=os.getpid(),
            budget_usd=budget))
        lease = Lease(session.catalog, run_id, "make").acquire()
        run = Run(run_id, self.workspace.root)
        for event in early:
            run._emit(event)
        state = DirectorState(run_id=run_id, goal=spec, storyboard=board,
                              messages=[Message(role="user", text=spec.text, intent="goal")])
        quote = self._runner(session, BudgetGuard(None, 0.0)).quote_plan(state) if session.providers.paid else None
        run._emit({"type": "run_started", "run_id": run_id, "backend": family, "reason": reason,
                   "workspace": str(self.workspace.root), "scenes": spec.scenes, "aspect": spec.aspect,
                   "notes": session.providers.notes, "budget_usd": budget, "mode": spec.mode,
                   "quote": quote, "default_cap": default_cap})
        # The warnings went to on_event as they happened; the rest of the log goes now.
        return self._launch(_Job(session, run, state, budget, lease=lease), on_event, background=background,
                            deliver_from=len(early))

    def resume(self, run_id: str, *, budget: float | None = None, approve: str | None = None,
               on_event: OnEvent | None = None, background: bool = False, wait: bool = False) -> Run:
        """Finish a stopped run: killed, over budget, failed scenes, or waiting for approval.

        approve answers the approval gate: "yes", "no", or a change in words.
        Completed calls are reused, never paid for again. A run another command holds
        raises RunBusy, unless wait=True, which queues behind it.
        """
        return self._holding(run_id, "resume", wait, on_event, lambda lease: self._resume(
            lease, run_id, budget=budget, approve=approve, on_event=on_event, background=background))

    def _holding(self, run_id: str, command: str, wait: bool, on_event: OnEvent | None,
                 body: Callable[[Lease], Run]) -> Run:
        """Run `body` holding the run's lease; the launched job releases it when it stops."""
        catalog = self._catalog()
        catalog.require_run(run_id)
        tell = (lambda line: on_event({"type": "warning", "message": line})) if on_event else None
        lease = Lease(catalog, run_id, command).acquire(wait=wait, on_wait=tell)
        try:
            return body(lease)
        except BaseException:
            lease.release()  # nothing was launched, or it already released it: either way, free the run
            raise

    def _resume(self, lease: Lease, run_id: str, *, budget: float | None, approve: str | None,
                on_event: OnEvent | None, background: bool) -> Run:
        from langgraph.types import Command

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        if budget is not None and budget < 0:
            raise InputError(f"budget must be zero or more dollars (got {budget})")
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
                raise InputError(f"run {run_id} is waiting for approval: director resume {run_id} --approve yes|no")
            if approve is not None and not waiting:
                raise InputError(f"run {run_id} is not waiting for approval")
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
                lease.release()
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
        if budget is not None:  # the user chose a budget: it replaces the default cap
            options = json.loads(row.options_json or "{}")
            catalog.update_run(run_id, options_json=json.dumps({**options, "default_cap": False}))
        catalog.update_run(run_id, status="running", error=None, pid=os.getpid(), budget_usd=limit)
        run = Run(run_id, self.workspace.root)
        run._emit({"type": "run_started", "run_id": run_id, "backend": row.backend, "reason": "resumed",
                   "workspace": str(self.workspace.root), "scenes": state.goal.scenes, "aspect": state.goal.aspect,
                   "notes": session.providers.notes, "budget_usd": limit, "mode": state.goal.mode})
        return self._launch(_Job(session, run, graph_input, limit, lease=lease), on_event, background=background)

    def say(self, run_id: str, message: str, *, on_event: OnEvent | None = None, background: bool = False,
            wait: bool = False) -> Run:
        """Tell a stopped run what to change; only what the change touches is made again."""
        message = " ".join((message or "").split())
        if not message:
            raise InputError("the message is empty")
        return self._holding(run_id, "say", wait, on_event, lambda lease: self._say(
            lease, run_id, message, on_event=on_event, background=background))

    def _say(self, lease: Lease, run_id: str, message: str, *, on_event: OnEvent | None, background: bool) -> Run:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        config = {"configurable": {"thread_id": run_id}}
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshot = graph.get_state(config)
            if not snapshot.values:
                raise InputError(f"run {run_id} has no checkpoints")
            if snapshot.interrupts:
                return self._resume(lease, run_id, budget=None, approve=message, on_event=on_event,
                                    background=background)
            if snapshot.next:
                raise InputError(f"run {run_id} did not finish; resume it first (director resume {run_id})")
            state = DirectorState.model_validate(snapshot.values)
            self._check_revision(session, state, message)
            graph.update_state(config, self._revision_update(message), as_node="tools")
        catalog.update_run(run_id, status="running", error=None, pid=os.getpid())
        run = Run(run_id, self.workspace.root)
        run._emit({"type": "run_started", "run_id": run_id, "backend": row.backend, "reason": f"revision: {message}",
                   "workspace": str(self.workspace.root), "scenes": len(state.storyboard.scenes) if state.storyboard
                   else state.goal.scenes, "aspect": (state.storyboard.aspect if state.storyboard else None)
                   or state.goal.aspect, "notes": [], "budget_usd": row.budget_usd, "mode": state.goal.mode})
        return self._launch(_Job(session, run, None, row.budget_usd, lease=lease), on_event, background=background)

    def replay(self, run_id: str, checkpoint_id: str | None = None, *, on_event: OnEvent | None = None,
               wait: bool = False) -> Run:
        """Run again from a checkpoint (default: the first step). With nothing changed, every call is reused."""
        return self._holding(run_id, "replay", wait, on_event,
                             lambda lease: self._replay(lease, run_id, checkpoint_id, on_event=on_event))

    def _replay(self, lease: Lease, run_id: str, checkpoint_id: str | None, *, on_event: OnEvent | None) -> Run:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        session = self._run_session(row)
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
        if not snapshots:
            raise InputError(f"run {run_id} has no checkpoints")
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
        catalog.update_run(run_id, status="running", error=None, pid=os.getpid())
        run = Run(run_id, self.workspace.root)
        run._emit({"type": "run_started", "run_id": run_id, "backend": row.backend,
                   "reason": f"replay from {target.config['configurable']['checkpoint_id']}",
                   "workspace": str(self.workspace.root), **self._shape(state), "notes": [],
                   "budget_usd": row.budget_usd})
        job = _Job(session, run, graph_input, row.budget_usd, config=config, lease=lease)
        return self._launch(job, on_event, background=False)

    @staticmethod
    def _shape(state: DirectorState, change: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a run header shows: scenes, aspect and mode as the state (and a pending change) has them."""
        board = state.storyboard
        scenes = len(board.scenes) if board is not None and board.scenes else state.goal.scenes
        aspect = (change or {}).get("aspect") or (board.aspect if board else None) or state.goal.aspect
        return {"scenes": scenes, "aspect": aspect, "mode": state.goal.mode}

    def fork(self, run_id: str, checkpoint_id: str, *, say: str | None = None, new_run_id: str | None = None,
             on_event: OnEvent | None = None, background: bool = False) -> Run:
        """A new run whose history starts at a checkpoint of another, with a change; assets are shared."""
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        holder = catalog.lease_of(run_id)
        if holder is not None and holder.expires > time.time() and holder_alive(holder):
            raise RunBusy(lease_busy(run_id, holder))
        if new_run_id is not None and not RUN_ID.fullmatch(new_run_id):
            raise InputError(f"run id {new_run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        new_id = new_run_id or new_run_id_for(run_id)
        if catalog.get_run(new_id) is not None:
            raise InputError(f"run {new_id!r} already exists; pick another --run-id")
        session = self._run_session(row)
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
            source = self._find_checkpoint(snapshots, run_id, checkpoint_id)
            whole = started(source)
            # A checkpoint from before the first step holds no state yet: the fork starts from the goal.
            state = DirectorState.model_validate(source.values) if whole else self._initial_state(row)
            message = " ".join((say or "").split())
            change = self._check_revision(session, state, message) if message else None
            values = state.model_dump()
            values.update(run_id=new_id, status="running", error=None, outputs={})
            values["messages"] = [Message.model_validate(m) for m in values["messages"]]
            if message:
                values["messages"].append(Message(role="user", text=message, intent="revision"))
                values["approved"] = False
                as_node = "tools"  # the brain reads the change next
            else:
                as_node = {("tools",): "gate", ("gate",): "brain", ("finish",): "brain"}.get(tuple(source.next), "tools")
            if as_node == "brain":
                values["calls"] = []
            catalog.create_run(RunRow(id=new_id, goal=row.goal, options_json=row.options_json, backend=row.backend,
                                      pid=os.getpid(), budget_usd=row.budget_usd, parent_run=run_id,
                                      parent_checkpoint=source.config["configurable"]["checkpoint_id"]))
            lease = Lease(catalog, new_id, "fork").acquire()
            graph_input: Any = None
            if whole:
                graph.update_state({"configurable": {"thread_id": new_id}}, values, as_node=as_node)
            else:
                graph_input = DirectorState.model_validate(values)
        run = Run(new_id, self.workspace.root)
        run._emit({"type": "run_started", "run_id": new_id, "backend": row.backend,
                   "reason": f"fork of {run_id} at {checkpoint_id}" + (f": {message}" if message else ""),
                   "workspace": str(self.workspace.root), **self._shape(state, change), "notes": [],
                   "budget_usd": row.budget_usd})
        return self._launch(_Job(session, run, graph_input, row.budget_usd, lease=lease), on_event,
                            background=background)

    # -- the engine --------------------------------------------------------------
    def compile(self, family: str, *, checkpointer: Any) -> Any:
        """The compiled agent graph for a backend family, on this workspace."""
        return self._build(self._session(family), checkpointer, BudgetGuard(self.settings.budget_usd, 0.0))

    def _build(self, session: Session, checkpointer: Any, budget: BudgetGuard) -> Any:
        from director.graph import build_graph
        from director.publish import Publisher

        brain = session.providers.brain
        runner = self._runner(session, budget)
        publisher = Publisher(self.workspace, session.store, session.catalog, self.settings, session.backends, brain)
        return build_graph(brain=brain, runner=runner, finish=publisher, checkpointer=checkpointer)  # type: ignore[arg-type]

    def _runner(self, session: Session, budget: BudgetGuard) -> Any:
        from director.runner import Runner
        from director.tools import registry

        return Runner(settings=self.settings, backends=session.backends, store=session.store,
                      catalog=session.catalog, tools=registry(), prices=session.prices, budget=budget)

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
            except (sqlite3.Error, SQLAlchemyError, OSError):
                log.debug("could not record an event of run %s", run.id, exc_info=True)

        for event in list(run._log):
            persist(event)

        def emit(event: Event) -> None:
            run._emit(event)
            persist(event)
            if on_event is not None:
                on_event(event)

        def work() -> None:
            try:
                self._drive(job, emit)
            except BaseException as exc:  # handed to wait(), which re-raises it in the caller's thread
                run.exception = exc
            finally:
                if job.lease is not None:
                    job.lease.release()
                run._close()

        if background:
            run._thread = threading.Thread(target=work, name=f"director-{run.id}", daemon=True)
            run._thread.start()
            return run
        work()
        return run.wait()  # what stopped a blocking call is raised to its caller, never swallowed

    def _drive(self, job: _Job, emit: OnEvent) -> None:
        from langgraph.errors import GraphRecursionError

        session, run = job.session, job.run
        config = {"configurable": {"thread_id": run.id, **job.config}, "recursion_limit": self.settings.max_steps}
        options = json.loads(session.catalog.require_run(run.id).options_json or "{}")
        guard = BudgetGuard(job.budget, session.catalog.run_spend(run.id), default=bool(options.get("default_cap")))
        mark = session.catalog.last_call_id()
        try:
            with open_checkpointer(self.workspace) as saver, stop_on_signals():
                graph = self._build(session, saver, guard)
                for mode, chunk in graph.stream(job.graph_input, config, stream_mode=["custom", "updates"]):
                    if mode == "custom":
                        emit(chunk)
                    elif "__interrupt__" in chunk:
                        value = chunk["__interrupt__"][0].value
                        emit({"type": "interrupt", "run_id": run.id, **(value if isinstance(value, dict) else {})})
                    else:
                        for node in chunk:
                            emit({"type": "checkpoint", "node": node})
                snapshot = graph.get_state({"configurable": {"thread_id": run.id}})
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
            if not (disk_full(exc) or isinstance(exc, (sqlite3.Error, SQLAlchemyError))):
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
        emit({"type": "run_finished", "run_id": run.id, "status": run.status, "final": str(run.final or ""),
              "executed": run.executed, "reused": run.reused, "failed": run.failed, "error": run.error,
              "cost_usd": run.cost_usd, "interrupt": run.interrupt})

    @staticmethod
    def _mark(session: Session, run: Run, status: str, error: str) -> None:
        """Record why a run stopped; on a full disk or a broken database the row may not take it,
        and then the dead process's run reads as interrupted (effective_status)."""
        run.status, run.error = status, error
        try:
            session.catalog.update_run(run.id, status=status, error=error)
        except (sqlite3.Error, SQLAlchemyError, OSError):
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
            raise InputError(f"that point of run {state.run_id} comes before the story exists, so there is nothing "
                             f"to change yet: fork from a later checkpoint (see director history {state.run_id})")
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

    def runs_row(self, run_id: str) -> dict[str, Any]:
        row = self._catalog().require_run(run_id)
        return {"id": row.id, "status": effective_status(row), "goal": row.goal}

    def runs(self) -> list[dict[str, Any]]:
        catalog = self._catalog()
        return [
            {"id": r.id, "goal": r.goal, "status": effective_status(r), "created": r.created.isoformat(timespec="seconds"),
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


def new_run_id_for(parent: str) -> str:
    return f"{parent[:48]}-fork-{secrets.token_hex(2)}"
