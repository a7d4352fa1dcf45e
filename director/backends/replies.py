"""What a provider's answer must be before it is kept, and how to read its refusals, without any SDK: the
retryable statuses and a google.rpc body's retry delay and daily quota, the transport failures after which a paid
start may have begun, the aspect name for a frame size, and whole images and WAVs (a reply cut off on the way is
asked for again). Gemini, Vertex and Reve share them; only gemini.py and vertex.py import google-genai."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from director.errors import ProviderError
from director.limits import parse_retry_delay
from director.media import write_png

RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}


def retry_delay(details: Any, response: Any) -> float | None:
    """RetryInfo.retryDelay from a google.rpc error body, else a Retry-After header."""
    error = details.get("error", details) if isinstance(details, dict) else {}
    for item in error.get("details", []) if isinstance(error, dict) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            delay = parse_retry_delay(item.get("retryDelay"))
            if delay is not None:
                return delay
    headers = getattr(response, "headers", None)
    if headers is not None:
        return parse_retry_delay(headers.get("retry-after"))
    return None


def daily_quota(details: Any) -> bool:
    error = details.get("error", details) if isinstance(details, dict) else {}
    for item in error.get("details", []) if isinstance(error, dict) else []:
        for violation in (item.get("violations") or []) if isinstance(item, dict) else []:
            if "PerDay" in str(violation.get("quotaId", "")):
                return True
    return False


AMBIGUOUS = ("ReadTimeout", "WriteTimeout", "ReadError", "WriteError", "RemoteProtocolError", "APITimeoutError",
             "TimeoutException", "ConnectionResetError")
"""Transport failures after a request may have reached the server: for a paid start, it may have begun."""


def aspect_of(width: int, height: int) -> str:
    ratio = width / height
    return "16:9" if ratio > 1.2 else "9:16" if ratio < 0.8 else "1:1"


def whole_image(data: bytes, *, provider: str, model: str) -> None:
    """Refuse an image that does not decode to the last pixel (a truncated or mangled answer): retryable."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for damaged data
        raise ProviderError(f"{model}: the image came back damaged ({type(exc).__name__}: {exc})",
                            provider=provider, model=model, retryable=True) from None


def save_png(data: bytes, out: Path) -> None:
    """Write a returned image as an RGB PNG: as it came when it already is one, else converted."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:  # reads the header only, unless it must convert
        if im.format == "PNG" and im.mode == "RGB":
            out.write_bytes(data)
            return
        write_png(im.convert("RGB"), out)


def whole_wav(data: bytes, *, model: str, provider: str, min_seconds: float = 0.0) -> None:
    """Refuse a WAV answer (speech, music) that holds less than its header says, or under `min_seconds`:
    cut off on the way, so asked for again (retryable)."""
    import wave

    try:
        with wave.open(io.BytesIO(data)) as w:
            frames, width = w.getnframes(), w.getsampwidth() * w.getnchannels()
            got = len(w.readframes(frames)) // max(1, width)
            seconds = frames / float(w.getframerate() or 1)
    except (wave.Error, EOFError) as exc:
        raise ProviderError(f"{model}: the audio is not a WAV Director can read ({exc})", provider=provider,
                            model=model, retryable=True) from None
    if got < frames or seconds < min_seconds:
        raise ProviderError(f"{model}: the audio came back damaged ({got} of {frames} samples)", provider=provider,
                            model=model, retryable=True)
