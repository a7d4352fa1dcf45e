"""Test helpers: probing media with PyAV, parsing SRT, running the CLI in-process."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from director.cli import main


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.out.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_cli(capsys, *args: str) -> CliResult:
    """Run `director ARGS` in this process; capture exit code, stdout and stderr."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return CliResult(code, captured.out, captured.err)


def open_catalog(ws: Path, *, create: bool = False, url: str | None = None):
    """The workspace's catalog on the engine the environment names (DIRECTOR_DATABASE_URL), as the CLI
    opens it, or on the database `url`."""
    from director.config import load_settings
    from director.store import Catalog, Workspace

    workspace = Workspace(ws, database_url=url) if url else Workspace.from_settings(ws, load_settings())
    return Catalog.open(workspace, create=create)


def catalog_rows(ws: Path, sql: str, params: dict[str, Any] | None = None, *, url: str | None = None) -> list[tuple]:
    """Rows of a query on the workspace's catalog, on whichever engine the environment (or `url`) names."""
    from sqlalchemy import text

    with open_catalog(ws, url=url).engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params or {})]


def first_picture(url: str, run_id: str) -> None:
    """Follow a run's event stream on a server until its first picture is recorded."""
    import httpx

    with httpx.stream("GET", f"{url}/api/runs/{run_id}/events", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and '"tool_finished"' in line and "create_image" in line:
                return
    raise AssertionError(f"run {run_id} ended without a picture")


def settled(url: str, run_id: str, timeout: float = 240.0) -> dict[str, Any]:
    """The run object from a server once the run is no longer running (or the timeout passes)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while True:
        run = httpx.get(f"{url}/api/runs/{run_id}", timeout=60).json()
        if run["status"] != "running" or time.monotonic() > deadline:
            return run
        time.sleep(0.3)


FAST = {"DIRECTOR_FPS": "12", "DIRECTOR_X264_PRESET": "ultrafast", "DIRECTOR_RESOLUTION": "360p"}
"""Settings for offline end-to-end tests that check structure, not picture quality: the draft size (360p), 12 fps,
x264's fastest preset. A test about the picture or its size asks for its own."""
FAST_PAID = {k: v for k, v in FAST.items() if k != "DIRECTOR_RESOLUTION"}
"""FAST for runs on the fake's cloud models: their own sizes and prices are what those tests check."""


@dataclass
class Streams:
    video: list[dict]
    audio: list[dict]
    subtitle: list[dict]
    duration: float


def ffprobe(path: Path) -> Streams:
    """What ffprobe would say, through PyAV (the bundled ffmpeg ships no ffprobe)."""
    with av.open(str(path)) as c:
        video = [{"codec": s.codec_context.name, "width": s.codec_context.width, "height": s.codec_context.height,
                  "pix_fmt": s.codec_context.pix_fmt, "fps": float(s.average_rate or 0)} for s in c.streams.video]
        audio = [{"codec": s.codec_context.name, "rate": s.codec_context.sample_rate} for s in c.streams.audio]
        subtitle = [{"codec": s.codec_context.name, "language": s.language} for s in c.streams.subtitles]
        return Streams(video, audio, subtitle, c.duration / 1_000_000)


def faststart(path: Path) -> bool:
    """True when the moov atom precedes mdat (playable while downloading)."""
    data = path.read_bytes()[:1 << 20]
    moov, mdat = data.find(b"moov"), data.find(b"mdat")
    return moov != -1 and (mdat == -1 or moov < mdat)


SRT_TIME = re.compile(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)")


SPEAKER_CUE = re.compile(r"^[A-Z][A-Z .'-]*: ")
"""A subtitle cue a character says ("PIP: Hello!"); the narrator's have no name."""


def narrator_cues(cues: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    return [c for c in cues if not SPEAKER_CUE.match(c[2])]


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        m = SRT_TIME.match(lines[1])
        assert m, f"bad SRT timing line: {lines[1]!r}"
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((start, end, " ".join(lines[2:])))
    return cues


def db_rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# Neighbours differ in brightness or saturation as well as hue, as real cuts do
# (magenta -> cyan, same S and V, scores under ContentDetector's default threshold).
PALETTE = ("red", "green", "blue", "yellow", "purple", "cyan", "white", "orange", "navy", "magenta")


def checkpoint_blobs(db: Path, thread: str | None = None) -> list[tuple[str, bytes]]:
    """Every checkpoint and pending-write blob as (type, plain bytes): compressed ones inflated."""
    from director.api import CheckpointCodec

    where = f" WHERE thread_id = '{thread}'" if thread else ""
    rows = db_rows(db, f"SELECT type, checkpoint FROM checkpoints{where}") + \
        db_rows(db, f"SELECT type, value FROM writes{where}")
    codec = CheckpointCodec()
    return [(kind, codec.decrypt(kind.split("+", 1)[1], blob) if kind and "+" in kind else bytes(blob or b""))
            for kind, blob in rows]


def synthetic_video(path: Path, *, scenes: int = 4, seconds: float = 1.0, fps: int = 25, size=(320, 180),
                    audio: bool = True, pattern: bool = True) -> list[float]:
    """A clip of `scenes` flat-coloured shots (a moving test pattern blended in), a tone per shot.
    Returns the true cut times in seconds."""
    import subprocess

    import imageio_ffmpeg

    w, h = size
    inputs: list[str] = []
    for i in range(scenes):
        inputs += ["-f", "lavfi", "-i", f"color=c={PALETTE[i % len(PALETTE)]}:s={w}x{h}:r={fps}:d={seconds}"]
    n = scenes
    if pattern:
        inputs += ["-f", "lavfi", "-i", f"testsrc2=s={w // 4}x{h // 4}:r={fps}:d={seconds * scenes}"]
    if audio:
        for i in range(scenes):
            inputs += ["-f", "lavfi", "-i", f"sine=frequency={300 + 110 * i}:sample_rate=48000:duration={seconds}"]
    parts = [f"[{i}:v]setsar=1[v{i}]" for i in range(n)]
    parts.append("".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[bg]")
    if pattern:
        parts.append(f"[bg][{n}:v]overlay=x='mod(t*40,{w - w // 4})':y={h // 3}[vout]")
    else:
        parts.append("[bg]null[vout]")
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *inputs]
    if audio:
        first = n + (1 if pattern else 0)
        parts.append("".join(f"[{first + i}:a]" for i in range(n)) + f"concat=n={n}:v=0:a=1[aout]")
    args += ["-filter_complex", ";".join(parts), "-map", "[vout]"]
    if audio:
        args += ["-map", "[aout]", "-c:a", "aac"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps), str(path)]
    subprocess.run(args, check=True)
    return [round(seconds * i, 3) for i in range(1, scenes)]


DRAFT = (640, 360)
"""FAST's frame size at 16:9 (360p)."""


def check_final(final: Path, *, size: tuple[int, int] | None = None, cues: int | None = None,
                fps: float | None = None) -> dict:
    """The checks every final.mp4 must pass; returns its manifest.

    H.264 + AAC, the size asked (else the frame size of the run's resolution and aspect), a mov_text track, faststart, duration = the sum of the
    scenes; with `cues`, that many narration cues (one a scene), plus one for each character's line, with the
    speaker's name, in time order; with `fps`, that frame rate.
    """
    import json

    if fps is not None:
        with av.open(str(final)) as container:
            rate = container.streams.video[0].average_rate
        assert rate is not None and abs(float(rate) - fps) < 0.01, rate
    from director.choices import frame_size
    from director.state import Goal

    probe = ffprobe(final)
    manifest = json.loads((final.parent / "manifest.json").read_text())
    size = size or frame_size(Goal.model_validate(manifest["goal"]), manifest["aspect"])
    assert [v["codec"] for v in probe.video] == ["h264"] and [a["codec"] for a in probe.audio] == ["aac"]
    assert (probe.video[0]["width"], probe.video[0]["height"]) == size
    assert [s["codec"] for s in probe.subtitle] == ["mov_text"]
    assert faststart(final)
    assert abs(probe.duration - sum(s["duration"] for s in manifest["scenes"])) <= 0.2
    if cues is not None:
        found = parse_srt((final.parent / "subtitles.srt").read_text())
        lines = [line for s in manifest["scenes"] for line in s.get("lines") or []]
        assert len(found) == cues + len(lines), (len(found), cues, len(lines))
        assert all(a[1] <= b[0] for a, b in zip(found, found[1:]))
        named = [text for _, _, text in found if SPEAKER_CUE.match(text)]
        assert len(named) == len(lines), named
    return manifest


@contextmanager
def module_director(tmp_path_factory: Any, **settings: Any) -> Iterator[tuple[Any, Path]]:
    """A local Director on a fresh workspace and DIRECTOR_HOME, for a module-scoped fixture (FAST's draft size
    and encodes, unless the settings say otherwise)."""
    import pytest

    from director.api import Director

    patch = pytest.MonkeyPatch()
    patch.setenv("DIRECTOR_HOME", str(tmp_path_factory.mktemp("home")))
    ws = tmp_path_factory.mktemp("ws")
    try:
        yield Director(ws, backend="local", **{"fps": 12, "x264_preset": "ultrafast", "resolution": "360p",
                                               **settings}), ws
    finally:
        patch.undo()


ORIGIN = "http://127.0.0.1:8000"


def studio_client(app: Any, **kwargs: Any) -> Any:
    """A TestClient that talks as the studio's own page does: to a loopback name, with the server's Origin."""
    from fastapi.testclient import TestClient

    return TestClient(app, base_url=ORIGIN, headers={"Origin": ORIGIN, **kwargs.pop("headers", {})}, **kwargs)


def median_f0(samples: Any, rate: int, lo: float = 50.0, hi: float = 600.0) -> float:
    """The median fundamental frequency (Hz) of the voiced 50 ms frames of 16-bit mono speech: YIN's cumulative
    mean normalised difference (de Cheveigné and Kawahara, 2002) with an absolute threshold of 0.2; frames
    quieter than a fifth of the whole's RMS are skipped as unvoiced. NaN when no frame is voiced."""
    import numpy as np

    x = np.asarray(samples, dtype=float)
    n, longest, shortest = int(0.05 * rate), int(rate / lo), int(rate / hi)
    loud = float(np.sqrt(np.mean(x ** 2))) if len(x) else 0.0
    found = []
    for i in range(0, len(x) - n - longest, n // 2):
        frame = x[i:i + n + longest]
        if np.sqrt(np.mean(frame[:n] ** 2)) < 0.2 * loud:
            continue
        d = np.array([np.sum((frame[:n] - frame[t:t + n]) ** 2) for t in range(longest)])
        cmnd = np.ones_like(d)
        cmnd[1:] = d[1:] * np.arange(1, longest) / np.maximum(np.cumsum(d[1:]), 1e-9)
        below = np.nonzero(cmnd[shortest:] < 0.2)[0]
        if not len(below):
            continue
        t = shortest + int(below[0])
        while t + 1 < longest and cmnd[t + 1] < cmnd[t]:
            t += 1
        found.append(rate / t)
    return float(np.median(found)) if found else float("nan")


def semitones(a: float, b: float) -> float:
    """How far pitch a is above pitch b, in semitones."""
    import math

    return 12 * math.log2(a / b)
