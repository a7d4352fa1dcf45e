"""Local motion: Ken Burns pan/zoom over a still, or a plain hold.

Frames come from a sub-pixel affine warp (OpenCV) of the still, so slow
moves glide instead of stepping a pixel at a time as ffmpeg's zoompan does
without heavy upscaling. They are converted to I420 and piped straight to
the bundled ffmpeg's x264 (media.encode_frames); MoviePy's writer pipes RGB,
which measured 91 fps against 114 this way. Encodes hold a render slot, so
no more run at once than there are cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ZOOM = 1.14  # how far in a zoom goes, and the crop that pans travel inside


def _ease(p: float) -> float:
    return p * p * (3 - 2 * p)


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize and centre-crop so the image exactly fills `size` (w, h)."""
    import cv2

    w, h = size
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    nw, nh = max(w, round(iw * scale)), max(h, round(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (nw, nh), interpolation=interp) if (nw, nh) != (iw, ih) else image
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(resized[y0 : y0 + h, x0 : x0 + w])


def camera(motion: str, p: float, w: int, h: int) -> tuple[float, float, float]:
    """Zoom and view centre at progress p in [0, 1] for a motion."""
    e = _ease(p)
    if motion == "zoom_in":
        return 1.0 + (ZOOM - 1.0) * e, w / 2, h / 2
    if motion == "zoom_out":
        return ZOOM - (ZOOM - 1.0) * e, w / 2, h / 2
    slack_x, slack_y = (w - w / ZOOM) / 2, (h - h / ZOOM) / 2
    if motion == "pan_right":
        return ZOOM, w / 2 - slack_x + 2 * slack_x * e, h / 2
    if motion == "pan_left":
        return ZOOM, w / 2 + slack_x - 2 * slack_x * e, h / 2
    if motion == "pan_down":
        return ZOOM, w / 2, h / 2 - slack_y + 2 * slack_y * e
    if motion == "pan_up":
        return ZOOM, w / 2, h / 2 + slack_y - 2 * slack_y * e
    raise ValueError(f"unknown motion {motion!r}")


def render_kenburns(
    still: np.ndarray,
    out: Path,
    *,
    duration: float,
    motion: str,
    fps: int,
    crf: int,
    preset: str,
    report: Callable[[str], None] | None = None,
) -> None:
    import cv2

    from director.media import encode_frames

    h, w = still.shape[:2]
    total = max(1, round(duration * fps))
    marks = {round(total * q) for q in (0.25, 0.5, 0.75)}

    def frames() -> Iterator[np.ndarray]:
        for index in range(total):
            if report and index in marks:
                report(f"{motion} {round(100 * index / total)}%")
            z, cx, cy = camera(motion, index / max(1, total - 1), w, h)
            x0, y0 = cx - w / (2 * z), cy - h / (2 * z)
            m = np.array([[z, 0.0, -x0 * z], [0.0, z, -y0 * z]])
            frame = cv2.warpAffine(still, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            yield cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)

    encode_frames(frames(), out, size=(w, h), fps=fps, crf=crf, preset=preset, what=f"render {motion}")


class KenBurns:
    """Pan/zoom over the still; no model."""

    name = "local"
    model = "kenburns-v1"

    def __init__(self, *, crf: int, preset: str, jobs: int | None = None) -> None:
        self.crf = crf
        self.preset = preset
        self.jobs = jobs

    def animate(
        self,
        image: Path,
        *,
        prompt: str,
        duration: float,
        motion: str,
        size: tuple[int, int],
        fps: int,
        out: Path,
        report: Callable[[str], None] | None = None,
    ) -> None:
        from PIL import Image

        from director.media import render_slot

        with render_slot(self.jobs):
            with Image.open(image) as im:
                still = cover(np.asarray(im.convert("RGB")), size)
            render_kenburns(still, out, duration=duration, motion=motion, fps=fps, crf=self.crf,
                            preset=self.preset, report=report)
