"""The Python API. The CLI is a thin layer over this.

    from director import Director
    run = Director(workspace="~/.director").submit("a 3-scene bedtime story about a cat and a dog")
    print(run.final)
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from director.backends import Backends, Providers, build_providers, choose_family
from director.config import Settings, load_settings
from director.errors import BudgetExceeded, DirectorError, InputError
from director.limits import BudgetGuard, Limits, Prices
from director.state import ASPECT_SIZES, DirectorState, Goal, Message, Storyboard
from director.store import SQLITE_TIMEOUT_S, AssetStore, Catalog, RunRow, Workspace, sqlite_pragmas

log = logging.getLogger(__name__)

Event = dict[str, Any]
OnEvent = Callable[[Event], None]

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
SCENES_IN_GOAL = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*(?:scenes?|shots?|parts?)\b", re.I)
MAX_SCENES = 50


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
    return Goal(text=text, scenes=scenes, aspect=aspect, seed=seed, voice=voice)  # type: ignore[arg-type]


def make_trailer_goal(
    text: str,
    *,
    scenes: int | None,
    aspect: str,
    seed: int,
    voice: str | None,
    style: str | None,
    audio: str | None,
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
                     default_scenes=TRAILER_SCENES)
    return goal.model_copy(update={"mode": "trailer", "style": style, "audio": audio})


TRAILER_SCENES = 6


def new_run_id() -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


@contextmanager
def open_checkpointer(workspace: Workspace) -> Iterator[Any]:
    """SqliteSaver on <workspace>/director.db (WAL, busy timeout), closed afterwards."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(workspace.db_path, check_same_thread=False, timeout=SQLITE_TIMEOUT_S)
    sqlite_pragmas(conn)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def effective_status(row: RunRow) -> str:
    """'running' only while the process that runs it is alive; otherwise 'interrupted'."""
    if row.status == "running" and not (row.pid == os.getpid() or pid_alive(row.pid)):
        return "interrupted"
    return row.status


