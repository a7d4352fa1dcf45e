"""How the offline writer reads a goal and words its text: the goal's words and parse (reading.py), its language
(py3langid), singulars, headline capitals and sentence capitals."""

from __future__ import annotations

import re
from functools import lru_cache

from director.backends.local import reading
from director.backends.local.storybook import (
    EMOJI,
    ENGLISH_MARKERS,
    FOREIGN,
    LANGUAGES,
    PLURALS,
    SMALL_WORDS,
)


def _words(goal: str) -> list[str]:
    """The goal's words, lower-case, with emoji and a few foreign words read as the English ones."""
    found = [FOREIGN.get(w, w) for w in re.findall(r"[^\W_]+(?:'[^\W_]+)?", goal.lower())]
    return found + [EMOJI[ch] for ch in goal if ch in EMOJI]


def read_goal(goal: str) -> reading.Reading | None:
    """The parser's reading of the goal (director/backends/local/reading.py), or None if it is not installed or
    the goal is not in English (its parser's language: a German noun is not a name)."""
    if language_of(goal) not in (None, "en") or not reading.available():
        return None
    return reading.read(goal)


def _singular(kind: str) -> str:
    """'astronauts' -> 'astronaut', 'puppies' -> 'dog': a cast member is one of a kind."""
    if kind in PLURALS:
        return PLURALS[kind]
    if kind.endswith("ies") and len(kind) > 4:
        return kind[:-3] + "y"
    return kind[:-1] if kind.endswith("s") and not kind.endswith("ss") and len(kind) > 3 else kind


def _title_case(text: str) -> str:
    """Headline capitals, with the small words lower-case except at the start."""
    return " ".join(w if (i and w.lower() in SMALL_WORDS) else w[:1].upper() + w[1:]
                    for i, w in enumerate(text.split()))


def _sentences(text: str) -> str:
    """Each sentence starting with a capital (a subject put at the front of one may not), spaces tidied."""
    text = " ".join(text.split())
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def language_of(text: str) -> str | None:
    """The goal's language when py3langid is confident of it (a short goal often is not), else None.
    A plain-ASCII goal with common English words is English at once: most goals, and no model load."""
    if text.isascii() and ENGLISH_MARKERS & set(re.findall(r"[a-z]+", text.lower())):
        return "en"
    letters = re.sub(r"[\W\d_]+", " ", text).strip()
    if len(letters) < 12:
        return None
    code, confidence = _identifier().classify(letters)
    return code if confidence >= 0.8 else None


@lru_cache(maxsize=1)
def _identifier():  # noqa: ANN202 - py3langid's own class
    import py3langid.langid as langid

    ident = langid.LanguageIdentifier.from_modelpath(langid.MODEL_DIR / langid.MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident

