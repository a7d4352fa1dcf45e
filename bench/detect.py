"""Scene detection: PySceneDetect (ContentDetector, downscaled) vs ffmpeg's own scene score.

Both run on the same synthetic 720p clip with a cut every 2.5 s, and report
cuts found and speed as multiples of real time.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from director.tools.detect_scenes import detect

from bench.common import Options, Report, median_of
from director.media import ffmpeg_exe
from tests.helpers import synthetic_video

SHOT = 2.5


def main(report: Report, options: Options) -> None:
    seconds = 10.0 if options.quick else 60.0
    lines = report.section("Scene detection")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "bench.mp4"
        truth = synthetic_video(clip, scenes=int(seconds / SHOT), seconds=SHOT, fps=25, size=(1280, 720))
        found: dict[str, int] = {}

        def ours() -> None:
            shots, _, _ = detect(str(clip), detector="content", threshold=None, min_seconds=0.5)
            found["ours"] = len(shots) - 1

        def ffmpeg() -> None:
            proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(clip), "-vf",
                                   "select='gt(scene,0.3)',showinfo", "-an", "-f", "null", "-"],
                                  capture_output=True, text=True)
            found["ffmpeg"] = len(re.findall(r"pts_time:([\d.]+)", proc.stderr))

        a, b = median_of(ours, options.repeat), median_of(ffmpeg, options.repeat)
    Report.line(lines, f"- {seconds:.0f} s of 1280x720 at 25 fps with {len(truth)} true cuts: PySceneDetect found "
                       f"{found['ours']} in {a:.2f} s (**{seconds / a:.0f}x real time**); ffmpeg `select=scene` "
                       f"found {found['ffmpeg']} in {b:.2f} s ({seconds / b:.0f}x); ours / ffmpeg = {a / b:.2f}.")
