"""Source videos for trailers: check each one, read its sidecars, fingerprint it.

A bad source gets one line that says what is wrong with it. When the user
gave several and at least one is usable, the others go on without the bad
ones; when none is usable, the run does not start (InputError, exit 2).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

from director.errors import InputError
from director.state import Footage
from director.store import sha256_file

log = logging.getLogger(__name__)
MIN_SECONDS = 1.0


def sidecar(path: Path) -> dict[str, str]:
    """Title and plot from `<video>.json` or `<stem>.json`, when present."""
    for candidate in (path.with_name(path.name + ".json"), path.with_suffix(".json")):
        if candidate.is_file():
            try:
                data = json.loads(candidate.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, OSError, UnicodeDecodeError) as exc:
                raise InputError(f"sidecar {candidate.name} is not valid JSON: {exc}") from None
            if not isinstance(data, dict):
                raise InputError(f"sidecar {candidate.name} must be a JSON object with title and plot")
            return {k: str(v) for k, v in data.items() if k in ("title", "plot") and v}
    return {}


def inspect_source(path: Path, index: int, *, title: str | None, plot: str | None) -> Footage:
    """Footage for a usable video; InputError (one line) naming what is wrong otherwise."""
    import av

    shown = str(path)
    try:
        found = path.exists()
    except (OSError, ValueError) as exc:  # a name too long for the file system, or with a NUL in it
        raise InputError(f"source {shown[:80]!r}: not a usable path ({getattr(exc, 'strerror', None) or exc})") from None
    if not found:
        raise InputError(f"source {shown}: no such file")
    if path.is_dir():
        raise InputError(f"source {shown}: is a directory, not a video")
    if path.stat().st_size == 0:
        raise InputError(f"source {shown}: is empty")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"source {shown}: not a readable video: {_why(exc).lower()} (corrupt, truncated or not a video)") from None
    with container:
        if not container.streams.video:
            raise InputError(f"source {shown}: has no video stream")
        stream = container.streams.video[0]
        codec = stream.codec_context.name if stream.codec_context else "unknown codec"
        duration = _duration(container, stream)
        if duration is not None and duration < MIN_SECONDS:
            raise InputError(f"source {shown}: is only {duration:.2f} s long; a source needs at least {MIN_SECONDS:.0f} s")
        try:
            first = next(container.decode(stream), None)
        except (av.error.FFmpegError, ValueError) as exc:
            raise InputError(f"source {shown}: its video codec ({codec}) cannot be decoded here ({_why(exc)})") from None
        if first is None:
            raise InputError(f"source {shown}: cannot decode its {codec!s} video: unsupported codec or no frames")
        if duration is None:
            raise InputError(f"source {shown}: has no readable duration (truncated or still being written?)")
        _check_tail(container, stream, duration, shown)
        width, height = first.width, first.height
        fps = float(stream.average_rate or stream.guessed_rate or 25)
        has_audio = bool(container.streams.audio)
    meta = sidecar(path)
    return Footage(
        index=index, path=str(path.resolve()), sha256=sha256_file(path), duration=round(duration, 3),
        width=width, height=height, fps=round(fps, 3), has_audio=has_audio,
        title=title or meta.get("title") or path.stem.replace("_", " ").replace("-", " ").strip().title(),
        plot=plot or meta.get("plot", ""),
    )


def _duration(container: object, stream: object) -> float | None:
    if getattr(stream, "duration", None) and getattr(stream, "time_base", None):
        return float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    if getattr(container, "duration", None):
        return container.duration / 1_000_000  # type: ignore[attr-defined]
    return None


def _check_tail(container: object, stream: object, duration: float, shown: str) -> None:
    """Decode a frame near the end: a file cut short fails here, not an hour into a run."""
    import av

    target = max(0.0, duration - 0.6)
    try:
        container.seek(int(target / stream.time_base), stream=stream, backward=True)  # type: ignore[attr-defined]
        last = None
        for frame in container.decode(stream):  # type: ignore[attr-defined]
            last = frame
            if frame.time is not None and frame.time >= target:
                break
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(f"source {shown}: is truncated or corrupt near {target:.1f} s ({_why(exc)})") from None
    if last is None or (last.time is not None and last.time < duration * 0.5):
        raise InputError(f"source {shown}: is truncated: no frames after {0 if last is None else last.time:.1f} s "
                         f"of a stated {duration:.1f} s")


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text.split(": '", 1)[0][:160]


def load_sources(
    paths: list[str],
    *,
    title: str | None,
    plot: str | None,
    warn: Callable[[str], None],
) -> list[Footage]:
    """Footage for every usable source; one warning line per rejected one."""
    if not paths:
        raise InputError("a trailer needs at least one --source video")
    footage: list[Footage] = []
    problems: list[str] = []
    for path in paths:
        try:
            footage.append(inspect_source(Path(path).expanduser(), len(footage) + 1, title=title, plot=plot))
        except InputError as exc:
            problems.append(str(exc))
    if not footage:
        if len(problems) == 1:
            raise InputError(problems[0])
        for problem in problems:
            warn(problem)
        raise InputError(f"none of the {len(problems)} sources can be used")
    for problem in problems:
        warn(f"{problem}; going on without it")
    return footage
