"""The benchmarks still run: `python -m bench --quick` end to end (figures printed, never asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_bench_runs_and_reports(tmp_path):
    out = tmp_path / "results.md"
    # The cluster bench starts Postgres, S3 and two Ray clusters (minutes); the cluster tests cover its pieces.
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--skip", "cluster", "--out", str(out)], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    for heading in ("## Machine", "## Full render and re-render", "## Fan-out", "## Checkpoint growth",
                    "## Scene detection", "## Ken Burns motion", "## API: POST to the first storyboard picture"):
        assert heading in text, heading
    assert "| Ken Burns |" in text and "| plain stills |" in text and "Re-render after changing scene" in text
    assert text.count("| 120/min |") == 2 and text.count("| none |") == 2
    rows = [line for line in text.splitlines() if line.startswith("| 3 |") or line.startswith("| 6 |")]
    assert len(rows) == 3  # 3 and 6 scenes, and 3 with 4x images
    assert "cores" in text and "ffmpeg" in text
    assert "| HTTP (`POST /api/runs`" in text and "HTTP / Python:" in text
