"""Casting: a voice for each character, kept for the whole run, and how each voice sounds offline.

A character's voice is a Gemini TTS prebuilt voice name (ai.google.dev/gemini-api/docs/speech-generation,
"Voice options", which gives each name one word for its character: Leda youthful, Gacrux mature, Algenib
gravelly...). The name is what the storyboard records, the memo key holds and Gemini is asked for.

Offline there is one Piper voice (en_US-joe-medium), so each name is rendered from it: a pitch shift in
semitones with the formants kept (ffmpeg's rubberband filter, `formant=preserved`, so a shifted voice still
sounds like a voice rather than a cartoon) and Piper's documented `length_scale` for the pace. The narrator
reads unshifted; the cast is chosen so that every speaker is at least MIN_APART semitones from the narrator and
from each other, which a pitch tracker can tell apart (tests/test_dialogue.py measures it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

GEMINI_VOICES = (
    "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe", "Charon", "Despina",
    "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore", "Laomedeia", "Leda", "Orus", "Puck",
    "Pulcherrima", "Rasalgethi", "Sadachbia", "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix",
    "Zephyr", "Zubenelgenubi",
)
"""Gemini TTS's prebuilt voices (ai.google.dev/gemini-api/docs/speech-generation#voices)."""


@dataclass(frozen=True)
class Part:
    voice: str
    """The Gemini prebuilt voice."""
    trait: str
    """Its one-word character, as Google's voice list gives it."""
    semitones: int
    """Offline: the pitch shift from the narrator's voice."""
    length: float
    """Offline: Piper's length_scale (above 1 speaks slower)."""
    suits: tuple[str, ...]
    """Words in a character's kind or look that call for this voice."""


SMALL = ("child", "kid", "baby", "boy", "girl", "kitten", "puppy", "mouse", "chick", "bunny", "rabbit", "hamster",
         "squirrel", "duckling", "bee", "ladybird", "ladybug", "hedgehog", "little", "tiny", "young", "small", "elf",
         "sprite", "cub", "piglet", "lamb", "frog")
PARTS = (
    Part("Leda", "youthful", 9, 0.95, SMALL),
    Part("Zephyr", "bright", 9, 0.95, ("fairy", "princess", "bird", "parrot", "robin", "butterfly", "sister",
                                       "daughter", "cheerful", "sparkly", "star")),
    Part("Vindemiatrix", "gentle", 6, 1.05, ("lady", "woman", "mother", "mum", "mom", "aunt", "queen", "nurse",
                                             "teacher", "she", "her", "cat", "deer", "swan", "gentle", "kind")),
    Part("Puck", "upbeat", 3, 0.95, ("dog", "fox", "monkey", "otter", "friend", "brother", "son", "brave",
                                     "curious", "playful", "excited", "happy")),
    Part("Gacrux", "mature", -3, 1.15, ("old", "elderly", "grandma", "grandmother", "granny", "grandpa",
                                        "grandfather", "wise", "owl", "tortoise", "turtle", "elder", "wizard")),
    Part("Orus", "firm", -6, 1.05, ("man", "father", "dad", "uncle", "king", "captain", "chief", "knight",
                                    "robot", "farmer", "baker", "he", "his", "deep", "wolf")),
    Part("Algenib", "gravelly", -6, 1.1, ("bear", "giant", "dragon", "troll", "ogre", "lion", "whale", "elephant",
                                          "gorilla", "moose", "bull", "rhino", "big", "huge", "grumpy", "gruff")),
)
"""The ladder of voices, highest first, 3 semitones apart offline: five places (+9, +6, +3, -3, -6) around the
narrator's 0, two voices at the ends (alternatives, never in one cast). Further than that a voice stops sounding
like speech: at +12 the small offline recogniser (faster-whisper tiny.en) heard one word in six of a line, and
at -9 the narrator's 110 Hz falls to 65 Hz."""
BY_VOICE = {p.voice: p for p in PARTS}
EXTRA = {"Fenrir": 4, "Laomedeia": 7, "Autonoe": 8, "Aoede": 5, "Sulafat": 7, "Despina": 8, "Erinome": 8,
         "Achernar": 7, "Callirrhoe": 6, "Pulcherrima": 8, "Kore": 0, "Charon": -5, "Enceladus": -2, "Iapetus": -4,
         "Umbriel": -7, "Algieba": -5, "Rasalgethi": -8, "Alnilam": -7, "Schedar": -4, "Achird": 2,
         "Zubenelgenubi": -1, "Sadachbia": 1, "Sadaltager": -2}
