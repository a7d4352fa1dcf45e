"""Entry point for LangGraph Server / Studio (see langgraph.json).

The platform brings its own checkpointer, so the graph is compiled without
one. Settings come from the environment as usual (DIRECTOR_HOME, keys).
"""

from __future__ import annotations

from typing import Any


def graph(config: Any = None) -> Any:
    """Graph factory: the same brain -> tools -> finish loop the CLI runs."""
    from director.api import Director

    director = Director()
    family, _reason = director.choose_backend()
    return director.compile(family, checkpointer=None)
