"""Local motion: Ken Burns pan/zoom over a still.

Frames come from a sub-pixel affine warp (OpenCV) of the still, so slow
moves glide instead of stepping a pixel at a time as ffmpeg's zoompan does
without heavy upscaling. They are made in I420 and piped straight to the
bundled ffmpeg's x264 (media.encode_frames). MoviePy's writer pipes RGB:
91 fps against 114 this way at 1280x720, and warping the I420 planes
instead of RGB brings it to about 120; x264 itself is the rest. Encodes
hold a render slot, so no more run at once than there are cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from director.media import cover

ZOOM = 1.14  # how far in a zoom goes, and the crop that pans travel inside
MIN_TRAVEL = 0.03
"""The least a move's window edges travel, as a share of the frame's width: less reads as a frozen picture."""
INSTEAD = {"pan_right": ("pan_left", "zoom_in", "zoom_out", "pan_up", "pan_down"),
           "pan_left": ("pan_right", "zoom_in", "zoom_out", "pan_up", "pan_down"),
           "pan_up": ("pan_down", "zoom_in", "zoom_out", "pan_left", "pan_right"),
           "pan_down": ("pan_up", "zoom_in", "zoom_out", "pan_left", "pan_right"),
           "zoom_in": ("zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"),
           "zoom_out": ("zoom_in", "pan_right", "pan_left", "pan_down", "pan_up")}
"""The moves to try, nearest first, when keeping every character whole leaves the one asked for no room."""


def _ease(p: float) -> float:
    return p * p * (3 - 2 * p)


Box = tuple[float, float, float, float]


def _window(z: float, cx: float, cy: float, w: int, h: int) -> Box:
    return cx - w / (2 * z), cy - h / (2 * z), cx + w / (2 * z), cy + h / (2 * z)


def _fit(z: float, cx: float, cy: float, w: int, h: int, keep: Box) -> tuple[float, float, float]:
    """The view (zoom, centre) nearest the one asked for that shows all of `keep` and stays in the picture."""
    z = max(1.0, min(z, w / max(1.0, keep[2] - keep[0]), h / max(1.0, keep[3] - keep[1])))
    half_w, half_h = w / (2 * z), h / (2 * z)
    cx = min(max(cx, keep[2] - half_w, half_w), keep[0] + half_w, w - half_w)
    cy = min(max(cy, keep[3] - half_h, half_h), keep[1] + half_h, h - half_h)
    return z, cx, cy


def ends(motion: str, w: int, h: int, keep: Box | None = None) -> tuple[Box, Box]:
    """The first and last view of a move, as (x0, y0, x1, y1) windows of the picture.

    With `keep` (the box around every character), both ends are moved and zoomed out
    as little as needed to show all of it."""
    slack_x, slack_y = (w - w / ZOOM) / 2, (h - h / ZOOM) / 2
    views = {
        "zoom_in": ((1.0, w / 2, h / 2), (ZOOM, w / 2, h / 2)),
        "zoom_out": ((ZOOM, w / 2, h / 2), (1.0, w / 2, h / 2)),
        "pan_right": ((ZOOM, w / 2 - slack_x, h / 2), (ZOOM, w / 2 + slack_x, h / 2)),
        "pan_left": ((ZOOM, w / 2 + slack_x, h / 2), (ZOOM, w / 2 - slack_x, h / 2)),
        "pan_down": ((ZOOM, w / 2, h / 2 - slack_y), (ZOOM, w / 2, h / 2 + slack_y)),
        "pan_up": ((ZOOM, w / 2, h / 2 + slack_y), (ZOOM, w / 2, h / 2 - slack_y)),
    }
    if motion not in views:
        raise ValueError(f"unknown motion {motion!r}")
    if keep is None:
        first, last = views[motion]
        return _window(*first, w, h), _window(*last, w, h)

    def fitted(move: str) -> tuple[Box, Box]:
        a, b = views[move]
        return _window(*_fit(*a, w, h, keep), w, h), _window(*_fit(*b, w, h, keep), w, h)

    def travel(pair: tuple[Box, Box]) -> float:
        return max(abs(p - q) for p, q in zip(*pair, strict=True))

    # Keeping everyone whole can pin a move in place (a pan toward a character at the edge): then the nearest
    # move that still travels is made instead, so no scene is a frozen picture.
    asked = fitted(motion)
    if travel(asked) >= MIN_TRAVEL * w:
        return asked
    moves = [asked, *(fitted(m) for m in INSTEAD[motion])]
    return next((pair for pair in moves if travel(pair) >= MIN_TRAVEL * w), max(moves, key=travel))


def camera(motion: str, p: float, w: int, h: int, keep: Box | None = None) -> tuple[float, float, float]:
    """Zoom and view centre at progress p in [0, 1] for a motion.

    The view's edges travel in straight lines from the first window to the last, so a box
    that both ends show is shown all the way (a zoom that moved its centre in a straight
    line could cut a corner off in between)."""
    e = _ease(p)
    (a0, b0, a1, b1), (c0, d0, c1, d1) = ends(motion, w, h, keep)
    x0, y0, x1, y1 = a0 + (c0 - a0) * e, b0 + (d0 - b0) * e, a1 + (c1 - a1) * e, b1 + (d1 - b1) * e
    return w / (x1 - x0), (x0 + x1) / 2, (y0 + y1) / 2


def keep_box(boxes: dict[str, list[int]], source: tuple[int, int], size: tuple[int, int],
             margin: float = 0.04) -> Box | None:
    """The box around every character, mapped from the still's pixels to the covered frame, with a margin."""
    if not boxes:
        return None
    (sw, sh), (w, h) = source, size
    scale = max(w / sw, h / sh)  # media.cover: scale to cover, crop the middle
    dx, dy = (sw * scale - w) / 2, (sh * scale - h) / 2
    x0 = min(b[0] for b in boxes.values()) * scale - dx
    y0 = min(b[1] for b in boxes.values()) * scale - dy
    x1 = max(b[2] for b in boxes.values()) * scale - dx
    y1 = max(b[3] for b in boxes.values()) * scale - dy
    pad = margin * min(w, h)
    return max(0.0, x0 - pad), max(0.0, y0 - pad), min(float(w), x1 + pad), min(float(h), y1 + pad)


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
    keep: Box | None = None,
) -> None:
    from director.media import encode_frames

    h, w = still.shape[:2]
    total = max(1, round(duration * fps))
    marks = {round(total * q) for q in (0.25, 0.5, 0.75)}

    def frames() -> Iterator[np.ndarray]:
        for index, frame in enumerate(kenburns_frames(still, motion, total, keep)):
            if report and index in marks:
                report(f"{motion} {round(100 * index / total)}%")
            yield frame

    encode_frames(frames(), out, size=(w, h), fps=fps, crf=crf, preset=preset, what=f"render {motion}")