"""Offline pitches for the prebuilt voices outside the ladder (a revision may name any of them)."""
MIN_APART = 3
NARRATOR_SEMITONES = 0
DEEPER = re.compile(r"\b(deeper|lower|older|gruffer|bigger)\b", re.I)
HIGHER = re.compile(r"\b(higher|younger|lighter|brighter|smaller|squeakier)\b", re.I)


def offline(voice: str) -> tuple[int, float]:
    """(semitones, length_scale) for a prebuilt voice name, read offline; (0, 1.0) for any other (the narrator)."""
    if voice in BY_VOICE:
        return BY_VOICE[voice].semitones, BY_VOICE[voice].length
    return EXTRA.get(voice, NARRATOR_SEMITONES), 1.0


def is_character_voice(voice: str | None) -> bool:
    return bool(voice) and (voice in BY_VOICE or voice in EXTRA)


def _words(*texts: str) -> set[str]:
    return {w for t in texts for w in re.findall(r"[a-z]+", t.lower())}


def _fit(part: Part, words: set[str]) -> int:
    return sum(1 for w in part.suits if w in words)


def _free(semitones: int, taken: Iterable[int]) -> bool:
    return all(abs(semitones - t) >= MIN_APART for t in taken)


def choose(kind: str, look: str, taken: Iterable[str], *, name: str = "") -> str:
    """The best-suited voice for a character that is at least MIN_APART from the narrator and from the taken
    voices; the best-suited one when every voice is taken (a cast of more than seven)."""
    words = _words(kind, look, name)
    used = [NARRATOR_SEMITONES, *(offline(v)[0] for v in taken)]
    ranked = sorted(PARTS, key=lambda p: (-_fit(p, words), abs(p.semitones - 3)))
    for part in ranked:
        if _free(part.semitones, used):
            return part.voice
    return ranked[0].voice


def cast(characters: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """name -> voice for (name, kind, look) in cast order, each chosen around the ones before it."""
    voices: dict[str, str] = {}
    for name, kind, look in characters:
        voices[name] = choose(kind, look, voices.values(), name=name)
    return voices


def recast(current: str | None, request: str, kind: str, look: str, others: Iterable[str]) -> str:
    """The voice a revision asks for: a prebuilt name it names; "deeper"/"higher" the next free step down or up
    the ladder from the current voice; else one chosen from the words ("sounds like an old lady")."""
    named = [v for v in GEMINI_VOICES if re.search(rf"\b{v}\b", request, re.I)]
    if named:
        return named[0]
    taken = [NARRATOR_SEMITONES, *(offline(v)[0] for v in others)]
    here = offline(current)[0] if current else 3
    step = -1 if DEEPER.search(request) else 1 if HIGHER.search(request) else 0
    if step:
        ladder = sorted(PARTS, key=lambda p: p.semitones * -step, reverse=True)  # the way asked, nearest first
        for part in ladder:  # a step a listener hears: at least MIN_APART that way
            if (part.semitones - here) * step >= MIN_APART and _free(part.semitones, taken):
                return part.voice
        for part in ladder:  # nothing free that way: the next step regardless
            if (part.semitones - here) * step >= MIN_APART:
                return part.voice
        return current or PARTS[0].voice
    said = re.findall(r"[a-z]+", request.lower())
    words = set(said)

    def first(part: Part) -> int:  # "an old lady": the word that comes first says most (old, then lady)
        return min((said.index(w) for w in part.suits if w in words), default=len(said))

    fitting = sorted((p for p in PARTS if _fit(p, words)), key=lambda p: (-_fit(p, words), first(p)))
    if not fitting:
        return choose(kind, f"{look} {request}", others)
    return next((p.voice for p in fitting if _free(p.semitones, taken)), fitting[0].voice)
