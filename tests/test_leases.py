"""One writer per run: a second command on a busy run stops with one line, or waits with --wait.

Every test runs on both catalog engines: SQLite and Postgres (the `engine` fixture)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from director.lease import Lease
from director.store import Catalog, LeaseHolder
from tests.helpers import FAST, open_catalog, run_cli

pytestmark = pytest.mark.usefixtures("engine")


def director(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **FAST}
    return subprocess.run([sys.executable, "-m", "director", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def made(capsys, ws: Path, run_id: str = "r") -> Catalog:
    result = run_cli(capsys, "make", "a 1-scene story about an owl", "--backend", "local", "--workspace", str(ws),
                     "--run-id", run_id)
    assert result.code == 0, result.err
    return open_catalog(ws)


def test_a_second_command_on_a_held_run_gets_one_line_and_exit_2(capsys, workspace, fast, tmp_path):
    catalog = made(capsys, workspace)
    held = Lease(catalog, "r", "say").acquire()
    try:
        for args in (["say", "r", "make scene 1 at night"], ["resume", "r"], ["replay", "r"]):
            done = director(*args, "--workspace", str(workspace), cwd=tmp_path)
            assert done.returncode == 2, done.stderr
            [line] = done.stderr.strip().splitlines()
            assert line.startswith(f"error: run r is busy: pid {os.getpid()} (say) since "), line
    finally:
        held.release()
    # Nothing was changed by the refused commands: the revision was never written.
    result = run_cli(capsys, "history", "r", "--workspace", str(workspace))
    assert "night" not in result.out


def test_wait_queues_behind_the_holder_and_no_revision_is_lost(capsys, workspace, fast, tmp_path):
    catalog = made(capsys, workspace)
    held = Lease(catalog, "r", "say").acquire()
    waiter = subprocess.Popen([sys.executable, "-m", "director", "say", "r", "make scene 1 at night", "--wait",
                               "--workspace", str(workspace)], cwd=tmp_path, env={**os.environ, **FAST},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = ""
    while "waiting" not in said:  # it found the run busy and queued: only now does the holder let go
        line = waiter.stderr.readline()
        assert line, said
        said += line
    assert "is busy: pid" in said
    assert catalog.lease_of("r").owner == held.owner  # still ours while it waits
    held.release()
    _, rest = waiter.communicate(timeout=300)
    assert waiter.returncode == 0, said + rest
    # Two revisions queued on one run: both land, one after the other.
    procs = [subprocess.Popen([sys.executable, "-m", "director", "say", "r", change, "--wait", "--workspace",
                               str(workspace)], cwd=tmp_path, env={**os.environ, **FAST}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for change in ("make scene 1 at dawn", "scene 1: the owl wears a red hat")]
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
    prompt = run_cli(capsys, "runs", "--workspace", str(workspace), "--json")
    assert prompt.code == 0
    import json

    manifest = json.loads((workspace / "runs" / "r" / "manifest.json").read_text())
    image_prompt = manifest["scenes"][0]["image_prompt"].lower()
    assert "red hat" in image_prompt and "dawn" in image_prompt


def test_a_dead_holder_on_this_host_is_replaced_at_once(capsys, workspace, fast):
    catalog = made(capsys, workspace)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    now = time.time()
    catalog.take_lease("r", LeaseHolder("ghost", pid, socket.gethostname(), "resume", now, now + 3600),
                       alive=lambda h: True)
    result = run_cli(capsys, "say", "r", "make scene 1 at night", "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert catalog.lease_of("r") is None  # released when the command stopped