def kenburns_frames(still: np.ndarray, motion: str, total: int, keep: Box | None = None) -> Iterator[np.ndarray]:
    """The move's frames as I420, warped plane by plane.

    The still is converted to I420 once; each frame warps the luma plane and
    the two quarter-size chroma planes with the same camera, the chroma
    matrix mapping centre-sited samples (luma x = 2c + 0.5). That is half the
    pixels of warping RGB and then converting every frame: 579 against 312
    frames a second at 1280x720 on one core. The yielded buffer is reused.
    """
    import cv2

    h, w = still.shape[:2]
    if w % 2 or h % 2:
        raise ValueError(f"I420 needs an even frame size, not {w}x{h}")
    src = cv2.cvtColor(still, cv2.COLOR_RGB2YUV_I420)
    dst = np.empty_like(src)

    def planes(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        q = h * w // 4
        flat = buf.reshape(-1)
        return (flat[: h * w].reshape(h, w), flat[h * w : h * w + q].reshape(h // 2, w // 2),
                flat[h * w + q :].reshape(h // 2, w // 2))

    (sy, su, sv), (dy, du, dv) = planes(src), planes(dst)
    flags, border = cv2.INTER_LINEAR, cv2.BORDER_REFLECT
    for index in range(total):
        z, cx, cy = camera(motion, index / max(1, total - 1), w, h, keep)
        x0, y0 = cx - w / (2 * z), cy - h / (2 * z)
        luma = np.array([[z, 0.0, -x0 * z], [0.0, z, -y0 * z]])
        chroma = np.array([[z, 0.0, (z * (0.5 - x0) - 0.5) / 2], [0.0, z, (z * (0.5 - y0) - 0.5) / 2]])
        cv2.warpAffine(sy, luma, (w, h), dst=dy, flags=flags, borderMode=border)
        cv2.warpAffine(su, chroma, (w // 2, h // 2), dst=du, flags=flags, borderMode=border)
        cv2.warpAffine(sv, chroma, (w // 2, h // 2), dst=dv, flags=flags, borderMode=border)
        yield dst


class KenBurns:
    """Pan/zoom over the still; no model."""

    name = "local"
    model = "kenburns-v3"  # v3: a move pinned by a character at the edge becomes one that moves

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
        **_: object,
    ) -> None:
        """A pan or zoom over the still (the shot's other parts, a video model's negative prompt or seed, mean
        nothing to a camera move)."""
        from PIL import Image

        from director.backends.local.marks import boxes_of
        from director.media import render_slot

        with render_slot(self.jobs):
            with Image.open(image) as im:
                keep = keep_box(boxes_of(im), im.size, size)  # where the painter drew the characters
                still = cover(np.asarray(im.convert("RGB")), size)
            render_kenburns(still, out, duration=duration, motion=motion, fps=fps, crf=self.crf,
                            preset=self.preset, report=report, keep=keep)
