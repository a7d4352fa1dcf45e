"""Offline trailer shots move: each is the source window's own footage, styled frame by frame, not a pan over a
still (director/backends/local/footage.py)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from director.backends.local.footage import Follow, render_footage, source_times
from director.media import encode_frames
from tests.helpers import run_cli

SIZE = (640, 360)


def moving_square(path: Path, *, seconds: float = 4.0, fps: int = 24, down: bool = False) -> Path:
    """A static red bar and a white square crossing the frame (left to right, or top to bottom)."""
    import cv2

    w, h = SIZE
    n = int(seconds * fps)

    def frames():
        for i in range(n):
            img = np.full((h, w, 3), (40, 90, 160), np.uint8)
            img[:, 100:110] = (220, 30, 30)
            if down:
                y = int(20 + (h - 100) * i / (n - 1))
                img[y:y + 60, 300:360] = (250, 250, 250)
            else:
                x = int(150 + (w - 250) * i / (n - 1))
                img[150:210, x:x + 60] = (250, 250, 250)
            yield cv2.cvtColor(img, cv2.COLOR_RGB2YUV_I420)

    encode_frames(frames(), path, size=SIZE, fps=fps, crf=18, preset="ultrafast", what="test source")
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def square_minus_bar(img: np.ndarray) -> float:
    """How far right of the static bar the square is, in frame widths."""
    white = np.where((img.min(axis=2) > 200).any(axis=0))[0]
    red = np.where(((img[..., 0] > 170) & (img[..., 1] < 90)).any(axis=0))[0]
    assert len(white) and len(red), "the square and the bar are both in the frame"
    return float(white.mean() - red.mean()) / img.shape[1]


def test_the_speed_ramp_runs_forward_through_the_window():
    times = source_times(1.0, 4.0, 2.0, 48)
    assert times[0] == 1.0 and times[-1] == pytest.approx(1.0 + 2.0 * 1.25)  # at most 1.25x on average
    steps = np.diff(times)
    assert (steps > 0).all() and steps[0] > 2 * steps[-1]  # faster at the start, slower at the end
    short = source_times(0.0, 1.0, 3.0, 72)  # a short window is slowed down, never looped
    assert short[-1] == pytest.approx(1.0) and (np.diff(short) > 0).all()


def test_the_footage_moves_under_its_style(tmp_path):
    source = moving_square(tmp_path / "src.mp4")
    out = tmp_path / "shot.mp4"
    ops = render_footage(source, out, start=0.5, end=3.5, duration=2.5, instruction="a miniature diorama of a field",
                         size=(640, 360), fps=12, crf=20, preset="ultrafast")
    assert ops == ["tilt-shift miniature"]
    frames = decoded(out)
    assert len(frames) == 30
    # The square crosses the frame while the bar stays put: the footage moves, not a camera over a still.
    assert square_minus_bar(frames[-1]) - square_minus_bar(frames[0]) > 0.4
    # Styled: a tilt-shift frame is not the source frame (its top and bottom are blurred).
    first_source = decoded(source)[12]
    assert np.abs(frames[0].astype(int) - first_source.astype(int)).mean() > 3


def test_the_sharp_band_follows_the_action(tmp_path):
    frames = decoded(moving_square(tmp_path / "down.mp4", down=True))
    follow = Follow(centre=0.3)
    centres = [follow(f) for f in frames]
    assert centres[-1] > centres[len(centres) // 3] > 0.3  # it goes down with the square


def test_an_offline_trailer_shot_is_the_moving_source(tmp_path, capsys, fast):
    source = moving_square(tmp_path / "field.mp4")
    ws = tmp_path / "ws"
    result = run_cli(capsys, "make", "a miniature diorama trailer", "--source", str(source), "--title", "Square",
                     "--plot", "A white square crosses a blue field.", "--workspace", str(ws), "--music", "none",
                     "--resolution", "720p")  # a test of the picture: not the draft size
    assert result.code == 0, result.err
    manifest = json.loads((Path(result.last_line).parent / "manifest.json").read_text())
    [scene] = manifest["scenes"]
    clip = decoded(ws / scene["clip"]["path"])
    assert square_minus_bar(clip[-1]) - square_minus_bar(clip[0]) > 0.2, "the shot shows the square moving"
    # A pan over one still would move the bar with the square; here the bar stays where the source has it.
    bars = [np.where(((f[..., 0] > 170) & (f[..., 1] < 90)).any(axis=0))[0].mean() for f in (clip[0], clip[-1])]
    assert abs(bars[1] - bars[0]) < 0.02 * clip[0].shape[1]
