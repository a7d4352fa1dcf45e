"""make: a run from a goal and its options (director.options)."""

from __future__ import annotations

import json
import os
import socket
from typing import Any, Protocol

from director.backends import choose_family
from director.errors import RunStateError
from director.goals import make_goal, make_trailer_goal, new_run_id
from director.lease import Lease
from director.lifecycle.continuing import Continuing
from director.lifecycle.session import Continuation, resolved
from director.limits import BudgetGuard
from director.options import MakeOptions
from director.run import Event, OnEvent, Run
from director.state import DirectorState, Message, Storyboard
from director.store import RunRow


class Spending(Protocol):
    """A face's rule for what a run may spend unasked: given whether its models are paid and what the caller
    asked (the approval gate, a budget), the gate and budget it runs with; InputError refuses the run."""

    def __call__(self, *, paid: bool, approve: bool, budget: float | None) -> tuple[bool, float | None]: ...


class Starting(Continuing):
    """The command that begins a run."""

    def make(self, goal: str, *, on_event: OnEvent | None = None, background: bool = True, face: str = "python",
             spending: Spending | None = None, **options: Any) -> Run:
        """Begin a run from a goal with the make options (director.options.MakeOptions, by keyword). Bad input
        raises InputError here, before anything is written; face names the options as that face spells them.

        backend overrides this Lifecycle's choice for this run (the server's per-request choice). spending is a
        face's own rule for what a run may spend unasked (the MCP face's: director.assistants), told whether the
        run's models are paid."""
        opts = MakeOptions.check(options, face=face)
        sources, title, plot = opts.sources, opts.title, opts.plot
        opts.mode_check("trailer" if sources else "story", face)
        if opts.tier is None:
            opts = opts.model_copy(update={"tier": self.settings.tier})
        if opts.resolution is None:
            opts = opts.model_copy(update={"resolution": self.settings.resolution})
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
        if spending is not None:
            approve, budget = spending(paid=session.providers.paid, approve=spec.approve, budget=budget)
            spec = spec.model_copy(update={"approve": approve})
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
