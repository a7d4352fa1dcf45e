"""Tool calls on a Ray cluster (a real local cluster on loopback: a head and two worker nodes).

The workers have their own environment (the cluster's Postgres URL, as a `director worker`
machine would), every call runs as a Ray task, a worker killed mid-render is replaced and the
call runs again without paying twice, and the rate limits hold across processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter

import pytest

from director.api import Director
from tests.helpers import catalog_rows, check_final

# One xdist worker runs this whole module (make test distributes by file), so there is one Ray cluster at a time:
# its teardown (`ray stop --force`) stops every Ray process on the machine, and a second worker's driver would die
# with its cluster.
pytestmark = pytest.mark.cluster


def test_a_story_runs_with_every_tool_call_on_the_workers(tmp_path, on_ray):
    events: list[dict] = []
    run_id = f"ray-{uuid.uuid4().hex[:8]}"
    run = Director(workspace=tmp_path / "ws", backend="local").submit(
        "a 2-scene story about a fox and an owl", run_id=run_id, motion="still", on_event=events.append)
    assert run.status == "done", run.error
    check_final(run.final, cues=2)
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert finished and all(e.get("node") for e in finished)  # each one came back from a Ray node
    import ray

    workers = {n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) > 0}
    assert {e["node"] for e in finished} <= workers
    # The workers recorded the calls in the shared catalog, each once.
    rows = catalog_rows(tmp_path / "ws", "SELECT tool, key FROM tool_calls WHERE run_id = :run AND NOT reused "
                                         "AND error IS NULL AND tool != 'brain'", {"run": run_id})
    assert len(rows) == len(finished)
    assert [k for k, n in Counter(key for _, key in rows).items() if n > 1] == []


def ray_task_pids(name: str) -> list[int]:
    """Processes of Ray workers running a task whose name starts with `name` (Ray titles them ray::<task>)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if title.startswith(f"ray::{name}"):
            found.append(int(entry))
    return found


def test_a_worker_killed_mid_render_is_replaced_and_nothing_is_paid_twice(tmp_path, on_ray):
    run_id = f"kill-{uuid.uuid4().hex[:8]}"
    killed: list[int] = []
    started = threading.Event()

    def on_event(event: dict) -> None:
        if event["type"] == "tool_started" and event["tool"] == "assemble_video":
            started.set()

    director = Director(workspace=tmp_path / "ws", backend="local", fps=24, resolution="720p")  # a cut long enough to hit
    run = director.start("a 3-scene story about a cat and a dog", run_id=run_id, motion="still", on_event=on_event)
    assert started.wait(300), "the cut never started"
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline:
        for pid in ray_task_pids("assemble_video"):
            os.kill(pid, signal.SIGKILL)  # the worker process dies mid-render, as on a lost machine
            killed.append(pid)
        time.sleep(0.01)
    assert killed, "no Ray worker was found running the cut"
    done = run.wait()
    assert done.status == "done", done.error
    check_final(done.final, cues=3)
    rows = catalog_rows(tmp_path / "ws", "SELECT tool, key FROM tool_calls WHERE run_id = :run AND NOT reused "
                                         "AND error IS NULL AND tool != 'brain'", {"run": run_id})
    assert [k for k, n in Counter(key for _, key in rows).items() if n > 1] == []  # nothing made twice
    assert Counter(tool for tool, _ in rows)["assemble_video"] == 1


THROTTLED = textwrap.dedent("""
    import sys, time
    from director import cluster
    from director.limits import Limits
    shared = None
    if sys.argv[1] != "-":  # as the lifecycle does when it joins a cluster: the cluster's limiter is handed in
        cluster.connect(sys.argv[1])
        shared = cluster.throttle
    limits = Limits(rpm={"shared-model": 120.0}, max_attempts=1, backoff_base_s=0, backoff_max_s=0, shared=shared)
    print("ready", flush=True)
    time.sleep(max(0.0, float(sys.stdin.readline()) - time.time()))  # every process sets off at one moment
    for _ in range(5):
        limits.throttle("shared-model")
        print(time.time(), flush=True)
""")


def starts(address: str, processes: int = 2) -> list[float]:
    procs = [subprocess.Popen([sys.executable, "-c", THROTTLED, address], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    for p in procs:  # each has joined the cluster (or not, for the control) and made its limiter
        assert p.stdout is not None and p.stdout.readline() == "ready\n", p.communicate(timeout=120)[1][-2000:]
    at = f"{time.time() + 0.2}\n"
    outs = [p.communicate(at, timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outs]
    return sorted(float(line) for out, _ in outs for line in out.split())


def test_the_rate_limit_holds_across_processes(on_ray):
    spacing = 60.0 / 120.0
    shared = starts(on_ray.address)
    assert len(shared) == 10
    gaps = [b - a for a, b in zip(shared, shared[1:])]
    assert min(gaps) >= spacing - 0.05, gaps  # one limiter for both: never two requests closer than 60/R
    # The control: each process on its own limiter lets both send at once.
    alone = starts("-")
    assert min(b - a for a, b in zip(alone, alone[1:])) < spacing / 2
