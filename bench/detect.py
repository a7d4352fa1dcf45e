"""Scene detection: PySceneDetect (ContentDetector, downscaled) vs ffmpeg's own scene score.

Both run on the same 60 s 720p synthetic clip with a cut every 2.5 s, and
report cuts found and speed as multiples of real time.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

from director.media import ffmpeg_exe
from director.tools.detect_scenes import detect
from tests.helpers import synthetic_video

SECONDS, SHOT = 60.0, 2.5


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "bench.mp4"
        truth = synthetic_video(clip, scenes=int(SECONDS / SHOT), seconds=SHOT, fps=25, size=(1280, 720))
        t = time.perf_counter()
        shots, _, _ = detect(str(clip), detector="content", threshold=None, min_seconds=0.5)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(clip), "-vf",
                               "select='gt(scene,0.3)',showinfo", "-an", "-f", "null", "-"],
                              capture_output=True, text=True)
        base = time.perf_counter() - t
        ffmpeg_cuts = re.findall(r"pts_time:([\d.]+)", proc.stderr)
    print(f"detect    60 s 720p, {len(truth)} true cuts: PySceneDetect {len(shots) - 1} cuts in {ours:.2f} s "
          f"({SECONDS / ours:.1f}x real time); ffmpeg select=scene {len(ffmpeg_cuts)} cuts in {base:.2f} s "
          f"({SECONDS / base:.1f}x); ours/baseline = {ours / base:.2f}")
