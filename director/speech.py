"""A scene's speech as one track: the narration, then each line, in turn and never over each other.

join() lays WAVs end to end with a short pause between them and says where each one sits; split_turns()
cuts a multi-speaker answer (one WAV for a whole exchange) into its turns at the pauses between them.
"""

from __future__ import annotations

import shutil
import wave
from pathlib import Path
from typing import Any

import numpy as np

GAP = 0.35
"""Seconds of silence between the narration and a line, and between two lines: a turn, not a run-on."""
QUIET_DB = -40.0
"""A 20 ms frame this far under the track's loudest is a pause between turns."""


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the rate (stereo is averaged)."""
    with wave.open(str(path)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        data = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path.name}: {8 * width}-bit audio; speech is 16-bit PCM")
    samples = np.frombuffer(data, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype("<i2")
    return samples, rate


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def _at_rate(path: Path, rate: int) -> np.ndarray:
    samples, own = read_wav(path)
    if own == rate:
        return samples
    from director.media import run_ffmpeg

    tmp = path.with_name(f"{path.stem}.{rate}.wav")
    try:
        run_ffmpeg(["-i", str(path), "-ac", "1", "-ar", str(rate), "-c:a", "pcm_s16le", str(tmp)],
                   what="resample speech")
        return read_wav(tmp)[0]
    finally:
        tmp.unlink(missing_ok=True)


def join(paths: list[Path], out: Path, *, gap: float = GAP) -> list[tuple[float, float]]:
    """The WAVs one after another with `gap` seconds between, at the first one's rate, in `out`; (start, end)
    of each, in seconds from the start of `out`."""
    if len(paths) == 1:
        shutil.copyfile(paths[0], out)
        samples, rate = read_wav(out)
        return [(0.0, len(samples) / rate)]
    rate = read_wav(paths[0])[1]
    pause = np.zeros(round(gap * rate), dtype="<i2")
    parts: list[np.ndarray] = []
    spans, at = [], 0
    for n, path in enumerate(paths):
        samples = _at_rate(path, rate)
        if n:
            parts.append(pause)
            at += len(pause)
        spans.append((at / rate, (at + len(samples)) / rate))
        parts.append(samples)
        at += len(samples)
    write_wav(out, np.concatenate(parts), rate)
    return spans


def levels(samples: np.ndarray, rate: int) -> tuple[np.ndarray, int]:
    """The loudness of each 20 ms frame in dB (RMS), and the frame's length in samples."""
    frame = max(1, rate // 50)
    n = len(samples) // frame
    frames = samples[: n * frame].astype(float).reshape(n, frame)
    return 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-9), frame


def pauses(samples: np.ndarray, rate: int, *, shortest: float = 0.15) -> list[float]:
    """The middles of the quiet stretches of at least `shortest` seconds inside the speech."""
    level, frame = levels(samples, rate)
    n = len(level)
    if n == 0:
        return []
    quiet = level < level.max() + QUIET_DB
    found, run = [], 0
    for i, q in enumerate([*quiet, False]):
        if q:
            run += 1
            continue
        if run * frame / rate >= shortest and i - run > 0 and i < n:  # inside the speech, not its ends
            found.append((i - run / 2) * frame / rate)
        run = 0
    return found


def split_turns(whole: Path, texts: list[str], store: Any) -> list[Path]:
    """`whole` cut into len(texts) WAVs: each cut at the pause nearest where the words say it falls (by their
    share of the characters), or at that point when no pause is near."""
    samples, rate = read_wav(whole)
    seconds = len(samples) / rate
    weights = [len(t) + 8 for t in texts]
    guesses = [seconds * sum(weights[: i + 1]) / sum(weights) for i in range(len(texts) - 1)]
    quiet = pauses(samples, rate)
    cuts: list[float] = []
    for guess in guesses:
        near = [q for q in quiet if abs(q - guess) < 0.25 * seconds and (not cuts or q > cuts[-1] + 0.2)]
        cuts.append(min(near, key=lambda q: abs(q - guess)) if near else guess)
    bounds = [0.0, *cuts, seconds]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        path = store.temp_path(".wav")
        write_wav(path, samples[round(a * rate): round(b * rate)], rate)
        out.append(path)
    return out


def heard_in(clip: Path, windows: list[tuple[float, float]], *, above: float = 10.0) -> list[tuple[float, float] | None]:
    """Where speech is in a clip's own sound, for each (from, to) window of seconds to look in: the first to the
    last 20 ms frame there within 12 dB of the window's loudest, when that loudest stands `above` dB over the
    clip's median level (ambience); None where nothing stands out (the model said nothing there)."""
    from director.media import extract_audio, probe

    length = probe(clip).duration or 0.0
    wav = extract_audio(clip, start=0.0, duration=length)
    try:
        samples, rate = read_wav(wav)
    finally:
        wav.unlink(missing_ok=True)
    level, _ = levels(samples, rate)
    n = len(level)
    if n == 0:
        return [None] * len(windows)
    floor = float(np.median(level))
    found: list[tuple[float, float] | None] = []
    for a, b in windows:
        i, j = max(0, int(a * 50)), min(n, int(np.ceil(b * 50)))
        if j <= i or level[i:j].max() < floor + above:
            found.append(None)
            continue
        loud = np.nonzero(level[i:j] >= level[i:j].max() - 12.0)[0]
        found.append(((i + loud[0]) / 50, (i + loud[-1] + 1) / 50))
    return found
