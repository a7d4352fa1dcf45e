"""The HTTP face's latency: from POST /api/runs to the first storyboard picture, local backend.

A client sees a picture as soon as GET /api/runs/{id} lists one. The baseline is the same
goal through the Python API (Director.start, then the newest checkpoint read the same way),
measured in the same run, so the ratio is what the HTTP layer adds: the request, the worker
pool hand-off and the JSON of the run object.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import Options, Report

GOAL = "a 3-scene bedtime story about a cat and a dog"


def until(check: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("no storyboard picture within two minutes")
        time.sleep(0.01)


def first_picture_http(client: Any, seed: int) -> tuple[float, float]:
    """(seconds until POST returned, seconds until the run object lists a picture)."""
    start = time.perf_counter()
    response = client.post("/api/runs", json={"goal": GOAL, "approve": True, "seed": seed})
    if response.status_code != 201:
        raise RuntimeError(response.text)
    posted = time.perf_counter() - start
    run_id = response.json()["id"]
    until(lambda: any(s["image"] for s in client.get(f"/api/runs/{run_id}").json()["scenes"]))
    seen = time.perf_counter() - start
    until(lambda: client.get(f"/api/runs/{run_id}").json()["status"] != "running")  # paused at the gate
    return posted, seen


def first_picture_python(director: Any, seed: int) -> float:
    start = time.perf_counter()
    run = director.start(GOAL, approve=True, seed=seed, background=True)

    def drawn() -> bool:
        state, _ = director.lifecycle.latest(run.id)
        board = state.storyboard if state else None
        return bool(board and any(s.image for s in board.scenes))

    until(drawn)
    seen = time.perf_counter() - start
    run.wait_quietly(120)
    return seen


def main(report: Report, options: Options) -> None:
    from fastapi.testclient import TestClient

    from director.api import Director
    from director.server import create_app

    lines = report.section("API: POST to the first storyboard picture")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DIRECTOR_HOME", str(Path(tmp) / "home"))
        app = create_app(workspace=Path(tmp) / "http", workers=2, backend="local")
        director = Director(Path(tmp) / "python", backend="local")
        director.start(GOAL, approve=True, seed=999, background=True).wait_quietly(120)  # warm both paths up
        posted, http, python = [], [], []
        origin = "http://127.0.0.1:8000"  # the studio's own page: a loopback name and the server's Origin
        with TestClient(app, base_url=origin, headers={"Origin": origin}) as client:
            first_picture_http(client, 999)
            for seed in range(options.repeat):  # a new seed each time: nothing comes from the memo
                p, h = first_picture_http(client, seed)
                posted.append(p)
                http.append(h)
                python.append(first_picture_python(director, seed))
    p, h, b = statistics.median(posted), statistics.median(http), statistics.median(python)
    report.line(lines, "| path | POST returned | first picture |")
    report.line(lines, "|---|---|---|")
    report.line(lines, f"| HTTP (`POST /api/runs`, polling `GET /api/runs/{{id}}`) | {p * 1000:.0f} ms | {h:.2f} s |")
    report.line(lines, f"| Python (`Director.start`, reading the newest checkpoint) | | {b:.2f} s |")
    report.line(lines, "")
    report.line(lines, f"HTTP / Python: {h / b:.2f}x ({GOAL!r}, local backend, approval on, a fresh seed per run).")
