"""Director: turn a goal into a finished, narrated, subtitled video."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# Checkpoints deserialise only known types, so pydantic state round-trips as
# models. Set before anything imports langgraph.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")

from director.version import __version__

# A source checkout keeps tools/ and prompts/ beside director/ (an install maps them into the package, see
# pyproject.toml). Imported from the checkout itself, by anything that has the checkout on its path (a Ray
# worker started there, `python -c` in it), the package finds them there too.
_here = os.path.dirname(os.path.abspath(__file__))
_checkout = os.path.dirname(_here)
if not os.path.isdir(os.path.join(_here, "tools")) and os.path.isfile(os.path.join(_checkout, "tools", "__init__.py")) \
        and os.path.isfile(os.path.join(_checkout, "pyproject.toml")):
    __path__.append(_checkout)
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
