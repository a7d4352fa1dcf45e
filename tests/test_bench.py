"""The benchmarks still run: each of `python -m bench --quick`'s benches end to end, in a process of its own (so
make test's workers share them out), with its figures printed, never asserted. They run at the tests' draft settings
(FAST: what the runs they start do not choose themselves is drawn at 360p, 12 fps): this checks that every bench runs
and reports, not its figures, which `make bench` measures at the defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import FAST

ROOT = Path(__file__).resolve().parents[1]
# The cluster bench starts Postgres, S3 and two Ray clusters (minutes); the cluster tests cover its pieces.
HEADINGS = {
    "render": ("## Full render and re-render", "| Ken Burns |", "| plain stills |", "Re-render after changing scene"),
    "fanout": ("## Fan-out", "| 120/min |", "| none |"),
    "checkpoints": ("## Checkpoint growth",),
    "detect": ("## Scene detection",),
    "kenburns": ("## Ken Burns motion",),
    "api": ("## API: POST to the first storyboard picture", "| HTTP (`POST /api/runs`", "HTTP / Python:"),
    "startup": ("## Start-up, memoised reruns and cold production", "`director --help`"),
}


def quick(tmp_path: Path, name: str) -> str:
    out = tmp_path / "results.md"
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--only", name, "--out", str(out)], cwd=ROOT,
                          env={**os.environ, **FAST, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out.read_text()


@pytest.mark.parametrize("name", sorted(HEADINGS))
def test_every_bench_runs_and_reports(tmp_path, name):
    text = quick(tmp_path, name)
    assert "## Machine" in text and "cores" in text and "ffmpeg" in text
    for heading in HEADINGS[name]:
        assert heading in text, heading
    if name == "fanout":
        assert text.count("| 120/min |") == 2 and text.count("| none |") == 2
    if name == "checkpoints":
        rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
        assert len(rows) == 3  # 1 and 2 scenes, and 1 with 4x images


def test_every_bench_but_the_cluster_one_is_checked():
    from bench.__main__ import BENCHES

    assert set(BENCHES) - {"cluster"} == set(HEADINGS)
