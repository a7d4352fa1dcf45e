"""Ctrl-C and SIGTERM stop a run at once: encodes killed, run marked interrupted, resumable, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import FAST, check_final, db_rows


def processes_touching(path: Path) -> list[int]:
    """Live processes whose command line names `path` (an ffmpeg writing into the workspace)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(path).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_resumably(tmp_path, sig):
    ws = tmp_path / "ws"
    env = {**os.environ, **FAST}
    proc = subprocess.Popen([sys.executable, "-m", "director", "make", "a 3-scene story about a cat", "--backend",
                             "local", "--workspace", str(ws), "--run-id", "i"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen = ""
    while "✓ create_image" not in seen:  # the media batch is under way: encodes and voices in flight
        line = proc.stderr.readline()
        assert line, seen
        seen += line
    proc.send_signal(sig)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest
    assert rest.strip().splitlines()[-1] == "interrupted: director resume i"
    time.sleep(0.2)
    assert processes_touching(ws) == []  # no ffmpeg left writing
    [(status, error)] = db_rows(ws / "director.db", "SELECT status, error FROM runs")
    assert status == "interrupted" and "interrupted" in error
    assert not (ws / "runs" / "i" / "final.mp4").exists()
    resumed = subprocess.run([sys.executable, "-m", "director", "resume", "i", "--workspace", str(ws)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    check_final(Path(resumed.stdout.strip().splitlines()[-1]), cues=3)
