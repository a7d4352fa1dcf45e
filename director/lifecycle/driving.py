"""The one continuation path: mark the run running, drive the graph, and settle the run's status."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from contextlib import suppress
from typing import Any

from director.checkpoints import open_checkpointer
from director.errors import BudgetExceeded, DirectorError, Interrupted, StorageError
from director.lease import Lease
from director.lifecycle.session import Base, Continuation, Job, Session, stop_on_signals
from director.limits import BudgetGuard
from director.run import Event, OnEvent, Run
from director.secrets import scrub
from director.store import DATABASE_ERRORS, disk_full, storage_error

log = logging.getLogger(__name__)


class Driving(Base):
    """Runs a Continuation on this thread or a worker, and records how it ended."""

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
        job = Job(cont.session, run, cont.graph_input, cont.budget, config=cont.config, lease=lease)
        return self._launch(job, on_event, background=background, deliver_from=len(early or []))

    def _launch(self, job: Job, on_event: OnEvent | None, *, background: bool, deliver_from: int = 0) -> Run:
        run = job.run
        if on_event is not None:
            for event in list(run._log)[deliver_from:]:
                on_event(event)

        catalog = job.session.catalog

        def persist(event: Event) -> None:
            # Every event is also a catalog row, so any process can follow the run (never fatal).
            try:
                catalog.add_event(run.id, event)
            except DATABASE_ERRORS + (OSError,):
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

    def _drive(self, job: Job, emit: OnEvent) -> None:
        from langgraph.errors import GraphRecursionError

        session, run = job.session, job.run
        config = {"configurable": {"thread_id": run.id, **job.config}, "recursion_limit": self.settings.max_steps}
        options = json.loads(session.catalog.require_run(run.id).options_json or "{}")
        guard = BudgetGuard(job.budget, session.catalog.run_spend(run.id), default=bool(options.get("default_cap")))
        guard.pool = self.pool
        if self.settings.ray():
            from director import cluster

            guard.share(run.id, cluster.budgets)  # one account for the run, whichever process reserves from it
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
        except DATABASE_ERRORS + (OSError,):
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
        catalog = self._catalog()
        for run in stuck:
            with suppress(*DATABASE_ERRORS):  # then the dead pid tells the same (effective_status)
                if run.working.is_set():
                    catalog.update_run(run.id, status=status, error=reason)
                    if kill:  # the process ends now: its followers hear it from here
                        catalog.add_event(run.id, {"type": "run_finished", "run_id": run.id, "status": status,
                                                   "error": reason, "final": ""})
        return runs
