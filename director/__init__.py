"""Director: turn a goal into a finished, narrated, subtitled video."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Checkpoints deserialise only known types, so pydantic state round-trips as
# models. Set before anything imports langgraph.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

from director.version import __version__
__all__ = ["Director", "Goal", "Run", "__version__"]

if TYPE_CHECKING:
    from director.api import Director, Run
    from director.state import Goal


def __getattr__(name: str) -> Any:
    # Lazy, so `import director` (and `director --help`) stays light.
    if name in ("Director", "Run"):
        from director import api

        return getattr(api, name)
    if name == "Goal":
        from director.state import Goal

        return Goal
    raise AttributeError(name)
