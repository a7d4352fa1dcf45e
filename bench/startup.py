"""Start-up and production: what a command costs before it does anything, what a fully memoised rerun
costs, and what a cold offline story costs per second of video.

Every figure is a separate `director` process, as a user runs it:
- `director --help`, and `python -c "import director.api"`;
- a cold story of N scenes (6, 12 and 50; 2 with --quick): CPU seconds (the process and its ffmpeg
  children) per second of video, and the peak memory of the largest process;
- the same command again, with everything in the memo: wall and CPU seconds.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Options, Report


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (with children) and the peak RSS in MiB of the largest child of one
    command, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed: {done.stderr.strip().splitlines()[-1:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024, done.stdout


def video_seconds(path: Path) -> float:
    from director.media import probe

    return float(probe(path).duration or 0.0)


def main(report: Report, options: Options) -> None:
    director = [sys.executable, "-m", "director"]
    lines = report.section("Start-up, memoised reruns and cold production")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DIRECTOR_HOME": str(Path(tmp) / "home")}
        env.pop("DIRECTOR_RAY_ADDRESS", None)
        helps = [run([*director, "--help"], env)[0] for _ in range(options.repeat)]
        imports = [run([sys.executable, "-c", "import director.api"], env)[0] for _ in range(options.repeat)]
        report.line(lines, f"`director --help`: {statistics.median(helps):.2f} s; "
                           f"`import director.api`: {statistics.median(imports):.2f} s (wall, medians).")
        report.line(lines, "")
        report.line(lines, "| scenes | video | cold: CPU s per s of video | cold: peak memory | memoised rerun: wall | "
                           "memoised rerun: CPU |")
        report.line(lines, "|---|---|---|---|---|---|")
        for scenes in ((2,) if options.quick else (6, 12, 50)):
            ws = Path(tmp) / f"ws{scenes}"
            argv = [*director, "make", f"a {scenes}-scene bedtime story about a cat and a dog", "--scenes", str(scenes),
                    "--backend", "local", "--workspace", str(ws)]
            # Peak memory is the largest child so far: measured in a process of its own, it is this story's.
            probe = [sys.executable, "-c", "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                     "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)", *argv]
            start = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall0 = time.perf_counter()
            done = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
            cold_wall = time.perf_counter() - wall0
            end = resource.getrusage(resource.RUSAGE_CHILDREN)
            cold_cpu = (end.ru_utime - start.ru_utime) + (end.ru_stime - start.ru_stime)
            peak = int(done.stdout.strip().splitlines()[-1]) / 1024
            final = next(ws.glob("runs/*/final.mp4"))
            seconds = video_seconds(final)
            reruns = [run(argv, env) for _ in range(options.repeat)]
            wall = statistics.median(r[0] for r in reruns)
            cpu = statistics.median(r[1] for r in reruns)
            report.line(lines, f"| {scenes} | {seconds:.0f} s | {cold_cpu / seconds:.2f} ({cold_wall:.0f} s wall) | "
                               f"{peak:.0f} MiB | {wall:.2f} s | {cpu:.2f} s |")
    report.line(lines, "")
    report.line(lines, "Offline, local backend, default settings (1280x720, 30 fps); a rerun is the same command again, "
                       "answered from its request's record (director/rerun.py: outputs checked unchanged, no graph); "
                       "`--new-run` instead goes through the graph, every tool call served from the memo.")
