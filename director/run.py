"""The Run handle a face holds: a run's outputs once it stops, and its progress events."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Event = dict[str, Any]
OnEvent = Callable[[Event], None]


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
        self.cancelling = threading.Event()
        self.working = threading.Event()
        """Set when a worker starts driving the run (a run in the server's queue has not yet)."""
        """Set by cancel(): no new call starts and the run stops at its next event."""
        self.stop_as = ("cancelled", "cancelled by the user")
        """The status and reason a stop through `cancelling` records (a server shutting down: interrupted)."""

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
        with self._cond:
            self._cond.wait_for(lambda: self._done)
        if self.exception is not None:
            raise self.exception
        return self

    def wait_quietly(self, timeout: float | None = None) -> bool:
        """Block until the run stops or `timeout` passes, raising nothing; whether it stopped."""
        with self._cond:
            return self._cond.wait_for(lambda: self._done, timeout)

    @property
    def finished(self) -> bool:
        with self._cond:
            return self._done

    def _emit(self, event: Event) -> None:
        with self._cond:
            self._log.append(event)
            self._cond.notify_all()

    def _close(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify_all()
