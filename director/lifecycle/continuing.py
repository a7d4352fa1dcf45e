"""resume, say, replay, fork and cancel: each takes the run's lease and works out where it goes on from."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from director.backends import check_voice
from director.checkpoints import open_checkpointer, started
from director.errors import InputError, RunStateError
from director.goals import check_run_id, new_run_id_for
from director.lease import Lease, RunBusy, effective_status, holder_alive
from director.lease import describe as lease_busy
from director.lifecycle.driving import Driving
from director.lifecycle.session import Continuation, Session
from director.limits import BudgetGuard
from director.options import MakeOptions
from director.run import OnEvent, Run
from director.state import DirectorState, Message
from director.store import RunRow


class Continuing(Driving):
    """The commands that go on with a run that exists."""

    def resume(self, run_id: str, *, budget: float | None = None, approve: str | None = None,
               on_event: OnEvent | None = None, background: bool = False, wait: bool = False,
               retry_unsure: bool = False) -> Run:
        """Finish a stopped run: killed, over budget, failed scenes, or waiting for approval.

        approve answers the approval gate: "yes", "no", or a change in words.
        Completed calls are reused, never paid for again. A run another command holds
        raises RunBusy, unless wait=True, which queues behind it.
        """
        if budget is not None:  # the same limits, and the same words, as the budget a run starts with
            MakeOptions.check({"budget": budget})
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
                if on_event is not None:
                    for event in list(cont._log):
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
            if waiting and approve is not None:
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
            approved = bool(snapshots) and self._standing_approval(graph, run_id, snapshots[0])
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
    def _standing_approval(graph: Any, run_id: str, newest: Any) -> bool:
        """Whether the user's yes still stands for the run's paid steps, so a replay need not ask again: the run
        was approved, no gate waits unanswered now, its last answer at the gate was not a no, and it either ended
        done or no change in words came after that answer (a change is paid for only once the gate has seen it: a
        replay must not answer for the user, nor for a revision a cancel cut off before its gate)."""
        if not started(newest) or graph.get_state({"configurable": {"thread_id": run_id}}).interrupts:
            return False
        state = DirectorState.model_validate(newest.values)
        if state.approvals < 1 or state.status == "cancelled":
            return False
        if state.status == "done":
            return True  # every change before its end went through the gate (free, or approved)
        for message in reversed(state.messages):
            if message.intent == "approval":
                return message.text == "approved"
            if message.intent == "revision":
                return False
        return True  # approved on an earlier branch (a replay from before its gate): nothing asked since

    @staticmethod
    def _shape(state: DirectorState, change: dict[str, Any] | None = None) -> dict[str, Any]:
        """What a run header shows: scenes, aspect and mode as the state (and a pending change) has them."""
        board = state.storyboard
        scenes = len(board.scenes) if board is not None and board.scenes else state.goal.scenes
        aspect = (change or {}).get("aspect") or (board.aspect if board else None) or state.goal.aspect
        return {"scenes": scenes, "aspect": aspect, "mode": state.goal.mode, "notes": []}

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
