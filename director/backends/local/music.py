"""Offline music: the instrumental tracks of the `immich-memories-music` wheel.

About 30 MIT-licensed tracks, each about 30 s, generated with ACE-Step (no attribution needed),
sorted into mood folders. `auto` reads a mood from the story's words; the seed picks a track
within the mood, so the same story gets the same music.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from director.errors import ConfigError

MOODS = ("calm", "energetic", "happy", "nostalgic", "tender")
MOOD_WORDS = {
    "calm": {"bedtime", "sleep", "sleepy", "night", "nap", "dream", "dreams", "quiet", "moon", "stars", "lullaby",
             "calm", "peaceful", "gentle", "snow", "rain", "documentary", "explainer", "how",
             # hushed, slow music is the library's nearest to suspense: a spooky story is not nostalgic
             "spooky", "ghost", "ghosts", "haunted", "halloween", "mystery", "mysterious", "creepy", "eerie",
             "shadow", "shadows", "dark", "witch", "lighthouse", "fog", "mist"},
    "energetic": {"adventure", "race", "chase", "space", "rocket", "pirate", "dragon", "quest", "storm", "jungle",
                  "trailer", "action", "fast", "run", "brave", "hero", "ad", "promo", "sale", "teaser", "launch",
                  "electric", "bike", "ride", "speed", "sport", "sports", "exciting", "epic", "thrilling"},
    "happy": {"birthday", "party", "friends", "friendship", "play", "picnic", "summer", "beach", "fun", "dance",
              "festival", "coffee", "shop", "celebrate", "sunny"},
    "nostalgic": {"memories", "memory", "remember", "grandma", "grandpa", "old", "autumn", "letter", "years", "home"},
    "tender": {"love", "hug", "mother", "mom", "baby", "kind", "kindness", "shy", "lonely", "together", "heart",
               "warm", "cosy", "cozy", "snug", "cuddle", "cuddly", "soft", "tender", "sweet", "wedding"},
}


def tracks_dir() -> Path:
    from immich_memories_music import tracks_dir as wheel_tracks

    return Path(wheel_tracks())


def tracks(mood: str) -> list[Path]:
    found = sorted((tracks_dir() / mood).glob("*.opus")) if mood in MOODS else []
    if not found:
        raise ConfigError(f"no {mood!r} tracks in the immich-memories-music wheel ({tracks_dir()}); reinstall it")
    return found


FEELINGS = {"calm": {"calm", "peaceful", "quiet", "gentle", "sleepy", "spooky", "creepy", "eerie", "mysterious"},
            "energetic": {"energetic", "exciting", "epic", "thrilling", "fast", "action"},
            "happy": {"happy", "cheerful", "joyful", "fun", "funny", "sunny", "playful"},
            "nostalgic": {"nostalgic", "wistful", "bittersweet"},
            "tender": {"warm", "cosy", "cozy", "tender", "sweet", "soft", "snug", "loving"}}
"""Words that name a feeling outright: when the goal uses them, they choose the mood."""
GOAL_WEIGHT = 3
"""A word of the user's own goal counts this many times a word of the story: "a warm and cosy story" is tender
even when the writer's lines are about a sunny picnic."""


def mood_of(text: str, goal: str = "") -> str:
    """The mood whose words the goal and the text use most, the goal's own words first (ties go in MOODS order);
    tender when none."""
    own = re.findall(r"[a-z]+", goal.lower())
    felt = {mood: sum(w in vocab for w in own) for mood, vocab in FEELINGS.items()}
    if any(felt.values()):  # "warm and cosy", "spooky": the user said how it should feel
        return max(MOODS, key=lambda m: (felt[m], -MOODS.index(m)))
    words = re.findall(r"[a-z]+", text.lower()) + own * GOAL_WEIGHT
    scores = {mood: sum(w in vocab for w in words) for mood, vocab in MOOD_WORDS.items()}
    best = max(MOODS, key=lambda m: (scores[m], -MOODS.index(m)))
    return best if scores[best] else "tender"


class LibraryMusic:
    """A track from the wheel's mood folders; free, offline."""

    name = "local"
    model = "immich-memories-music"

    def make_music(self, prompt: str, *, mood: str, seed: int, out: Path) -> str:
        """Copy the chosen track to `out` (its own suffix); say which track it is."""
        choices = tracks(mood)
        track = choices[seed % len(choices)]
        shutil.copyfile(track, out)
        return f"{mood}/{track.name}"
