"""Resource failures give one line and leave the run resumable: a full disk, a read-only or damaged workspace.

A real full disk and a real read-only file system: a small tmpfs and a read-only bind
mount, which need root (CI runs as root); elsewhere these tests skip, saying why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FAST, check_final


def mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or 'not root'}); these tests need root")


def umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def director(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "director", *args], capture_output=True, text=True,
                          env={**os.environ, **FAST}, timeout=300)


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    return lines[-1]


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk))
    yield disk
    umount(disk)


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_full_disk_names_the_path_and_the_run_resumes_once_there_is_room(small_disk):
    ws = small_disk / "ws"
    done = director("make", "a 3-scene story about a cat", "--backend", "local", "--workspace", str(ws),
                    "--run-id", "full")
    assert done.returncode == 1, done.stderr
    line = one_line(done.stderr)
    assert line.startswith("error: the disk is full writing ") and "director resume full" in line, line
    assert not (ws / "runs" / "full" / "final.mp4").exists()
    runs = json.loads(director("runs", "--workspace", str(ws), "--json").stdout)
    assert [r["status"] for r in runs] in (["failed"], ["interrupted"])
    mount("-o", "remount,size=400m", str(small_disk))
    done = director("resume", "full", "--workspace", str(ws))
    assert done.returncode == 0, done.stderr
    check_final(Path(done.stdout.strip().splitlines()[-1]), cues=3)


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_read_only_workspace_still_lists_and_shows_runs(tmp_path):
    ws = tmp_path / "ws"
    assert director("make", "a 1-scene story", "--backend", "local", "--motion", "still", "--workspace", str(ws),
                    "--run-id", "ro").returncode == 0
    view = tmp_path / "view"
    view.mkdir()
    mount("--bind", str(ws), str(view))
    try:
        mount("-o", "remount,ro,bind", str(view))
        runs = director("runs", "--workspace", str(view), "--json")
        assert runs.returncode == 0, runs.stderr
        assert [r["id"] for r in json.loads(runs.stdout)] == ["ro"]
        history = director("history", "ro", "--workspace", str(view))
        assert history.returncode == 0 and "published final.mp4" in history.stdout, history.stderr
        change = director("say", "ro", "make scene 1 at night", "--workspace", str(view))
        assert change.returncode != 0
        assert "is read-only" in one_line(change.stderr)
    finally:
        umount(view)


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_damaged_database_names_the_file_and_suggests_doctor(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "director.db").write_bytes(b"\x00garbage" * 512)
    for args in (["runs"], ["history", "x"], ["resume", "x"], ["make", "a story", "--backend", "local"]):
        done = director(*args, "--workspace", str(ws))
        assert done.returncode != 0
        line = one_line(done.stderr)
        assert f"{ws / 'director.db'}: the database cannot be used" in line and "director doctor" in line, line
    (ws / "director.db").write_bytes(b"")
    done = director("runs", "--workspace", str(ws))
    assert done.returncode == 2 and "holds no catalog" in one_line(done.stderr)
