"""Ken Burns: our MoviePy + OpenCV sub-pixel warp vs ffmpeg's zoompan on a 4x upscale.

zoompan rounds the crop window to whole pixels, so it is usually fed a 4x
upscaled still to hide the stepping; that is the baseline here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import best_of
from director.backends.local.image import LocalIllustrator
from director.backends.local.motion import KenBurns
from director.media import run_ffmpeg

SECONDS, FPS, SIZE = 5.0, 30, (1280, 720)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        still = d / "still.png"
        LocalIllustrator().create_image("soft watercolour. a cat and a dog in the garden, sunset", width=SIZE[0],
                                        height=SIZE[1], seed=0, out=still)
        ours = best_of(lambda: KenBurns(crf=20, preset="veryfast").animate(
            still, prompt="", duration=SECONDS, motion="zoom_in", size=SIZE, fps=FPS, out=d / "ours.mp4"))
        frames = int(SECONDS * FPS)
        zoompan = (f"scale={SIZE[0] * 4}:-1,zoompan=z='min(zoom+{0.14 / frames:.6f},1.14)':d={frames}:"
                   f"x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s={SIZE[0]}x{SIZE[1]}:fps={FPS}")
        base = best_of(lambda: run_ffmpeg(
            ["-loop", "1", "-i", str(still), "-vf", zoompan, "-frames:v", str(frames), "-c:v", "libx264",
             "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(d / "zoompan.mp4")], what="zoompan"))
    print(f"kenburns  {SECONDS:.0f} s clip at {SIZE[0]}x{SIZE[1]}: moviepy+opencv {ours:.2f} s "
          f"({SECONDS / ours:.2f}x real time), ffmpeg zoompan@4x {base:.2f} s; ours/baseline = {ours / base:.2f}")
