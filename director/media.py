"""Media helpers: the bundled ffmpeg, encoding, probing with PyAV, scene timing.

ffmpeg comes from the imageio-ffmpeg wheel (no system ffmpeg needed), and
there is no ffprobe there, so probing goes through PyAV.

Video encodes share a process-wide pool of render slots, one per core by
default (settings.render_jobs): x264 already spreads one encode over the
cores, so more encodes at once than cores only adds memory and context
switches (bench/render.py measured 114 fps alone, 124 two at a time and 121
three at a time on 2 cores).
"""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import tempfile
import threading
import wave
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from director.errors import MediaError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Narration starts a moment after the cut and the picture holds a moment after
# the last word; both are part of the scene's length.
SPEECH_LEAD = 0.25
SPEECH_TAIL = 0.55


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


STOPPING = threading.Event()
"""Set when the process is being interrupted: no new encode starts, and live ones are killed."""
_children: set[subprocess.Popen[Any]] = set()
_children_lock = threading.Lock()


def _spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """Start an ffmpeg child that kill_children() can stop."""
    if STOPPING.is_set():
        raise MediaError("interrupted: no new encode starts")
    proc = subprocess.Popen(cmd, **kwargs)
    with _children_lock:
        _children.add(proc)
    return proc


def _reap(proc: subprocess.Popen[Any]) -> None:
    with _children_lock:
        _children.discard(proc)


def kill_children() -> int:
    """Stop every ffmpeg this process started and stop new ones; returns how many were killed."""
    STOPPING.set()
    with _children_lock:
        live = [p for p in _children if p.poll() is None]
    for proc in live:
        proc.kill()
    return len(live)


def run_ffmpeg(args: list[str], *, what: str, loglevel: str = "error") -> str:
    """Run the bundled ffmpeg; its stderr (what a filter printed at `loglevel`). MediaError with
    ffmpeg's last words on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", loglevel, "-y", *args]
    log.debug("ffmpeg %s: %s", what, " ".join(cmd[1:]))
    proc = _spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate()
    finally:
        _reap(proc)
    if proc.returncode != 0:
        tail = (stderr or "").strip().splitlines()[-3:]
        raise MediaError(f"ffmpeg failed to {what}: {' | '.join(tail) or 'exit ' + str(proc.returncode)}")
    return stderr or ""


def loudness(path: Path | str) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of a file's sound, by ffmpeg's ebur128 (EBU R 128)."""
    path = Path(path)
    text = run_ffmpeg(["-i", str(path), "-vn", "-sn", "-af", "ebur128=peak=true", "-f", "null", "-"],
                      what=f"measure the loudness of {path.name}", loglevel="info")
    summary = text[text.rfind("Summary:"):]
    found_i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    found_tp = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not found_i or not found_tp:
        raise MediaError(f"ebur128 printed no summary for {path.name}")
    return float(found_i.group(1)), float(found_tp.group(1))


def cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize and centre-crop so the image exactly fills `size` (w, h)."""
    import cv2
    import numpy as np

    w, h = size
    ih, iw = image.shape[:2]
    scale = max(w / iw, h / ih)
    nw, nh = max(w, round(iw * scale)), max(h, round(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (nw, nh), interpolation=interp) if (nw, nh) != (iw, ih) else image
    x0, y0 = (nw - w) // 2, (nh - h) // 2
    return np.ascontiguousarray(resized[y0 : y0 + h, x0 : x0 + w])


def write_png(image: Any, dest: Path | BinaryIO) -> None:
    """Save a PIL image as PNG at zlib level 1.

    Pillow's default (6) spends 333 ms on a 1344x768 photo where level 1
    takes 76 ms for 13% more bytes; every picture passes through here at
    least once, and most are intermediate.
    """
    image.save(dest, format="PNG", compress_level=1)


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


@contextmanager
def render_slot(jobs: int | None = None) -> Iterator[None]:
    """Hold one of `jobs` process-wide video-encoding slots (default: one per core)."""
    n = max(1, jobs or os.cpu_count() or 1)
    with _slots_lock:
        slot = _slots.setdefault(n, threading.BoundedSemaphore(n))
    with slot:
        yield


KEY_SECONDS = 0.5
"""Every clip has a keyframe this often, so a transition can cut into it there and copy the rest
(director/transitions.py)."""


def x264(crf: int, preset: str) -> list[str]:
    """The H.264 output options every clip shares, so clips join by stream copy."""
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-force_key_frames", f"expr:gte(t,n_forced*{KEY_SECONDS:g})", "-movflags", "+faststart"]


def encode_frames(frames: Iterable[np.ndarray], out: Path, *, size: tuple[int, int], fps: int, crf: int,
                  preset: str, what: str) -> int:
    """Pipe raw I420 frames (from cv2.COLOR_RGB2YUV_I420) to the bundled ffmpeg's x264; returns the count.

    Feeding YUV rather than RGB halves the bytes through the pipe and spares
    ffmpeg the colour conversion (114 fps against 92 at 1280x720, veryfast).
    """
    w, h = size
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo",
           "-pix_fmt", "yuv420p", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-an", *x264(crf, preset), str(out)]
    count = 0
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: ffmpeg can never block on stderr
        proc = _spawn(cmd, stdin=subprocess.PIPE, stderr=err)
        assert proc.stdin is not None
        try:
            for frame in frames:
                if frame.shape != (h * 3 // 2, w):
                    raise MediaError(f"{what}: frame {count} is {frame.shape}, not I420 for {w}x{h}")
                proc.stdin.write(frame.tobytes())
                count += 1
        except BrokenPipeError:
            pass  # ffmpeg died; its own message follows
        except BaseException:
            proc.kill()
            raise
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            code = proc.wait()
            _reap(proc)
        if code != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise MediaError(f"ffmpeg failed to {what}: {' | '.join(tail) or 'exit ' + str(code)}")
    return count


def hold_still(image: Path, out: Path, *, size: tuple[int, int], duration: float, fps: int, crf: int,
               preset: str) -> None:
    """A clip that holds one picture for `duration` (rounded to whole frames), cover-cropped to `size`.

    The picture is decoded once and its frame cloned (tpad), not re-read per
    frame as `-loop 1` does.
    """
    w, h = size
    frames = max(1, round(duration * fps))
    vf = (f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,format=yuv420p,"
          f"tpad=stop_mode=clone:stop_duration={frames / fps + 1:.3f}")
    run_ffmpeg(["-framerate", str(fps), "-i", str(image), "-vf", vf, "-frames:v", str(frames), "-an", *x264(crf, preset), str(out)],
               what=f"hold {image.name}")


def scene_length(speech_seconds: float, fps: int) -> float:
    """Length of a scene that carries `speech_seconds` of narration, on a frame boundary."""
    raw = SPEECH_LEAD + speech_seconds + SPEECH_TAIL
    frames = max(1, math.ceil(raw * fps - 1e-6))
    return frames / fps


@dataclass(frozen=True)
class Probe:
    """What PyAV can tell about a media file."""

    duration: float | None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    pix_fmt: str | None = None
    fps: float | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    subtitle_codecs: tuple[str, ...] = ()
    frames: int | None = None


def check_decodes(path: Path) -> None:
    """MediaError unless the video decodes to its end (a truncated download can still probe fine)."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            expected = container.duration / 1_000_000 if container.duration else None
            step = 1.0 / float(stream.average_rate or 24)  # read while open: PyAV 18.1.1 refuses it after
            last = 0.0
            for frame in container.decode(stream):
                if frame.time is not None:
                    last = max(last, float(frame.time))
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise MediaError(f"{path.name} does not decode: {exc}") from None
    if expected is not None and last < expected - 3 * step - 0.1:
        raise MediaError(f"{path.name} stops at {last:.2f} s of {expected:.2f} s")


def probe(path: Path) -> Probe:
    """Probe a video or audio file; MediaError if it cannot be opened."""
    import av

    try:
        with av.open(str(path)) as container:
            duration = container.duration / 1_000_000 if container.duration else None
            kw: dict[str, object] = {"duration": duration}
            if container.streams.video:
                v = container.streams.video[0]
                kw.update(
                    width=v.codec_context.width,
                    height=v.codec_context.height,
                    video_codec=v.codec_context.name,
                    pix_fmt=v.codec_context.pix_fmt,
                    fps=float(v.average_rate) if v.average_rate else None,
                    frames=v.frames or None,
                )
            if container.streams.audio:
                a = container.streams.audio[0]
                kw.update(
                    audio_codec=a.codec_context.name,
                    sample_rate=a.codec_context.sample_rate,
                    channels=a.codec_context.channels,
                )
            kw["subtitle_codecs"] = tuple(
                s.codec_context.name for s in container.streams.subtitles
            )
            return Probe(**kw)  # type: ignore[arg-type]
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot read media {path.name}: {exc}") from exc


def wav_duration(path: Path) -> float:
    """Exact duration of a PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / float(wav.getframerate())
    except (wave.Error, EOFError, OSError) as exc:
        raise MediaError(f"cannot read WAV {path.name}: {exc}") from exc


def write_wav_pcm16(path: Path, pcm: bytes, *, rate: int, channels: int = 1) -> None:
    """Wrap raw little-endian 16-bit PCM into a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def media_duration(path: Path) -> float:
    """Duration of a media file in seconds (0 when unknown)."""
    return probe(path).duration or 0.0


def extract_audio(video: Path, *, start: float, duration: float, rate: int = 16_000) -> Path:
    """A mono PCM WAV of part of a video's audio, in a temp file the caller deletes."""
    import tempfile

    fd, name = tempfile.mkstemp(suffix=".wav", prefix="director-audio-")
    import os

    os.close(fd)
    out = Path(name)
    run_ffmpeg(["-ss", f"{start:.3f}", "-t", f"{duration:.3f}", "-i", str(video), "-vn", "-ac", "1",
                "-ar", str(rate), "-c:a", "pcm_s16le", str(out)], what=f"extract audio from {video.name}")
    return out
