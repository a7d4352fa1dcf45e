"""A `director make` that has finished before, answered without starting the graph.

Through the graph, a fully memoised rerun costs about 2 s, nearly all of it importing LangGraph and the
media stack, to execute nothing and write the same outputs into a new run. When a CLI make finishes, its
request is recorded under a key: the goal, the options given, the process's choices (executor, fallback),
the public settings and config.toml, the code, and the size and time of every file the options name. The
same command again finds the record, checks that the run's outputs are still there and unchanged, and
prints them: nothing is imported past the CLI and the settings. Anything different (another option, an
edited source clip, a revised run, a new version of Director) misses, and the run goes through the graph,
where the memo still serves every unchanged call. `--new-run` always makes a new run.

The key holds no secret: the settings enter it as their public form, where a key is only "set" or not.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import director

RECORDS = "requests"
"""The records' folder in the workspace: one JSON file per finished request, named by its key."""


def code_fingerprint() -> str:
    """The version and every source file's size and time: an edit, an install or an upgrade changes it."""
    entries: list[str] = [director.__version__]
    package, *checkout = list(director.__path__)
    roots = [package, *(os.path.join(c, part) for c in checkout for part in ("tools", "prompts"))]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                st = os.stat(os.path.join(folder, name))
                entries.append(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


def _files(value: Any) -> dict[str, list[int]]:
    """The size and time of each existing file a value names, and of the files beside it with the same stem
    (a clip's JSON sidecar), so an edited input is a different request."""
    values = value if isinstance(value, list | tuple) else [value]
    found: dict[str, list[int]] = {}
    for item in values:
        if not isinstance(item, str | Path) or not str(item) or "\n" in str(item):
            continue
        path = Path(item).expanduser()
        try:
            if not path.is_file():
                continue
            for near in sorted(path.parent.glob(f"{path.stem}.*")):
                st = near.stat()
                found[str(near.resolve())] = [st.st_size, st.st_mtime_ns]
        except OSError:
            continue
    return found


def request_key(goal: str, given: dict[str, Any], *, process: dict[str, Any], settings: Any) -> str:
    """The request's key: what decides what a make produces, and nothing secret."""
    files: dict[str, list[int]] = {}
    for value in given.values():
        files.update(_files(value))
    request = {
        "goal": goal,
        "options": given,
        "process": process,
        "settings": settings.public_dict(),
        "config": settings.file_config(),
        "files": files,
        "code": code_fingerprint(),
        "cwd": os.getcwd(),  # relative paths in the options are the cwd's
    }
    text = json.dumps(request, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def record(workspace: Path, key: str, run: Any) -> None:
    """Keep a finished run's answer to its request (atomically: a crash leaves the old record or none)."""
    if run.status != "done" or run.final is None:
        return
    said = [e.get("say") for e in getattr(run, "_log", []) if e.get("type") == "brain" and e.get("say")]
    outputs = {name: [str(path), *_stat(Path(path))] for name, path in run.outputs.items() if Path(path).is_file()}
    body = {"run_id": run.id, "said": said[-1] if said else "", "outputs": outputs,
            "calls": run.executed + run.reused, "cost_usd": run.cost_usd}
    folder = workspace / RECORDS
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(body), encoding="utf-8")
    os.replace(tmp, folder / f"{key}.json")


def lookup(workspace: Path, key: str) -> dict[str, Any] | None:
    """The record of this request, if its run's outputs are all still there and unchanged; else None."""
    path = workspace / RECORDS / f"{key}.json"
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        outputs = body["outputs"]
        if "final.mp4" not in outputs:
            return None
        for _, (where, size, mtime) in outputs.items():
            if _stat(Path(where)) != [size, mtime]:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return dict(body)
