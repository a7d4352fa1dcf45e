"""Checkpoint growth: bytes SqliteSaver writes per super-step, by run size and image size.

Runs real local story runs (low frame rate and the fastest x264 preset: the
checkpoints do not depend on them) and reads back, for every super-step, the
checkpoint row (state snapshot plus metadata) and the pending writes made
after it. The 4x variant paints and animates at 2560x1440 instead of
1280x720; the state holds references to the media, so nothing should grow.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import Options, Report


@contextmanager
def bigger_frames(factor: int) -> Iterator[None]:
    """Every aspect's frame size times `factor` per side, for this process, then back."""
    from director.choices import ASPECT_SIZES

    saved = dict(ASPECT_SIZES)
    ASPECT_SIZES.update({k: (w * factor, h * factor) for k, (w, h) in saved.items()})
    try:
        yield
    finally:
        ASPECT_SIZES.update(saved)


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


def run(ws: Path, scenes: int) -> tuple[list[int], int]:
    from director.api import Director

    run = Director(workspace=ws, backend="local", fps=8, x264_preset="ultrafast").submit(
        f"a {scenes}-scene story about a fox and a crow", scenes=scenes, run_id="growth")
    if run.status != "done":
        raise RuntimeError(f"the {scenes}-scene run ended {run.status}")
    image = run.manifest()["scenes"][0]["image"]
    return per_step(ws / "director.db", "growth"), image["width"] * image["height"]


def main(report: Report, options: Options) -> None:
    sizes = [(1, 1), (2, 1), (1, 2)] if options.quick else [(10, 1), (40, 1), (10, 2)]
    lines = report.section("Checkpoint growth")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for scenes, factor in sizes:
            with bigger_frames(factor):
                steps, pixels = run(Path(tmp) / f"ws-{scenes}-{factor}", scenes)
            rows.append((scenes, pixels, steps))
    Report.line(lines, "Local story runs; bytes SqliteSaver wrote per super-step (checkpoint row + pending writes).")
    Report.line(lines, "")
    Report.line(lines, "| scenes | image pixels | super-steps | mean per step | largest step | total |")
    Report.line(lines, "|---|---|---|---|---|---|")
    for scenes, pixels, steps in rows:
        Report.line(lines, f"| {scenes} | {pixels / 1e6:.1f} MP | {len(steps)} | {statistics.mean(steps) / 1024:.1f} KB "
                           f"| {max(steps) / 1024:.1f} KB | {sum(steps) / 1024:.0f} KB |")
