"""Server-sent events for the HTTP face: a run's events, or a batch's, from where they are recorded, as they are
written. Both follow one rule (follow): everything after the client's last id, then what comes, until the last
event, or until nothing drives the stream's subject any more."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from fastapi.sse import KEEPALIVE_COMMENT, format_sse_event

from director.guards import without_paths

POLL_S = 0.25
"""How often a stream looks for new records."""
FINISH_GRACE_S = 2.0
"""How long a stream whose subject has come to rest waits for its last events (run_finished follows the status)."""
PING_S = 15.0
"""An idle stream's keep-alive comment, this often."""
PRIVATE_FIELDS = ("workspace", "final")
"""Event fields that name the server's own files: the HTTP face leaves them out (the run object has URLs)."""


def public(event: dict[str, Any], root: str | Path) -> dict[str, Any]:
    """An event as the HTTP face shows it: no server paths."""
    return {k: without_paths(v, root) for k, v in event.items() if k not in PRIVATE_FIELDS}


def sse(event: dict[str, Any], root: str | Path) -> bytes:
    """One recorded event on the wire: its type, its seq as the id (for Last-Event-ID), its public fields."""
    return format_sse_event(data_str=json.dumps(public(event, root), ensure_ascii=False, default=str),
                            event=str(event.get("type") or "message"), id=str(event["seq"]))


async def follow(read: Callable[[int], list[dict[str, Any]]], resting: Callable[[], bool], *, last: str,
                 root: str | Path, after: int, stopping: threading.Event | None = None) -> AsyncIterator[bytes]:
    """Every event `read(after)` gives, then new ones as they are written, until the `last` kind.

    A subject nothing drives any more (`resting()`: a run no process drives, a batch no thread runs) ends the
    stream once its events are sent and its last ones have had FINISH_GRACE_S to land, so a client never waits on
    a dead one; so does a server that is stopping (an EventSource comes back when it is up again). Idle, a comment
    every PING_S keeps proxies from closing the stream."""
    seq = after
    quiet_since = time.monotonic()
    deadline: float | None = None
    while True:
        events = await asyncio.to_thread(read, seq)
        for event in events:
            seq = event["seq"]
            yield sse(event, root)
            if event.get("type") == last:
                return
        if stopping is not None and stopping.is_set():
            return
        if events:
            quiet_since = time.monotonic()
        elif deadline is None and await asyncio.to_thread(resting):
            deadline = time.monotonic() + FINISH_GRACE_S
        if deadline is not None and time.monotonic() >= deadline:
            return
        if time.monotonic() - quiet_since >= PING_S:
            quiet_since = time.monotonic()
            yield KEEPALIVE_COMMENT
        await asyncio.sleep(POLL_S)
