"""The offline writer's dialogue: short lines for the named characters of a story, after each scene's narration.

`some` gives every named character one line, at most one a scene until the last; `lots` gives each character in
a scene a line; `none` gives none. Only the story genres speak (a documentary, an ad or a how-to is narrated).
A speaker is a character the scene shows where there is one, and a line may name the other character there.
"""

from __future__ import annotations

import random
import re

from director.story_draft import Line, ScenePlan, StoryDraft

STORY_GENRES = ("bedtime", "adventure", "friendship", "spooky", "scifi")

OPENING = ("Hello, {other}! Shall we be friends?", "Hi, {other}! What a lovely day.", "Good morning, {other}!")
OPENING_ALONE = ("What a lovely day!", "Hello, world!", "I wonder what today will bring.")
MIDDLE = {
    "spooky": ("Did you hear that, {other}?", "Stay close to me, {other}.", "It's only the wind, I think."),
    "scifi": ("Look at all those stars, {other}!", "Engines ready. Here we go!", "What a strange new world."),
    "adventure": ("Follow me, {other}! This way!", "We can do it together.", "Look over there!"),
}
MIDDLE_ANY = ("Look over there, {other}!", "Let's go and see!", "We can do it together, {other}.",
              "I have an idea!", "Wait for me, {other}!", "Isn't this wonderful?")
CLOSING = {
    "bedtime": ("Good night, {other}. Sleep tight.", "Sweet dreams, {other}.", "Good night, little stars."),
    "spooky": ("That wasn't scary at all, {other}!", "Let's go home now.", "Brave together, always."),
}
CLOSING_ANY = ("That was the best day ever, {other}!", "Thank you, {other}.", "Let's do it again tomorrow!")
REPLIES = {
    "greeting": ("Hello, {other}! It really is.", "Hi, {other}! I'm so glad you came.", "Good morning to you too!"),
    "question": ("Oh yes, {other}!", "I think so too.", "It really is, {other}."),
    "other": ("Right behind you, {other}!", "Good idea, {other}!", "You're right, {other}!", "Yes, let's!"),
}
"""A second speaker in a scene answers the first rather than say a line of their own: a greeting with a
greeting, a question with an answer, anything else with agreement."""


def reply_kind(line: str) -> str:
    if re.match(r"^(hi|hello|good morning|hey)\b", line, re.I):
        return "greeting"
    return "question" if line.rstrip().endswith("?") else "other"


def _present(scene_text: str, names: list[str]) -> list[str]:
    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", scene_text)]


def _say(templates: tuple[str, ...], alone: tuple[str, ...], other: str | None, rng: random.Random,
         used: set[str]) -> str:
    """A line from the templates, naming `other` where it can, and never one the story has said already."""
    def fits(template: str) -> bool:  # a line to someone needs someone to say it to
        return bool(other) or "{other}" not in template

    pool = [t for t in templates if fits(t)] or list(alone)
    fresh = [t for t in pool if t not in used] or [t for t in (*pool, *alone, *MIDDLE_ANY) if t not in used and fits(t)]
    choice = rng.choice(fresh or pool)
    used.add(choice)
    return choice.format(other=other or "")


def add_lines(draft: StoryDraft, genre: str, dialogue: str, rng: random.Random) -> StoryDraft:
    """The draft with lines for its named characters (unchanged for none, or a genre that is narrated)."""
    names = [c.name for c in draft.characters]
    if dialogue == "none" or genre not in STORY_GENRES or not names:
        return draft
    scenes: list[ScenePlan] = []
    spoken: set[str] = set()
    used: set[str] = set()
    last = len(draft.scenes) - 1
    for i, scene in enumerate(draft.scenes):
        present = _present(f"{scene.image_prompt} {scene.narration}", names) or names
        if dialogue == "lots":
            speakers = present[:3]
        else:  # each named character once: in the first scene that shows them, else the next one free
            waiting = [n for n in present if n not in spoken] or [n for n in names if n not in spoken]
            speakers = waiting[:1]
            if i == last:  # everyone who still has not spoken, here
                speakers = [n for n in names if n not in spoken]
        lines: list[Line] = []
        for speaker in speakers:
            others = [n for n in present if n != speaker] or [n for n in names if n != speaker]
            other = lines[-1].speaker if lines else others[0] if others else None
            if lines and i != last:  # the second voice in a scene answers the first
                text = _say(REPLIES[reply_kind(lines[-1].text)], REPLIES["other"], other, rng, used)
            elif i == 0:
                text = _say(OPENING, OPENING_ALONE, other, rng, used)
            elif i == last:
                text = _say(CLOSING.get(genre, CLOSING_ANY), CLOSING_ANY, other, rng, used)
            else:
                text = _say(MIDDLE.get(genre, MIDDLE_ANY), MIDDLE_ANY, other, rng, used)
            lines.append(Line(speaker=speaker, text=" ".join(text.replace(" ,", ",").split())))
            spoken.add(speaker)
        scenes.append(scene.model_copy(update={"lines": lines}))
    return draft.model_copy(update={"scenes": scenes})
