"""The tool registry: every module in this package that declares a @tool.

Adding a tool is adding one module here; nothing else needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from typing import Any

from director.tooling import Tool


@lru_cache(maxsize=1)
def registry() -> dict[str, Tool]:
    """Name -> Tool, discovered from this package's modules (built on first use)."""
    found: dict[str, Tool] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Tool):
                if value.name in found and found[value.name] is not value:
                    raise TypeError(f"two tools are named {value.name!r}")
                found[value.name] = value
    return found


def declarations(names: list[str] | None = None, *, mode: str | None = None) -> list[dict[str, Any]]:
    """Gemini function declarations (JSON) for the given tools, or all of them (those a `mode` can use)."""
    tools = registry()
    names = names or sorted(n for n, t in tools.items() if mode is None or mode in t.modes)
    return [tools[n].declaration() for n in names]
