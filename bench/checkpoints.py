"""Checkpoint growth: bytes SqliteSaver writes per super-step, by run size and image size.

Runs real local story runs (low frame rate and the fastest x264 preset: the
checkpoints do not depend on them) and reads back, for every super-step, the
checkpoint row (state snapshot plus metadata) and the pending writes made
after it. The runs are at the 360p draft size; the 4x variant paints and
animates at 720p (four times the pixels). The state holds references to the
media, so nothing should grow.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
from pathlib import Path

from bench.common import Options, Report


def per_step(db: Path, run_id: str) -> list[int]:
    """Bytes written per super-step: each checkpoint row plus the writes recorded against it."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT checkpoint_id, length(checkpoint) + length(metadata) FROM checkpoints "
            "WHERE thread_id = ? ORDER BY checkpoint_id", (run_id,)).fetchall()
        writes = dict(conn.execute(
            "SELECT checkpoint_id, sum(length(value)) FROM writes WHERE thread_id = ? GROUP BY checkpoint_id",
            (run_id,)).fetchall())
    return [size + (writes.get(cid) or 0) for cid, size in rows]


def run(ws: Path, scenes: int, resolution: str) -> tuple[list[int], int]:
    from director.api import Director

    run = Director(workspace=ws, backend="local", fps=8, x264_preset="ultrafast").submit(
        f"a {scenes}-scene story about a fox and a crow", scenes=scenes, run_id="growth", resolution=resolution)
    if run.status != "done":
        raise RuntimeError(f"the {scenes}-scene run ended {run.status}")
    image = run.manifest()["scenes"][0]["image"]
    return per_step(ws / "director.db", "growth"), image["width"] * image["height"]


def main(report: Report, options: Options) -> None:
    sizes = [(1, "360p"), (2, "360p"), (1, "720p")] if options.quick else [(10, "360p"), (40, "360p"), (10, "720p")]
    lines = report.section("Checkpoint growth")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenes, resolution in sizes:
            steps, pixels = run(Path(tmp) / f"ws-{scenes}-{resolution}", scenes, resolution)
            rows.append((scenes, pixels, steps))
    Report.line(lines, "Local story runs; bytes SqliteSaver wrote per super-step (checkpoint row + pending writes).")
    Report.line(lines, "")
    Report.line(lines, "| scenes | image pixels | super-steps | mean per step | largest step | total |")
    Report.line(lines, "|---|---|---|---|---|---|")
    for scenes, pixels, steps in rows:
        Report.line(lines, f"| {scenes} | {pixels / 1e6:.1f} MP | {len(steps)} | {statistics.mean(steps) / 1024:.1f} KB "
                           f"| {max(steps) / 1024:.1f} KB | {sum(steps) / 1024:.0f} KB |")
