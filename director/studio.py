"""Entry point for LangGraph's own server and Studio (`langgraph dev`; see langgraph.json).

The platform brings its own checkpointer, so the graph is compiled without one, and it
drives the graph on its event loop, where blocking I/O is refused. So the factory is a
coroutine: everything that touches the disk or the database (settings, the workspace,
the catalog, the providers) is built once per process on a worker thread, and each run
gets a fresh runner (its own budget) over it, also built off the loop. The nodes are
plain functions, which LangGraph runs on its executor threads, never on the loop.

Settings come from the environment as usual (DIRECTOR_HOME, DIRECTOR_DATABASE_URL, keys).
A run's input is the graph's state: {"run_id": ..., "goal": {"text": ..., "scenes": ...}}.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

_director: Any = None
_lock = threading.Lock()


def _compile() -> Any:
    global _director
    from director.api import Director

    with _lock:
        if _director is None:
            _director = Director()
        director = _director
    family, _reason = director.choose_backend()
    return director.lifecycle.compile(family, checkpointer=None, cached=True)


async def graph(config: Any = None) -> Any:
    """Graph factory: the same brain -> tools -> finish loop the CLI runs, built off the event loop."""
    return await asyncio.to_thread(_compile)
