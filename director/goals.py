"""What the user asked for: goal text and options checked into a Goal, and run ids."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from director.errors import InputError, MediaError
from director.options import MAX_SCENES, MAX_SECONDS, MAX_TEXT_CHARS, MIN_SECONDS, RUN_ID_PATTERN, MakeOptions
from director.state import Goal

RUN_ID = re.compile(RUN_ID_PATTERN)  # used with fullmatch: no trailing newline
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
SCENES_IN_GOAL = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*(?:scenes?|shots?|parts?)\b", re.I)
TRAILER_SCENES = 6


DURATION_IN_GOAL = re.compile(
    r"\b(?P<n>\d+(?:\.\d+)?|an?|half an?|" + "|".join(NUMBER_WORDS) + r")[\s-]*"
    r"(?P<unit>seconds?|secs?|s|minutes?|mins?)\b(?P<what>[\s-]*(?:long|ad|advert|video|spot|clip|story|film|"
    r"explainer|documentary|promo|trailer|short|reel|tutorial|commercial)\b)?", re.I)
SECONDS_PER_SCENE = 6.5
"""The length a scene is planned at when only a duration is asked for: a sentence or two of narration."""


def duration_from_goal(text: str) -> float | None:
    """'a 30-second ad' -> 30; 'a one-minute explainer' -> 60; 'a 2 min video' -> 120; else None.

    A length counts only when it is written as one: hyphenated ('30-second') or followed by 'long' or
    a word for the video ('45 seconds long', 'a 90 s promo'), so 'runs 5 minutes late' is not one."""
    for m in DURATION_IN_GOAL.finditer(text):
        word, unit = m["n"].lower(), m["unit"].lower()
        if "-" not in text[m.end("n"):m.start("unit")] and not m["what"]:
            continue
        number = {"a": 1.0, "an": 1.0, "half a": 0.5, "half an": 0.5}.get(word)
        if number is None:
            number = float(word) if word[0].isdigit() else float(NUMBER_WORDS[word])
        return number * (60.0 if unit.startswith("min") else 1.0)
    return None


def scenes_from_goal(text: str) -> int | None:
    """'a 5-scene story' -> 5; 'in three scenes' -> 3; None when the goal does not say."""
    m = SCENES_IN_GOAL.search(text)
    if not m:
        return None
    word = m.group(1).lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def make_goal(text: str, options: MakeOptions | None = None, *, default_scenes: int = 4, **given: Any) -> Goal:
    """A story's Goal from the user's words and options (MakeOptions, or the same as keywords);
    InputError names the problem in one line.

    duration (seconds; else one the goal states, like "a 30-second ad") sets the scene count when
    the goal gives none, and the writer aims the narration at it."""
    opts = options if options is not None else MakeOptions.check(given)
    text = " ".join((text or "").split())
    if not text:
        raise InputError("the goal is empty: say what the video should be about")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"the goal is {len(text)} characters long; keep it under {MAX_TEXT_CHARS}")
    duration = opts.duration if opts.duration is not None else duration_from_goal(text)
    if duration is not None and not MIN_SECONDS <= duration <= MAX_SECONDS:  # one the goal states
        raise InputError(f"duration must be from {MIN_SECONDS:g} to {MAX_SECONDS:g} (got {duration:g})")
    scenes = opts.scenes or scenes_from_goal(text) or (
        min(MAX_SCENES, max(1, round(duration / SECONDS_PER_SCENE))) if duration else default_scenes)
    if not 1 <= scenes <= MAX_SCENES:  # one the goal states ("a 60-scene story")
        raise InputError(f"scenes must be a whole number from 1 to {MAX_SCENES} (got {scenes})")
    return Goal(text=text, scenes=scenes, aspect=opts.aspect, seed=opts.seed, voice=opts.voice, approve=opts.approve,
                motion=opts.motion, duration=float(duration) if duration else None, dialogue=opts.dialogue or "some",
                lip_sync=opts.lip_sync or "auto",
                **finishing_options(opts))


def finishing_options(opts: MakeOptions, *, music: str = "auto") -> dict[str, Any]:
    """How the cut is finished (and how closely its stills must match the characters' sheets), as Goal
    fields with the defaults filled in; music is the mode's default."""
    end_card = " ".join(opts.end_card.split()) if opts.end_card is not None else None
    if end_card == "":
        raise InputError("the end card needs some text, at most 120 characters")
    return {"resolution": opts.resolution or "auto", "tier": opts.tier or "standard",
            "clip_sound": opts.clip_sound or "auto", "flow": opts.flow,
            "continuity": 0.6 if opts.continuity is None else opts.continuity,
            "retakes": 1 if opts.retakes is None else opts.retakes, "music": check_music(opts.music or music),
            "captions": opts.captions or "soft", "caption_style": opts.caption_style or "plain",
            "title_card": opts.title_card, "end_card": end_card, "transition": opts.transition or "cut",
            "transition_seconds": 0.5 if opts.transition_seconds is None else opts.transition_seconds}


def check_music(choice: str) -> str:
    """auto, none, a mood of the offline library, or a readable audio file (made absolute)."""
    from director.backends.local.music import MOODS

    choice = (choice or "").strip()
    if choice in ("auto", "none") or choice in MOODS:
        return choice
    path = Path(choice).expanduser()
    if not path.is_file():
        raise InputError(f"music {choice!r} is not auto, none, a mood ({', '.join(MOODS)}) or an audio file")
    from director.media import probe

    try:
        found = probe(path)
    except MediaError:
        found = None
    if found is None or found.audio_codec is None or not found.duration:
        raise InputError(f"music file {path} has no audio stream ffmpeg can read")
    return str(path.resolve())


def make_trailer_goal(text: str, options: MakeOptions | None = None, **given: Any) -> Goal:
    """A trailer goal: style from --style or the goal's words (default diorama), sound, scene cap.
    A narrated trailer has music under it by default (a trailer without one sounds like a lecture, and the
    music's mix is the one brought to -16 LUFS); one with its shots' own sound has none unless asked for."""
    from director.tools.describe_frame import styles

    opts = options if options is not None else MakeOptions.check(given)
    known = styles()
    words = set(re.findall(r"[a-z]+", (text or "").lower()))
    style = opts.style or next((s for s in known if s in words), None) or "diorama"
    if style not in known:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(known)} (files in prompts/styles/)")
    audio = opts.audio or "narration"
    music = opts.music or ("auto" if audio == "narration" else "none")
    story = opts.model_copy(update={"scenes": opts.max_scenes, "max_scenes": None, "music": music})
    goal = make_goal(text or f"a {style} trailer", story, default_scenes=TRAILER_SCENES)
    return goal.model_copy(update={"mode": "trailer", "style": style, "audio": audio})


def new_run_id() -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def new_run_id_for(parent: str) -> str:
    return f"{parent[:48]}-fork-{secrets.token_hex(2)}"


def check_run_id(run_id: str | None) -> None:
    """InputError for a run id that is not 1-64 safe characters (it names a folder and a URL path)."""
    if run_id is not None and not RUN_ID.fullmatch(run_id):
        raise InputError(f"run id {run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
