"""Offline trailer shots as moving footage: the source window itself, styled frame by frame.

A trailer's still is one frame of its shot, styled by the local editor (director/backends/local/edit.py). Its
clip is the shot's real footage with the same operations applied to every frame, so the rider rides and the
rabbit blinks, instead of a pan over the still:

- a tilt-shift miniature keeps a sharp band where the action is: the band's centre follows the rows where the
  picture changes most from one frame to the next (smoothed, so it glides rather than jumps);
- the window is played with a speed ramp: faster at the start and slower at the end (1.4 to 0.6 times the
  shot's average pace), the way trailers land on a moment; a window longer than the clip needs is sped up (at
  most 1.25 times on average), and a shorter one slowed down, never looped;
- frames are cropped to the frame shape, then piped as I420 to x264 like every local clip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from director.backends.local.edit import APPLY, parse_operations, tilt_shift
from director.errors import MediaError

FASTEST = 1.25
"""The average speed-up of a window longer than its clip (more would read as a time-lapse)."""


def ramp(p: float) -> float:
    """Source progress at output progress p: an ease-out, 1.4x the average pace at the start, 0.6x at the end."""
    return 0.6 * p + 0.4 * (1 - (1 - p) ** 2)


def source_times(start: float, end: float, duration: float, total: int) -> list[float]:
    """The source time of each of `total` output frames."""
    window = max(0.0, end - start)
    used = min(window, duration * FASTEST)
    return [start + used * ramp(i / max(1, total - 1)) for i in range(total)]


def window_frames(path: Path, times: list[float]) -> Iterator[np.ndarray]:
    """The decoded RGB frame shown at each time (the last frame at or before it), decoding forward once."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot read the source video {path.name}: {exc}") from None
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = float(stream.time_base or 0) or 1 / 90000
        container.seek(max(0, int(times[0] / base) - 1), stream=stream, backward=True, any_frame=False)
        shown: np.ndarray | None = None
        pending = iter(times)
        want = next(pending, None)
        for frame in container.decode(stream):
            at = float(frame.pts * base) if frame.pts is not None else 0.0
            while want is not None and at > want + 1e-6 and shown is not None:
                yield shown
                want = next(pending, None)
            if want is None:
                return
            shown = frame.to_ndarray(format="rgb24")
        while want is not None and shown is not None:  # the window runs to the source's end
            yield shown
            want = next(pending, None)
    if shown is None:
        raise MediaError(f"the source video {path.name} has no frames at {times[0]:.2f} s")


class Follow:
    """The tilt-shift band's centre, following where the picture moves."""

    def __init__(self, centre: float = 0.58) -> None:
        self.centre = centre
        self.last: np.ndarray | None = None

    def __call__(self, frame: np.ndarray) -> float:
        import cv2

        small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (64, 36), interpolation=cv2.INTER_AREA)
        small = small.astype(np.float32)
        if self.last is not None:
            rows = np.abs(small - self.last).sum(axis=1)
            if rows.sum() > 36 * 64 * 0.1:  # enough change (a tenth of a grey level a pixel) to say where
                target = float((rows * np.arange(36)).sum() / rows.sum() / 35)
                self.centre += 0.15 * (min(0.75, max(0.3, target)) - self.centre)
        self.last = small
        return self.centre


def styled(instruction: str) -> Callable[[np.ndarray], np.ndarray]:
    """A frame styled with the operations the still's instruction names (none: the footage as it is)."""
    ops = parse_operations(instruction)
    follow = Follow()

    def apply(frame: np.ndarray) -> np.ndarray:
        for op in ops:
            frame = tilt_shift(frame, centre=follow(frame), quick=True) if op == "tilt-shift miniature" else APPLY[op](frame)
        return frame

    return apply


def render_footage(source: Path, out: Path, *, start: float, end: float, duration: float, instruction: str,
                   size: tuple[int, int], fps: int, crf: int, preset: str,
                   report: Callable[[str], None] | None = None) -> list[str]:
    """The window of `source` as a clip of `duration` seconds at `size`, styled as `instruction` says; returns
    the operations applied."""
    import cv2

    from director.media import cover, encode_frames

    total = max(1, round(duration * fps))
    times = source_times(start, end, duration, total)
    style = styled(instruction)
    w, h = size
    marks = {round(total * q) for q in (0.25, 0.5, 0.75)}

    def frames() -> Iterator[np.ndarray]:
        for index, frame in enumerate(window_frames(source, times)):
            if report and index in marks:
                report(f"footage {round(100 * index / total)}%")
            picture = style(cover(frame, (w, h)))
            yield cv2.cvtColor(np.ascontiguousarray(picture, dtype=np.uint8), cv2.COLOR_RGB2YUV_I420)

    count = encode_frames(frames(), out, size=(w, h), fps=fps, crf=crf, preset=preset, what="render footage")
    if count < total:
        raise MediaError(f"the source window {start:.2f}-{end:.2f} s of {source.name} gave {count} of {total} frames")
    return parse_operations(instruction)
