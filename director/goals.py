"""What the user asked for: goal text and options checked into a Goal, and run ids."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from director.errors import InputError, MediaError
from director.state import ASPECT_SIZES, MOTION_CHOICES, RESOLUTIONS, TRANSITIONS, Goal

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # used with fullmatch: no trailing newline
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
SCENES_IN_GOAL = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS) + r")[\s-]*(?:scenes?|shots?|parts?)\b", re.I)
MAX_SCENES = 50
MAX_SEED = 2**31 - 1  # the models' seed fields are int32
TRAILER_SCENES = 6


DURATION_IN_GOAL = re.compile(
    r"\b(?P<n>\d+(?:\.\d+)?|an?|half an?|" + "|".join(NUMBER_WORDS) + r")[\s-]*"
    r"(?P<unit>seconds?|secs?|s|minutes?|mins?)\b(?P<what>[\s-]*(?:long|ad|advert|video|spot|clip|story|film|"
    r"explainer|documentary|promo|trailer|short|reel|tutorial|commercial)\b)?", re.I)
MIN_SECONDS, MAX_SECONDS = 5.0, 600.0
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


def make_goal(
    text: str,
    *,
    scenes: int | None,
    aspect: str,
    seed: int,
    voice: str | None,
    default_scenes: int,
    approve: bool = False,
    motion: str = "auto",
    duration: float | None = None,
    **finish: Any,
) -> Goal:
    """Validate what the user asked for; InputError names the problem in one line.

    duration (seconds; else one the goal states, like "a 30-second ad") sets the scene count when
    the goal gives none, and the writer aims the narration at it.

    `finish` takes the finishing options (FINISH_OPTIONS: music, captions, caption_style,
    title_card, end_card, transition, transition_seconds); None means the default."""
    text = " ".join((text or "").split())
    if not text:
        raise InputError("the goal is empty: say what the video should be about")
    if len(text) > 2000:
        raise InputError(f"the goal is {len(text)} characters long; keep it under 2000")
    if duration is None:
        duration = duration_from_goal(text)
    if duration is not None and not (isinstance(duration, (int, float)) and MIN_SECONDS <= duration <= MAX_SECONDS):
        raise InputError(f"duration must be from {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds (got {duration})")
    if scenes is None:
        scenes = scenes_from_goal(text) or (
            min(MAX_SCENES, max(1, round(duration / SECONDS_PER_SCENE))) if duration else default_scenes)
    if not 1 <= scenes <= MAX_SCENES:
        raise InputError(f"scenes must be between 1 and {MAX_SCENES} (got {scenes})")
    if aspect not in ASPECT_SIZES:
        raise InputError(f"unknown aspect {aspect!r}: use one of {', '.join(ASPECT_SIZES)}")
    if motion not in MOTION_CHOICES:
        raise InputError(f"unknown motion {motion!r}: use one of {', '.join(MOTION_CHOICES)}")
    if not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number from 0 to {MAX_SEED} (got {seed})")
    return Goal(text=text, scenes=scenes, aspect=aspect, seed=seed, voice=voice, approve=approve,  # type: ignore[arg-type]
                motion=motion, duration=float(duration) if duration else None, **check_finish(**finish))  # type: ignore[arg-type]


FINISH_OPTIONS = ("music", "captions", "caption_style", "title_card", "end_card", "transition", "transition_seconds",
                  "continuity", "retakes", "resolution", "tier", "clip_sound", "flow")
"""How the cut is finished (and how closely its stills must match the characters' sheets): the keyword
options every face (CLI, Python, HTTP) passes through to make_goal."""


def check_finish(music: str | None = None, captions: str | None = None, caption_style: str | None = None,
                 title_card: bool = False, end_card: str | None = None, transition: str | None = None,
                 transition_seconds: float | None = None, continuity: float | None = None,
                 retakes: int | None = None, resolution: str | None = None, tier: str | None = None,
                 clip_sound: str | None = None, flow: bool = False) -> dict[str, Any]:
    """The finishing options as Goal fields, defaults filled in; InputError names a bad one."""
    resolution, tier, clip_sound = resolution or "auto", tier or "standard", clip_sound or "auto"
    if resolution not in RESOLUTIONS:
        raise InputError(f"unknown resolution {resolution!r}: use {', '.join(RESOLUTIONS)}")
    if tier not in ("standard", "flex"):
        raise InputError(f"unknown tier {tier!r}: use standard or flex")
    if clip_sound not in ("auto", "keep", "off"):
        raise InputError(f"unknown clip sound {clip_sound!r}: use auto, keep or off")
    captions, caption_style = captions or "soft", caption_style or "plain"
    if captions not in ("soft", "burn", "both"):
        raise InputError(f"unknown captions {captions!r}: use soft, burn or both")
    if caption_style not in ("plain", "karaoke"):
        raise InputError(f"unknown caption style {caption_style!r}: use plain or karaoke")
    if end_card is not None:
        end_card = " ".join(end_card.split())
        if not end_card or len(end_card) > 120:
            raise InputError("the end card needs some text, at most 120 characters")
    transition, transition_seconds = check_transition(transition, transition_seconds)
    continuity = 0.6 if continuity is None else continuity
    if not isinstance(continuity, (int, float)) or not 0.0 <= continuity <= 1.0:
        raise InputError(f"continuity must be a score from 0 to 1 (0 turns the check off; got {continuity})")
    retakes = 1 if retakes is None else retakes
    if not isinstance(retakes, int) or not 0 <= retakes <= 5:
        raise InputError(f"retakes must be a whole number from 0 to 5 (got {retakes})")
    return {"resolution": resolution, "tier": tier, "clip_sound": clip_sound, "flow": bool(flow),
            "continuity": float(continuity), "retakes": retakes, "music": check_music(music or "auto"), "captions": captions, "caption_style": caption_style,
            "title_card": bool(title_card), "end_card": end_card, "transition": transition,
            "transition_seconds": transition_seconds}


def check_transition(kind: str | None, seconds: float | None) -> tuple[str, float]:
    """A known transition, and a length the pause between two lines of narration can hold
    (a longer blend would run one scene's words into the next scene's picture)."""
    from director.media import SPEECH_LEAD, SPEECH_TAIL

    kind = kind or "cut"
    if kind not in TRANSITIONS:
        raise InputError(f"unknown transition {kind!r}: use one of {', '.join(TRANSITIONS)}")
    longest = SPEECH_LEAD + SPEECH_TAIL
    seconds = 0.5 if seconds is None else seconds
    if not isinstance(seconds, (int, float)) or not 0.1 <= seconds <= longest:
        raise InputError(f"transition seconds must be from 0.1 to {longest:g} (the pause between two lines); "
                         f"got {seconds}")
    return kind, float(seconds)


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


def make_trailer_goal(
    text: str,
    *,
    scenes: int | None,
    aspect: str,
    seed: int,
    voice: str | None,
    style: str | None,
    audio: str | None,
    approve: bool = False,
    motion: str = "auto",
    music: str | None = None,
    **finish: Any,
) -> Goal:
    """A trailer goal: style from --style or the goal's words (default diorama), sound, scene cap.
    Trailers keep their source-audio rules: no music unless asked for."""
    from director.tools.describe_frame import styles

    known = styles()
    words = set(re.findall(r"[a-z]+", (text or "").lower()))
    style = style or next((s for s in known if s in words), None) or "diorama"
    if style not in known:
        raise InputError(f"unknown style {style!r}: use one of {', '.join(known)} (files in prompts/styles/)")
    audio = audio or "narration"
    if audio not in ("narration", "source", "mix"):
        raise InputError(f"unknown audio {audio!r}: use narration, source or mix")
    goal = make_goal(text or f"a {style} trailer", scenes=scenes, aspect=aspect, seed=seed, voice=voice,
                     default_scenes=TRAILER_SCENES, approve=approve, motion=motion, music=music or "none",
                     **finish)
    return goal.model_copy(update={"mode": "trailer", "style": style, "audio": audio})


def new_run_id() -> str:
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def new_run_id_for(parent: str) -> str:
    return f"{parent[:48]}-fork-{secrets.token_hex(2)}"


def check_run_id(run_id: str | None) -> None:
    """InputError for a run id that is not 1-64 safe characters (it names a folder and a URL path)."""
    if run_id is not None and not RUN_ID.fullmatch(run_id):
        raise InputError(f"run id {run_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
