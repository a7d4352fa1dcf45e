from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall seconds of `repeat` runs."""
    return statistics.median(timed(fn) for _ in range(repeat))


@dataclass
class Options:
    quick: bool = False
    """A smoke run: small inputs, one repetition. Its numbers mean nothing."""

    @property
    def repeat(self) -> int:
        return 1 if self.quick else 3


@dataclass
class Report:
    """What every bench printed, in order, for bench/results.md."""

    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def section(self, title: str) -> list[str]:
        lines: list[str] = []
        self.sections.append((title, lines))
        print(f"\n## {title}", flush=True)
        return lines

    @staticmethod
    def line(lines: list[str], text: str) -> None:
        lines.append(text)
        print(text, flush=True)

    def markdown(self, options: Options) -> str:
        out = ["# Benchmark results", "",
               "Written by `make bench` (`python -m bench`). Every ratio compares two things measured in the same "
               "run on the same machine; times are medians of "
               f"{options.repeat} run(s). Nothing here is asserted by the tests.", "",
               "## Machine", "", *[f"- {k}: {v}" for k, v in machine().items()]]
        for title, lines in self.sections:
            out += ["", f"## {title}", "", *lines]
        return "\n".join(out) + "\n"


def machine() -> dict[str, str]:
    from director.media import ffmpeg_exe

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        memory = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    ffmpeg = subprocess.run([ffmpeg_exe(), "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    libs = ", ".join(f"{name} {version(name)}" for name in ("moviepy", "opencv-python", "numpy", "langgraph",
                                                             "langgraph-checkpoint-sqlite", "scenedetect",
                                                             "google-genai", "aiolimiter"))
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "ffmpeg": ffmpeg.replace("ffmpeg version ", "") + " (imageio-ffmpeg wheel)",
        "libraries": libs,
    }
