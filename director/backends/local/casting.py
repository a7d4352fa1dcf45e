"""The offline writer's cast, setting, beats and art style: who the goal names (or a seeded cast of animals and
roles), kept distinct; the places, obstacle and treasure its words pick; the arc of beats over the scenes."""

from __future__ import annotations

import random
import re

from director.backends.local.language import _singular, read_goal
from director.backends.local.storybook import (
    NAMED_PATTERNS,
    NOT_KINDS,
    PLURALS,
    SETTING_WORDS,
    SETTINGS,
    SPECIES,
    STYLE_WORDS,
    Beat,
    Setting,
)
from director.state import Character


def _pick_setting(words: list[str], genre: str, rng: random.Random) -> Setting:
    for word in words:
        for setting in SETTINGS:
            if word in setting.words:
                return setting
    defaults = {"bedtime": ("garden", "forest", "farm"), "adventure": ("forest", "jungle", "beach", "space"),
                "friendship": ("garden", "farm", "city", "beach")}[genre]
    name = rng.choice(defaults)
    return next(s for s in SETTINGS if s.name == name)


def named_cast(goal: str) -> list[tuple[str, str]]:
    """(kind, name) of every character the goal names ("Pip the hedgehog", "a fox called Fern", "her cat
    Mitzi"), in the goal's order; a kind Director has no looks for is kept too, since the user named it."""
    found: list[tuple[int, str, str]] = []
    for pattern in NAMED_PATTERNS:
        for m in pattern.finditer(goal):
            kind = PLURALS.get(m["kind"], m["kind"])
            if kind in SPECIES or (len(kind) >= 3 and kind not in NOT_KINDS and kind not in SETTING_WORDS):
                found.append((m.start(), kind, m["name"]))
    seen = {name for _, _, name in found}
    reading = read_goal(goal)
    for named in reading.named if reading else []:
        if named.name in seen or any(named.name in other or other in named.name for other in seen):
            continue
        kind = _singular(named.kind) if named.kind else "person"
        found.append((goal.find(named.name), kind, named.name))
        seen.add(named.name)
    cast: list[tuple[str, str]] = []
    for _, kind, name in sorted(found):
        if name not in (n for _, n in cast):
            cast.append((kind, name))
    return cast


def _cast(goal: str, words: list[str], setting: Setting, rng: random.Random) -> list[Character]:
    named = named_cast(goal)
    kinds: list[str] = [kind for kind, _ in named]
    for word in words:
        kind = PLURALS.get(word, word)
        if kind in SPECIES and kind not in kinds:
            kinds.append(kind)
    cast: list[Character] = []
    used: set[str] = set()
    for i, kind in enumerate(kinds[:4]):
        names, looks = SPECIES.get(kind, ((), (f"a small {kind} with a friendly face",)))
        said = re.search(rf"\b([a-z]+)\s+{re.escape(kind)}s?\b", goal.lower())  # "a black cat": a black one
        looks = tuple(look for look in looks if said and re.search(rf"\b{said.group(1)}\b", look)) or looks
        name = named[i][1] if i < len(named) else \
            rng.choice([n for n in names if n not in used] or list(names))
        used.add(name)
        cast.append(Character(name=name, kind=kind, look=rng.choice(looks)))
    if not cast:
        kind = rng.choice(("fox", "rabbit", "bear", "mouse", "owl", "hedgehog"))
        names, looks = SPECIES[kind]
        cast.append(Character(name=rng.choice(names), kind=kind, look=rng.choice(looks)))
    if len(cast) == 1:
        kind, name, look = setting.companion
        cast.append(Character(name=name, kind=kind, look=look))
    return distinct(cast)


def distinct(cast: list[Character]) -> list[Character]:
    """The cast with a name of its own for each (two penguins are not both Pip): a repeated name becomes the
    first of its kind's names not taken yet, else of any kind's."""
    taken: set[str] = set()
    out = []
    for member in cast:
        if member.name.lower() in taken:
            spare = [n for n in SPECIES.get(member.kind, ((), ()))[0] if n.lower() not in taken] or \
                [n for names, _ in SPECIES.values() for n in names if n.lower() not in taken]
            member = member.model_copy(update={"name": spare[0]})
        taken.add(member.name.lower())
        out.append(member)
    return out


def _arc(beats: tuple[Beat, ...], n: int) -> list[Beat | int]:
    """n scenes over the arc: beats spread out, or every beat plus interludes (as ints) in the middle."""
    if n <= len(beats):
        if n == 1:
            return [beats[0]]
        return [beats[round(i * (len(beats) - 1) / (n - 1))] for i in range(n)]
    extra = n - len(beats)
    gaps = len(beats) - 1
    arc: list[Beat | int] = []
    made = 0
    for i, beat in enumerate(beats):
        arc.append(beat)
        if i < gaps:
            share = (extra * (i + 1)) // gaps - (extra * i) // gaps
            for _ in range(share):
                arc.append(made)
                made += 1
    return arc


def _style(words: list[str]) -> str | None:
    return next((STYLE_WORDS[w] for w in words if w in STYLE_WORDS), None)
