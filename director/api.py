"""The Python API: a thin face over the lifecycle layer (director.lifecycle). The CLI and the
HTTP server are the other two faces.

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
    director.events(run.id, after=10)                          # any run's recorded events, from any process
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from director.checkpoints import CheckpointCodec, open_checkpointer, started
from director.config import Settings, load_settings
from director.errors import InputError
from director.goals import make_goal, make_trailer_goal, new_run_id, scenes_from_goal
from director.lease import effective_status
from director.lifecycle import Lifecycle, stop_on_signals
from director.run import Event, OnEvent, Run
from director.store import Workspace

__all__ = ["CheckpointCodec", "Director", "Event", "OnEvent", "Run", "effective_status", "make_goal",
           "make_trailer_goal", "new_run_id", "open_checkpointer", "scenes_from_goal", "started", "stop_on_signals"]


class Director:
    """Make videos from goals, in one workspace."""

    def __init__(
        self,
        workspace: str | Path | None = None,
        *,
        backend: str = "auto",
        settings: Settings | None = None,
        pool: Executor | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = settings or load_settings(**overrides)
        self.workspace = Workspace.from_settings(Path(workspace) if workspace else self.settings.home, self.settings)
        self.lifecycle = Lifecycle(self.settings, self.workspace, backend=backend, explicit=set(overrides),
                                   executor=pool)

    def choose_backend(self) -> tuple[str, str]:
        """(family, reason) for this Director's --backend choice."""
        return self.lifecycle.choose_backend()

    def compile(self, family: str, *, checkpointer: Any) -> Any:
        """The compiled agent graph for a backend family, on this workspace (langgraph.json)."""
        return self.lifecycle.compile(family, checkpointer=checkpointer)

    # -- making ------------------------------------------------------------------
    def submit(self, goal: str, **options: Any) -> Run:
        """Run a goal to the end (blocking) and return the Run. See start() for the options."""
        return self.start(goal, background=False, **options).wait()

    async def asubmit(self, goal: str, **options: Any) -> Run:
        """submit() for async code: the run goes on a worker thread; events stream through on_event."""
        return await asyncio.to_thread(self.submit, goal, **options)

    def start(self, goal: str, **options: Any) -> Run:
        """Begin a run and return its Run at once (background=True), with live events().

        The options are declared once, in director.options.MakeOptions (this signature shows them):
        scenes, aspect, seed, voice, run_id, budget, approve, motion, duration; finishing: music,
        captions, caption_style, title_card, end_card, transition, transition_seconds, resolution,
        tier, clip_sound, flow, dialogue, lip_sync; likeness: continuity, retakes; for a trailer sources, max_scenes,
        title, plot, style, audio. on_event gets every event as it happens. Bad input raises
        InputError here, in one line, before anything is written.
        """
        return self.lifecycle.make(goal, **options)

    def resume(self, run_id: str, *, budget: float | None = None, approve: str | None = None,
               on_event: OnEvent | None = None, background: bool = False, wait: bool = False,
               retry_unsure: bool = False) -> Run:
        """Finish a stopped run: killed, over budget, failed scenes, or waiting for approval
        ("yes", "no" or a change in words). Completed calls are reused, never paid for again.
        retry_unsure starts again the paid clips whose start was sent but never answered."""
        return self.lifecycle.resume(run_id, budget=budget, approve=approve, on_event=on_event,
                                     background=background, wait=wait, retry_unsure=retry_unsure)

    def say(self, run_id: str, message: str, *, on_event: OnEvent | None = None, background: bool = False,
            wait: bool = False) -> Run:
        """Tell a stopped run what to change; only what the change touches is made again."""
        return self.lifecycle.say(run_id, message, on_event=on_event, background=background, wait=wait)

    def replay(self, run_id: str, checkpoint_id: str | None = None, *, on_event: OnEvent | None = None,
               background: bool = False, wait: bool = False) -> Run:
        """Run again from a checkpoint (default: the first step). With nothing changed, every call is reused."""
        return self.lifecycle.replay(run_id, checkpoint_id, on_event=on_event, background=background, wait=wait)

    def fork(self, run_id: str, checkpoint_id: str, *, say: str | None = None, new_run_id: str | None = None,
             on_event: OnEvent | None = None, background: bool = False) -> Run:
        """A new run whose history starts at a checkpoint of another, with a change; assets are shared."""
        return self.lifecycle.fork(run_id, checkpoint_id, say=say, new_run_id=new_run_id, on_event=on_event,
                                   background=background)

    def cancel(self, run_id: str) -> Run | None:
        """Stop a run (see Lifecycle.cancel); what was made is kept, and resume goes on from it."""
        return self.lifecycle.cancel(run_id)

    # -- looking -----------------------------------------------------------------
    def runs(self) -> list[dict[str, Any]]:
        """Every run of the workspace, newest first."""
        return self.lifecycle.runs()

    def runs_row(self, run_id: str) -> dict[str, Any]:
        return self.lifecycle.runs_row(run_id)

    def events(self, run_id: str, *, after: int = 0) -> list[Event]:
        """A run's progress events as recorded in the catalog (from any process), numbered by "seq"."""
        return self.lifecycle.events(run_id, after=after)

    def export(self, run_id: str, fmt: str = "otio", out: str | Path | None = None) -> Path:
        """Write the run's final cut as an editorial timeline (otio, fcpxml or edl); its path.
        The default place is runs/<id>/timeline.<ext>."""
        from director.timeline import build_timeline, suffix_of, write_timeline

        suffix = suffix_of(fmt)  # a bad format is refused before anything is read
        state, _ = self.lifecycle.latest(run_id)
        if state is None:
            raise InputError(f"run {run_id} has no checkpoint yet: nothing to export")
        timeline = build_timeline(state, self.workspace, self.settings.fps, self.lifecycle.store().path)
        target = Path(out) if out else self.workspace.run_dir(run_id) / f"timeline{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        return write_timeline(timeline, target, fmt)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """Checkpoints of a run, newest first (id, parent, step, node, what changed), with its forks."""
        return self.lifecycle.history(run_id)


def _signed() -> None:
    """Director's making methods show the declared options (help(), editors, inspect.signature)."""
    import inspect

    from director.options import signature

    P = inspect.Parameter
    before = [P("self", P.POSITIONAL_OR_KEYWORD), P("goal", P.POSITIONAL_OR_KEYWORD, annotation=str)]
    events = P("on_event", P.KEYWORD_ONLY, default=None, annotation=OnEvent | None)
    for method, background in ((Director.start, True), (Director.submit, None), (Director.asubmit, None)):
        after = [events] + ([P("background", P.KEYWORD_ONLY, default=True, annotation=bool)] if background else [])
        setattr(method, "__signature__", signature(before, after))  # noqa: B010 (a function attribute mypy cannot see)


_signed()
