"""Fan-out: N create_image calls through the real google-genai SDK to the loopback fake.

The fake answers every image request after an injected latency. The calls
run as one batch through the Runner, as in a run: at most settings.workers
at once, each waiting on the model's paced rate limit (director.limits). The
lower bound is the issue's: max(latency x ceil(N / workers), N / rate).
Sequential is the same batch with workers=1, the reference notebook's way.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import Options, Report, timed

KEY = "AIzaFAKE-bench-key-not-a-secret-000000"


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def one_batch(fake, n: int, workers: int, rpm: float | None, root: Path) -> tuple[float, list[float]]:  # noqa: ANN001
    """Wall seconds for the batch, and the arrival times of its requests at the fake."""
    from director.tools import registry

    from director.api import Director
    from director.runner import Runner
    from director.state import DirectorState, Goal, Scene, Storyboard, ToolCall

    limits = json.dumps({"gemini-nano-banana-2.1": rpm} if rpm else {})
    with environment(GEMINI_RATE_LIMITS=limits):
        director = Director(workspace=root, backend="gemini", workers=workers, fallback="local")
        session = director.lifecycle._session("gemini")
    runner = Runner(settings=director.settings, backends=session.backends, store=session.store,
                    catalog=session.catalog, tools=registry())
    scenes = [Scene(index=i, image_prompt=f"a lighthouse, view {i}", narration=f"Line {i}.") for i in range(1, n + 1)]
    state = DirectorState(run_id="fanout", goal=Goal(text="bench", scenes=n),
                          storyboard=Storyboard(title="bench", art_style="ink", scenes=scenes))
    calls = [ToolCall(id=f"c{i}", name="create_image", args={"scene": i, "prompt": s.image_prompt, "aspect": "16:9"})
             for i, s in enumerate(scenes, start=1)]
    before = len(fake.calls("image"))
    results: list = []
    seconds = timed(lambda: results.extend(runner.run_batch(state, calls, lambda e: None)))
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"fan-out failed: {failed[:2]}")
    arrivals = sorted(r.at for r in fake.calls("image")[before:])
    assert len(arrivals) == n, arrivals
    return seconds, arrivals


def main(report: Report, options: Options) -> None:
    from tests.fakes.server import FakeGoogle

    n, latency, rpm, workers = (4, 0.3, 120, 2) if options.quick else (10, 1.0, 60, 4)
    lines = report.section(f"Fan-out: {n} image calls through the fake server")
    fake = FakeGoogle().start()
    fake.latency["image"] = latency
    rows = []
    try:
        with environment(GOOGLE_GEMINI_BASE_URL=fake.url, GEMINI_API_KEY=KEY), \
                tempfile.TemporaryDirectory() as tmp:
            for limit in (rpm, None):
                for w in (workers, 1):
                    runs = [one_batch(fake, n, w, limit, Path(tmp) / f"ws-{limit}-{w}-{k}")
                            for k in range(options.repeat)]
                    wall = statistics.median(s for s, _ in runs)
                    gaps = [b - a for _, arrivals in runs for a, b in zip(arrivals, arrivals[1:])]
                    bound = max(latency * math.ceil(n / w), n / (limit / 60) if limit else 0.0)
                    rows.append((limit, w, wall, bound, min(gaps)))
    finally:
        fake.stop()
    Report.line(lines, f"{n} create_image calls, {latency:.1f} s injected latency per request, "
                       f"gemini-nano-banana-2.1; median of {options.repeat}. Lower bound = "
                       "max(latency x ceil(N / workers), N / rate).")
    Report.line(lines, "")
    Report.line(lines, "| rate limit | workers | wall | lower bound | wall / bound | vs sequential | "
                       "closest two requests |")
    Report.line(lines, "|---|---|---|---|---|---|---|")
    sequential = {limit: wall for limit, w, wall, _, _ in rows if w == 1}
    for limit, w, wall, bound, gap in rows:
        Report.line(lines, f"| {f'{limit:.0f}/min' if limit else 'none'} | {w} | {wall:.2f} s | {bound:.2f} s | "
                           f"**{wall / bound:.2f}** | {sequential[limit] / wall:.1f}x faster | {gap:.2f} s apart |")
    Report.line(lines, "")
    Report.line(lines, f"At {rpm}/min the limit, not the workers, sets the pace: requests go out "
                       f"{60 / rpm:.1f} s apart, so no minute ever holds more than {rpm}, and {n} calls with "
                       f"{latency:g} s latency cannot finish sooner than the bound whatever the concurrency. "
                       "Without a limit the workers set it.")
