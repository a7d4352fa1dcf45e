"""Ken Burns: our OpenCV sub-pixel warp piped to x264 vs ffmpeg's zoompan on a 4x upscale.

zoompan rounds the crop window to whole pixels, so it is usually fed a 4x
upscaled still to hide the stepping; that is the baseline here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import Options, Report, median_of
from director.backends.local.image import LocalIllustrator
from director.backends.local.motion import KenBurns
from director.media import run_ffmpeg

FPS, SIZE = 30, (1280, 720)


def main(report: Report, options: Options) -> None:
    seconds = 1.0 if options.quick else 5.0
    lines = report.section("Ken Burns motion, one clip")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        still = d / "still.png"
        LocalIllustrator().create_image("soft watercolour. a cat and a dog in the garden, sunset", width=SIZE[0],
                                        height=SIZE[1], seed=0, out=still)
        ours = median_of(lambda: KenBurns(crf=20, preset="veryfast").animate(
            still, prompt="", duration=seconds, motion="zoom_in", size=SIZE, fps=FPS, out=d / "ours.mp4"),
            options.repeat)
        frames = int(seconds * FPS)
        zoompan = (f"scale={SIZE[0] * 4}:-1,zoompan=z='min(zoom+{0.14 / frames:.6f},1.14)':d={frames}:"
                   f"x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s={SIZE[0]}x{SIZE[1]}:fps={FPS}")
        base = median_of(lambda: run_ffmpeg(
            ["-loop", "1", "-i", str(still), "-vf", zoompan, "-frames:v", str(frames), "-c:v", "libx264",
             "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", str(d / "zoompan.mp4")], what="zoompan"),
            options.repeat)
    Report.line(lines, f"- {seconds:.0f} s zoom at {SIZE[0]}x{SIZE[1]}, {FPS} fps, x264 veryfast CRF 20: "
                       f"OpenCV warp piped as I420 {ours:.2f} s ({seconds * FPS / ours:.0f} fps); ffmpeg zoompan on a "
                       f"4x upscale {base:.2f} s; ours / zoompan = **{ours / base:.2f}**.")
