"""Secrets never leave the process in any text: one scrubber for every error, event and record.

Settings register their secret values here when they are loaded. scrub() removes
those values and anything shaped like a credential (an `x-goog-api-key` or
`Authorization` header, a `key=` query parameter, a Google API key) from a text.
DirectorError scrubs its own message, so an error is clean from the moment it
exists; what is stored or shown (the catalog, checkpoints, events, manifests,
logs) goes through scrub() as well.
"""

from __future__ import annotations

import logging
import re
import threading

_known: set[str] = set()
_lock = threading.Lock()

MASK = "***"
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Header echoes: `x-goog-api-key: VALUE`, `"x-goog-api-key": "VALUE"`, `Authorization: Bearer VALUE`.
    (re.compile(r"(?i)\b(x-goog-api-key|x-api-key|api-key|authorization|proxy-authorization)(['\"]?\s*[:=]\s*['\"]?)"
                r"(?:(?:bearer|basic)\s+)?[^\s'\",;}&]+"), r"\1\2" + MASK),
    # Query parameters: ?key=VALUE, &access_token=VALUE.
    (re.compile(r"(?i)(?<![A-Za-z0-9_-])((?:key|api_key|apikey|access_token|token)=)[^\s&'\",;]+"), r"\1" + MASK),
    # Bare bearer tokens and Google API keys wherever they appear.
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
    (re.compile(r"AIza[0-9A-Za-z_-]{20,}"), MASK),
]


def register(*values: str | None) -> None:
    """Remember secret values (API keys, tokens) so scrub() removes them anywhere."""
    with _lock:
        _known.update(v for v in values if v and len(v) >= 4)


def scrub(text: str) -> str:
    """`text` with every known secret value and every credential-shaped string masked."""
    if not text:
        return text
    with _lock:
        values = sorted(_known, key=len, reverse=True)
    for value in values:
        text = text.replace(value, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs every record's message (the CLI installs it on its handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message)
        if clean != message or record.exc_info:
            record.msg, record.args = clean, None
            if record.exc_info:
                import traceback

                record.msg = clean + "\n" + scrub("".join(traceback.format_exception(*record.exc_info)))
                record.exc_info = None
                record.exc_text = None
        return True
