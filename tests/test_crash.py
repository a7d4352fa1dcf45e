"""Every crash is resumable: a run killed (SIGKILL) at any moment finishes on resume, paying for nothing twice.

The kill tests run on both catalog engines, SQLite and Postgres (the `engine` fixture)."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.context
import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import FAST, catalog_rows, check_final

ROOT = Path(__file__).resolve().parents[1]

KILLER = textwrap.dedent("""
    import sys
    from tests.test_crash import kill_at_point

    kill_at_point(sys.argv[1], int(sys.argv[2]))
""")


def kill_at_point(workspace: str, kill_at: int) -> None:
    """Run the story and SIGKILL this process at its kill_at-th point (-1: never); print the count.

    One scene: a story has as many super-steps whatever its length (each batch holds every scene's calls of a
    kind), and a batch of one scene's calls still runs several at once (narration, sheets; clip, music, mix)."""
    from director.api import Director

    seen: list[str] = []

    def on_event(event: dict) -> None:
        # Points to die at: the run row exists but nothing ran; the first node started (the
        # graph's input checkpoint is written); then after every super-step's checkpoint.
        if event["type"] in ("run_started", "checkpoint") or event["type"] == "brain" and len(seen) == 1:
            seen.append(event["type"])
            if len(seen) - 1 == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    Director(workspace=workspace, backend="local").submit(
        "a 1-scene story about a cat and a dog", run_id="crash", motion="still", on_event=on_event)
    print("points", len(seen), flush=True)


def resume_in_child(workspace: str, out: str) -> None:
    from director.api import Director

    final = Director(workspace=workspace).resume("crash").final
    Path(out).write_text(str(final or ""))


def run_killer(ws: Path, kill_at: int, tmp_path: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter killed at a point: what a user's crashed `director make` leaves."""
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    return subprocess.run([sys.executable, str(script), str(ws), str(kill_at)], capture_output=True, text=True,
                          env={**(env or {**os.environ, **FAST}), "PYTHONPATH": str(ROOT)}, cwd=ROOT, timeout=300)


def _with_env(env: dict[str, str], fn: Callable[..., None], *args: object) -> None:
    os.environ.update(env)
    fn(*args)


@pytest.fixture(scope="module")
def warm() -> Iterator[multiprocessing.context.ForkServerContext]:
    """Processes forked from one server that imported Director once: a kill point costs its own run, not a
    fresh interpreter's imports. The server imports modules and loads the goal parser (no threads), so a fork
    is as clean as a new process."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["director.api", "director.lifecycle", "director.graph", "director.tools",
                                "langgraph.checkpoint.sqlite", "moviepy", "piper", "tests.warm_parser",
                                "tests.test_crash"])
    yield ctx


def forked(ctx: Any, env: dict[str, str], fn: Callable[..., None], *args: object) -> int:
    """Run fn(*args) in a process forked from the warm server, with env; its exit code (-9 when killed)."""
    proc = ctx.Process(target=_with_env, args=(env, fn, *args))
    proc.start()
    proc.join(300)
    assert proc.exitcode is not None, "a forked run hung"
    return int(proc.exitcode)


def executed_twice(ws: Path, url: str | None = None) -> list[str]:
    rows = catalog_rows(ws, "SELECT key FROM tool_calls WHERE NOT reused AND error IS NULL AND tool != 'brain'",
                        url=url)
    return [key for key, n in Counter(k for (k,) in rows).items() if n > 1]


@pytest.fixture(scope="module")
def points(tmp_path_factory) -> int:
    """The kill points of the story, counted on one whole run: as many on either catalog engine."""
    tmp = tmp_path_factory.mktemp("whole")
    whole = run_killer(tmp / "ws", -1, tmp)
    assert whole.returncode == 0, whole.stderr
    return int(whole.stdout.split()[-1])


def test_a_run_killed_at_every_boundary_resumes_and_pays_nothing_twice(tmp_path, engine, request, warm, points):
    assert points >= 6  # run_started, the first brain turn, and the super-steps after it
    server = request.getfixturevalue("postgres_server") if engine == "postgres" else None
    by_cli = points // 2  # one kill point is resumed by `director resume` in a fresh interpreter, as a user would

    def kill_and_resume(kill_at: int) -> None:
        ws = tmp_path / f"ws{kill_at}"
        # On Postgres each workspace gets a database of its own, as on SQLite it has a file of its own.
        env = {**FAST, **({"DIRECTOR_DATABASE_URL": server.create_database()} if server else {})}
        assert forked(warm, env, kill_at_point, str(ws), kill_at) == -signal.SIGKILL, kill_at
        [(status,)] = catalog_rows(ws, "SELECT status FROM runs", url=env.get("DIRECTOR_DATABASE_URL"))
        assert status in ("running", "done")  # as the dead process left it; "running" reads as interrupted
        if kill_at == by_cli:
            resumed = subprocess.run([sys.executable, "-m", "director", "resume", "crash", "--workspace", str(ws)],
                                     capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
            assert resumed.returncode == 0, (kill_at, resumed.stderr)
            final = resumed.stdout.strip().splitlines()[-1]
        else:
            out = ws / "resumed.txt"
            assert forked(warm, env, resume_in_child, str(ws), str(out)) == 0, kill_at
            final = out.read_text()
        check_final(Path(final), cues=1)
        assert executed_twice(ws, env.get("DIRECTOR_DATABASE_URL")) == [], kill_at

    # Every boundary on SQLite; on Postgres, whose catalog code is the same above the engine, the first two (the
    # run row alone, and the graph's first checkpoint), one in the middle and the last.
    chosen = range(points) if engine == "sqlite" else sorted({0, 1, points // 2, points - 1})
    # Two at a time (each in its own workspace): the load makes the kill points land at varied moments too.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(kill_and_resume, chosen))


def test_runs_shows_a_killed_run_as_interrupted(tmp_path, capsys):
    from tests.helpers import run_cli

    ws = tmp_path / "ws"
    assert run_killer(ws, 2, tmp_path).returncode == -9
    rows = json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)
    assert [r["status"] for r in rows] == ["interrupted"]


@pytest.mark.parametrize("kill_at", [0])
def test_doctor_marks_a_dead_run_interrupted(tmp_path, capsys, kill_at, engine):
    from tests.helpers import run_cli

    ws = tmp_path / "ws"
    assert run_killer(ws, kill_at, tmp_path).returncode == -9
    result = run_cli(capsys, "doctor", "--repair", "--workspace", str(ws))
    assert "run crash: left running by pid" in result.out
    [(status,)] = catalog_rows(ws, "SELECT status FROM runs")
    assert status == "interrupted"