@dataclass
class Run:
    """A finished (or stopped) run and where its outputs are."""

    id: str
    goal: str
    status: str
    workspace: Path
    backend: str
    error: str | None = None
    outputs: dict[str, Path] = field(default_factory=dict)
    executed: int = 0
    reused: int = 0
    failed: int = 0
    cost_usd: float = 0.0

    @property
    def final(self) -> Path | None:
        return self.outputs.get("final.mp4")

    @property
    def run_dir(self) -> Path:
        return self.workspace / "runs" / self.id

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.run_dir / "manifest.json").read_text(encoding="utf-8"))


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

    def _session(self, family: str) -> Session:
        limits = Limits(rpm=self.settings.rate_limits(), max_attempts=self.settings.max_attempts,
                        backoff_base_s=self.settings.backoff_base_s, backoff_max_s=self.settings.backoff_max_s)
        prices = Prices(self.settings.file_config().get("prices"))
        providers = build_providers(self.settings, family, limits)
        self.workspace.prepare()
        catalog = Catalog.open(self.workspace, create=True)
        store = AssetStore(self.workspace, catalog)
        return Session(self.workspace, catalog, store, providers, family, limits, prices)

    # -- making ------------------------------------------------------------------
    def submit(
        self,
        goal: str,
        *,
        scenes: int | None = None,
        aspect: str = "16:9",
        seed: int = 0,
        voice: str | None = None,
        run_id: str | None = None,
        budget: float | None = None,
        sources: list[str] | None = None,
        title: str | None = None,
        plot: str | None = None,
        style: str | None = None,
        audio: str | None = None,
        on_event: OnEvent | None = None,
    ) -> Run:
        """Run a goal to the end (blocking) and return the Run. With sources, it is a trailer of them."""
        emit = on_event or (lambda event: None)
        if sources:
            spec = make_trailer_goal(goal, scenes=scenes, aspect=aspect, seed=seed, voice=voice, style=style,
                                     audio=audio)
        else:
            extras = [flag for flag, value in (("--title", title), ("--plot", plot), ("--style", style),
                                               ("--audio", audio)) if value]
            if extras:
                raise InputError(f"{', '.join(extras)} apply to trailers: add --source VIDEO")
            spec = make_goal(goal, scenes=scenes, aspect=aspect, seed=seed, voice=voice,
                             default_scenes=self.settings.default_scenes)
        if run_id is not None and not RUN_ID.match(run_id):
            raise InputError(f"run id {run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        budget = budget if budget is not None else self.settings.budget_usd
        if budget is not None and budget < 0:
            raise InputError(f"budget must be zero or more dollars (got {budget})")
        family, reason = self.choose_backend()
        board = None
        if sources:
            from director.sources import load_sources

            footage = load_sources(sources, title=title, plot=plot,
                                   warn=lambda message: emit({"type": "warning", "message": message}))
            titles = list(dict.fromkeys(f.title for f in footage))
            board = Storyboard(title=title or " & ".join(titles), art_style=f"{spec.style} (prompts/styles/"
                               f"{spec.style}.md)", footage=footage)
        session = self._session(family)
        run_id = run_id or new_run_id()
        if session.catalog.get_run(run_id) is not None:
            raise InputError(f"run {run_id!r} already exists in {self.workspace.root}; pick another --run-id")
        options = {"goal": spec.model_dump(), "fallback": self.settings.fallback}
        session.catalog.create_run(RunRow(
            id=run_id, goal=spec.text, options_json=json.dumps(options), backend=family, pid=os.getpid(),
            budget_usd=budget))
        emit({"type": "run_started", "run_id": run_id, "backend": family, "reason": reason,
              "workspace": str(self.workspace.root), "scenes": spec.scenes, "aspect": spec.aspect,
              "notes": session.providers.notes, "budget_usd": budget})
        state = DirectorState(run_id=run_id, goal=spec, storyboard=board,
                              messages=[Message(role="user", text=spec.text)])
        return self._drive(session, run_id, state, emit, budget)

    def resume(self, run_id: str, *, budget: float | None = None, on_event: OnEvent | None = None) -> Run:
        """Finish a run that stopped: killed, over budget, or failed scenes (retried; the rest is reused)."""
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        if effective_status(row) == "running" and row.pid != os.getpid():
            raise InputError(f"run {run_id} is still running (pid {row.pid}); wait for it or stop it first")
        if budget is not None and budget < 0:
            raise InputError(f"budget must be zero or more dollars (got {budget})")
        emit = on_event or (lambda event: None)
        options = json.loads(row.options_json or "{}")
        if "fallback" not in self.explicit and options.get("fallback"):
            self.settings = self.settings.model_copy(update={"fallback": options["fallback"]})
        session = self._session(row.backend)
        limit = budget if budget is not None else row.budget_usd
        config = {"configurable": {"thread_id": run_id}}
        with open_checkpointer(self.workspace) as saver:
            graph = self._build(session, saver, BudgetGuard(None, 0.0))
            snapshot = graph.get_state(config)
            if not snapshot.values:
                raise InputError(f"run {run_id} has no checkpoints to resume from")
            state = DirectorState.model_validate(snapshot.values)
            if not snapshot.next and state.status == "done":
                emit({"type": "run_finished", "run_id": run_id, "status": "done", "final": str(
                    self.workspace.abspath(state.outputs["final.mp4"])), "executed": 0, "reused": 0, "failed": 0,
                    "error": None, "note": "already done"})
                return self._run_from(session, run_id, state.model_dump())
            if not snapshot.next:
                # The run ended as failed: clear the scene errors and hand it back to the brain,
                # which asks again only for what is missing; everything made before is reused.
                board = state.storyboard.model_copy(deep=True) if state.storyboard else None
                retry = [s.index for s in board.scenes if s.error] if board else []
                for s in board.scenes if board else []:
                    s.errors.clear()
                note = (f"Resume: retry scenes {retry}; keep everything that is already made." if retry
                        else "Resume: finish the video; keep everything that is already made.")
                graph.update_state(config, {"status": "running", "error": None, "storyboard": board, "outputs": {},
                                            "messages": [Message(role="user", text=note)]}, as_node="tools")
        catalog.update_run(run_id, status="running", error=None, pid=os.getpid(), budget_usd=limit)
        emit({"type": "run_started", "run_id": run_id, "backend": row.backend, "reason": "resumed",
              "workspace": str(self.workspace.root), "scenes": state.goal.scenes, "aspect": state.goal.aspect,
              "notes": session.providers.notes, "budget_usd": limit})
        return self._drive(session, run_id, None, emit, limit)

    def compile(self, family: str, *, checkpointer: Any) -> Any:
        """The compiled agent graph for a backend family, on this workspace."""
        return self._build(self._session(family), checkpointer, BudgetGuard(self.settings.budget_usd, 0.0))

    def _build(self, session: Session, checkpointer: Any, budget: BudgetGuard) -> Any:
        from director.graph import build_graph
        from director.publish import Publisher
        from director.runner import Runner
        from director.tools import registry

        brain = session.providers.brain
        runner = Runner(settings=self.settings, backends=session.backends, store=session.store,
                        catalog=session.catalog, tools=registry(), prices=session.prices, budget=budget)
        publisher = Publisher(self.workspace, session.store, session.catalog, self.settings, session.backends, brain)
        return build_graph(brain=brain, runner=runner, finish=publisher, checkpointer=checkpointer)  # type: ignore[arg-type]

    def _drive(self, session: Session, run_id: str, graph_input: Any, emit: OnEvent, budget: float | None) -> Run:
        from langgraph.errors import GraphRecursionError

        config = {"configurable": {"thread_id": run_id}, "recursion_limit": self.settings.max_steps}
        guard = BudgetGuard(budget, session.catalog.run_spend(run_id))
        try:
            with open_checkpointer(self.workspace) as saver:
                graph = self._build(session, saver, guard)
                for mode, chunk in graph.stream(graph_input, config, stream_mode=["custom", "updates"]):
                    if mode == "custom":
                        emit(chunk)
                    else:
                        for node in chunk:
                            emit({"type": "checkpoint", "node": node})
                values = graph.get_state(config).values
        except GraphRecursionError:
            session.catalog.update_run(run_id, status="failed", error="too many steps")
            raise DirectorError(
                f"run {run_id} took more than {self.settings.max_steps} steps; raise DIRECTOR_MAX_STEPS "
                f"and run `director resume {run_id}`"
            ) from None
        except DirectorError as exc:
            # The checkpoint before the failing step is intact: say how to go on from it.
            stopped = isinstance(exc, BudgetExceeded)
            message = self.settings.redact(str(exc))
            session.catalog.update_run(run_id, status="stopped" if stopped else "failed", error=message)
            hint = f"director resume {run_id} --budget <more>" if stopped else f"director resume {run_id}"
            exc.args = (f"{message}. Run {run_id} is saved: {hint}",)
            raise
        except BaseException as exc:
            if not isinstance(exc, KeyboardInterrupt):
                session.catalog.update_run(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        run = self._run_from(session, run_id, values)
        emit({"type": "run_finished", "run_id": run_id, "status": run.status, "final": str(run.final or ""),
              "executed": run.executed, "reused": run.reused, "failed": run.failed, "error": run.error,
              "cost_usd": run.cost_usd})
        return run

    def _run_from(self, session: Session, run_id: str, values: dict[str, Any]) -> Run:
        calls = [c for c in session.catalog.run_calls(run_id) if c.tool != "brain"]
        row = session.catalog.require_run(run_id)
        outputs = {name: self.workspace.abspath(rel) for name, rel in (values.get("outputs") or {}).items()}
        return Run(
            id=run_id, goal=row.goal, status=values.get("status", row.status), workspace=self.workspace.root,
            backend=row.backend, error=values.get("error"), outputs=outputs,
            executed=sum(1 for c in calls if not c.reused and c.error is None),
            reused=sum(1 for c in calls if c.reused),
            failed=sum(1 for c in calls if c.error),
            cost_usd=round(session.catalog.run_spend(run_id), 6),
        )

    # -- looking -----------------------------------------------------------------
    def _catalog(self) -> Catalog:
        """The catalog for reading; never creates a database."""
        return Catalog.open(self.workspace, create=False)

    def runs(self) -> list[dict[str, Any]]:
        catalog = self._catalog()
        return [
            {"id": r.id, "goal": r.goal, "status": effective_status(r), "created": r.created.isoformat(timespec="seconds"),
             "backend": r.backend, "final": r.final_path, "error": r.error, "parent": r.parent_run,
             "cost_usd": round(catalog.run_spend(r.id), 4), "budget_usd": r.budget_usd}
            for r in catalog.list_runs()
        ]

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """Checkpoints of a run, newest first: id, step, node, what changed."""
        from director.graph import build_graph
        from director.history import describe_history

        catalog = self._catalog()
        catalog.require_run(run_id)
        with open_checkpointer(self.workspace) as saver:
            # Only the state schema matters for reading checkpoints; nothing runs.
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
        return describe_history(snapshots)
