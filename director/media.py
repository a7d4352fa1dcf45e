"""Media helpers: the bundled ffmpeg, probing with PyAV, scene timing.

ffmpeg comes from the imageio-ffmpeg wheel (no system ffmpeg needed), and
there is no ffprobe there, so probing goes through PyAV.
"""

from __future__ import annotations

import logging
import math
import subprocess
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from director.errors import MediaError

log = logging.getLogger(__name__)

# Narration starts a moment after the cut and the picture holds a moment after
# the last word; both are part of the scene's length.
SPEECH_LEAD = 0.25
SPEECH_TAIL = 0.55


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(args: list[str], *, what: str) -> None:
    """Run the bundled ffmpeg; raise MediaError with ffmpeg's last words on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    log.debug("ffmpeg %s: %s", what, " ".join(cmd[1:]))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise MediaError(f"ffmpeg failed to {what}: {' | '.join(tail) or 'exit ' + str(proc.returncode)}")


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
