"""The HTTP face of batches (director.batches): POST /api/batches and its reads, events and resume, for the studio
and for scripts. A batch runs on a thread of its own with its own workers (its `concurrency`), beside the server's
runs; the server's shutdown stops its runs as it stops its own, resumable."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from director.batches import MAX_CONCURRENCY, MAX_ROWS, Batch, Batches
from director.errors import InputError, RunStateError, UnknownRun
from director.guards import ERRORS, without_paths
from director.options import MakeOptions
from director.streams import follow

BATCH_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$"


class BatchRequest(BaseModel):
    """A batch: its rows (each a goal and the options of POST /api/runs), how many run at once, one budget."""

    model_config = ConfigDict(extra="forbid", strict=True)
    rows: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ROWS, description=(
        "One object per video: a goal and any options of POST /api/runs (sources and music are upload ids). A bad "
        "row is named by its number (1 is the first) and left out."))
    concurrency: int = Field(2, ge=1, le=MAX_CONCURRENCY, description="Runs at once, 1-8.")
    budget: Annotated[float | None, MakeOptions.model_fields["budget"]]
    batch_id: str | None = Field(None, pattern=BATCH_ID_PATTERN, description="Name for the batch (default: time-based).")


class BatchResume(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    budget: Annotated[float | None, MakeOptions.model_fields["budget"]]


class Running:
    """The batches this server is running: their threads, and how to stop them."""

    def __init__(self, workers: int = 2) -> None:
        self.lock = threading.Lock()
        self.threads: dict[str, tuple[threading.Thread, Batches, threading.Event]] = {}
        self.workers = workers
        """The server's --workers: a batch runs at most this many at once, and one batch runs at a time."""
        self.claimed = False
        """A batch is being planned (its rows checked and saved) and will start."""

    def busy(self, batch_id: str) -> bool:
        with self.lock:
            entry = self.threads.get(batch_id)
        return entry is not None and entry[0].is_alive()

    def _refuse_if_busy(self, batch_id: str | None) -> None:
        """Under the lock: one batch at a time, counting one being planned."""
        busy = next((i for i, (t, _, _) in self.threads.items() if t.is_alive()), None)
        if busy is not None:
            raise RunStateError(f"batch {busy} is running: this server runs one batch at a time"
                                + (f" (resume {batch_id} when it ends)" if batch_id and busy != batch_id else ""))
        if self.claimed:
            raise RunStateError("another batch is being started: this server runs one batch at a time")

    @contextlib.contextmanager
    def claim(self) -> Iterator[None]:
        """Hold the server's one batch from the first check to the thread's start, so that a second POST meanwhile
        is refused before its rows are saved."""
        with self.lock:
            self._refuse_if_busy(None)
            self.claimed = True
        try:
            yield
        finally:
            with self.lock:
                self.claimed = False

    def start(self, director: Any, batch: Batch, budget: float | None = None, *, claimed: bool = False) -> None:
        with self.lock:
            if not claimed:
                self._refuse_if_busy(batch.id)
            runner, stop = Batches(director), threading.Event()
            thread = threading.Thread(target=runner.run, args=(batch,), kwargs={"budget": budget, "stop": stop},
                                      name=f"director-{batch.id}", daemon=True)
            self.threads[batch.id] = (thread, runner, stop)
            thread.start()

    def stop_all(self, *, grace: float) -> list[str]:
        with self.lock:
            entries = list(self.threads.values())
        stopped: list[str] = []
        for thread, runner, stop in entries:
            if thread.is_alive():
                stop.set()
                stopped += runner.stop(grace=grace)
        return stopped


def add_routes(routes: FastAPI, director: Any, running: Running, *, files: Callable[[str, str, str], str],
               stopping: threading.Event) -> None:
    """The batch routes, on the app itself (so they are listed with the rest, and the guard sees them)."""
    batches = Batches(director)
    root = director.workspace.root

    def described(batch: Batch) -> dict[str, Any]:
        rows = batches.summary(batch)
        for row in rows:
            row.pop("final", None)  # a server path: the run object has the video's URL
            row["run"] = f"/api/runs/{row['run_id']}" if row["run_id"] and row["status"] != "not started" else None
        live = running.busy(batch.id)
        unfinished = any(r["status"] not in ("done", "refused") for r in rows)
        return without_paths({
            "id": batch.id, "created": batch.created, "source": batch.source, "concurrency": batch.concurrency,
            "budget_usd": batch.budget_usd, "cost_usd": round(sum(r["cost_usd"] or 0 for r in rows), 4),
            "status": "running" if live else "unfinished" if unfinished else "done",
            "events": f"/api/batches/{batch.id}/events", "rows": rows}, root)

    @routes.post("/api/batches", status_code=201, responses=ERRORS, summary="Make many videos under one budget")
    async def create_batch(body: BatchRequest) -> dict[str, Any]:
        raw = [(i, row) for i, row in enumerate(body.rows, 1)]
        with running.claim():  # refused before anything is saved, while another batch runs or is being started
            batch = await asyncio.to_thread(batches.plan, raw, source="http", concurrency=min(body.concurrency,
                                                                                            running.workers),
                                            budget=body.budget, batch_id=body.batch_id, files=files, strict=True)
            running.start(director, batch, claimed=True)
        return await asyncio.to_thread(described, batch)

    @routes.get("/api/batches", responses=ERRORS, summary="Every batch, newest first")
    async def list_batches() -> list[dict[str, Any]]:
        found = await asyncio.to_thread(batches.all)
        return [{"id": b.id, "created": b.created, "rows": len(b.rows), "good": len(b.good),
                 "running": running.busy(b.id)} for b in found]

    @routes.get("/api/batches/{batch_id}", responses=ERRORS, summary="One batch: each row's run, status and cost")
    async def get_batch(batch_id: str) -> dict[str, Any]:
        batch = await asyncio.to_thread(known, batch_id)
        return await asyncio.to_thread(described, batch)

    @routes.post("/api/batches/{batch_id}/resume", responses=ERRORS, summary="Go on with a batch a stop left")
    async def resume_batch(batch_id: str, body: BatchResume | None = None) -> dict[str, Any]:
        batch = await asyncio.to_thread(known, batch_id)
        running.start(director, batch, budget=body.budget if body else None)
        return await asyncio.to_thread(described, batch)

    @routes.get("/api/batches/{batch_id}/events", response_class=StreamingResponse,
                responses={**ERRORS, 200: {"description": "Server-sent events: row_refused, batch_started, row_started, "
                                                          "row_progress, row_finished, batch_finished",
                                           "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
                summary="The batch's events as server-sent events; Last-Event-ID or ?after=N resumes")
    async def batch_events(batch_id: str, after: int | None = Query(None, ge=0, le=2**31),
                           last_event_id: str | None = Header(None)) -> StreamingResponse:
        await asyncio.to_thread(known, batch_id)
        start = after or 0
        if last_event_id and last_event_id.strip().isdigit() and len(last_event_id.strip()) < 10:
            start = int(last_event_id.strip())
        return StreamingResponse(stream(batch_id, start), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    def known(batch_id: str) -> Batch:
        try:
            return batches.load(batch_id)
        except InputError as exc:
            raise UnknownRun(str(exc)) from None

    def stream(batch_id: str, after: int) -> AsyncIterator[bytes]:
        """Every event after `after`, then new ones, until batch_finished or until no thread runs the batch."""
        return follow(lambda seq: batches.events(batch_id, after=seq), lambda: not running.busy(batch_id),
                      last="batch_finished", root=root, after=after, stopping=stopping)

