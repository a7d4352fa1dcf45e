"""The local brain's grammar of revisions: what a chat message asks to change.

Understood, case-insensitively:

    scene N <change>                 "make scene 2 at night", "scene 3: the dog wears a hat"
    scene N says "<words>"           new narration for one scene
    add a scene [after scene N] <what happens>   "add a scene where they nap"
    remove scene N                   also delete / drop / cut
    now 9:16 / 16:9 / 1:1            or "for a phone", "vertical", "square", "widescreen"
    <Name>'s <thing> <colour>        a character's look: "make Pip's scarf blue"; also "give Pip a red
                                     hat", "Pip wears a red hat", "make Pip a grey cat"
    no music / calm music / add music   the bed: none, a mood, or one from the story
    use crossfades / fade to black / slide transitions / hard cuts      how the scenes join
    burn the captions / karaoke captions / soft captions                captions
    add a title card / no title card / end card: "Goodnight!" / no end card
    voice <name>                     e.g. "voice en_US-joe-medium" (Gemini: "voice Puck")
    give <Name> a deeper voice       a character's voice: "give Pip a higher voice", "Dot sounds like an old
                                     lady", "give Pip the voice Puck"; only the scenes where they speak are redone
    shorter / longer narration       first sentence only / one more sentence per scene
    faster / slower narration        speaking pace

parse() returns revise_storyboard arguments, None when the message is none of
these, and raises InputError when it names something that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

from director.errors import InputError
from director.state import Storyboard

HELP = ("I can change: 'scene N <change>' (e.g. 'make scene 2 at night'), 'scene N says \"...\"', "
        "'add a scene where ...', 'remove scene N', a look (\"make Pip's scarf blue\"), the shape ('now 9:16', 'square', 'widescreen'), "
        "'voice <name>', a character's voice ('give Pip a deeper voice', 'Dot sounds like an old lady'), "
        "'shorter/longer narration', 'faster/slower narration', the music ('no music', "
        "'calm music'), the joins ('use crossfades', 'hard cuts'), captions ('burn the captions', 'karaoke'), "
        "cards ('add a title card', 'end card: Goodnight!').")

ASPECTS = [
    (re.compile(r"\b(9:16|phone|vertical|portrait|tiktok|reels?|shorts)\b"), "9:16"),
    (re.compile(r"\b(1:1|square)\b"), "1:1"),
    (re.compile(r"\b(16:9|widescreen|landscape|horizontal)\b"), "16:9"),
]


def _scene(board: Storyboard, number: str) -> int:
    n = int(number)
    if not 1 <= n <= len(board.scenes):
        raise InputError(f"there is no scene {n}; the story has scenes 1..{len(board.scenes)}")
    return n


# A change that names a time of day (or weather) replaces the one the prompt had, rather than
# being appended to it: "make scene 2 at night" must not leave "afternoon" in to win.
TIMES = ("dawn", "sunrise", "morning", "midday", "noon", "afternoon", "late-afternoon", "sunset", "dusk", "evening",
         "twilight", "night", "midnight", "nighttime", "daytime", "daylight", "moonlight", "moonlit", "sunlight",
         "sun", "moon", "stars", "star")
WEATHER = ("rain", "rainy", "raining", "snow", "snowy", "snowing", "storm", "stormy", "fog", "foggy", "mist", "misty",
           "sunny", "clear", "cloudy", "windy", "thunder", "puddles")
LIGHT_PHRASE = r"(?:\b(?:in|at|under|during|beneath)\s+)?(?:\b(?:the|a|an)\s+)?" \
               r"(?:\b(?:golden|warm|soft|bright|late|early|pale|rising|setting|full|first|cold|grey|gray|dark|heavy|" \
               r"gentle|lavender|clear|blue|crisp)[\s-]+){{0,3}}" \
               r"\b(?:{words})\b(?:[\s-]+(?:light|sun|sunshine|glow|sky|skies|air))*"


def _replace_light(base: str, change: str) -> str:
    """`base` with `change` in place of its time of day and weather, where the change names them."""
    said = set(re.findall(r"[a-z]+", change.lower()))
    for vocab in (TIMES, WEATHER):
        if said & set(vocab):
            words = "|".join(sorted((w for w in vocab if w not in ("sun", "moon", "star", "stars", "clear")),
                                    key=len, reverse=True))
            parts = [p for p in (p.strip() for p in base.split(",")) if p]
            kept = []
            for i, part in enumerate(parts):
                if i and re.search(rf"\b(?:{words})\b", part, re.I):
                    continue  # a trailing ", afternoon" or ", rain falling": dropped whole
                kept.append(re.sub(LIGHT_PHRASE.format(words=words), "", part, flags=re.I).strip())
            base = ", ".join(" ".join(p.split()) for p in kept if p)
    return f"{base}, {change}" if base else change


def _names(board: Storyboard) -> str:
    names = [c.name for c in board.characters]
    return " and ".join(names[:2]) if names else "they"


BODY = frozenset(("coat", "fur", "shell", "skin", "feathers", "body", "colour", "color", "hair", "scales"))
"""What a character's own colour is called: changing it recolours the character, it adds nothing worn."""
COLOUR_WORDS = ("red", "orange", "yellow", "gold", "golden", "green", "blue", "purple", "pink", "brown", "black",
                "white", "grey", "gray", "silver", "ginger", "cream", "lavender", "navy", "teal")


def _look(text: str, board: Storyboard) -> dict[str, str] | None:
    """A change to one character's look: {"name", "look"} with the whole new look, or None.

    "make Pip's scarf blue", "Pip's scarf is red", "give Pip a yellow hat", "Pip wears a red hat",
    "make Pip a grey cat", "Pip looks like a tall grey cat in boots"."""
    if not board.characters:
        return None
    names = "|".join(re.escape(c.name) for c in sorted(board.characters, key=lambda c: -len(c.name)))
    colours = "|".join(COLOUR_WORDS)
    low = text.rstrip(".!")
    if m := re.match(rf"^(?:please\s+)?(?:make|change|turn|paint|colou?r)?\s*({names})['’]s?\s+([a-z -]+?)\s+"
                     rf"(?:(?:to|into|be|is|are|now)\s+)*({colours})(?:\s+instead)?$", low, re.I):
        name, item, colour = m.group(1), m.group(2).strip().lower(), m.group(3).lower()
        look = board.character(name).look
        said = re.compile(rf"\b(?:(?:{colours})[\s-]+)*(?:[a-z-]+\s+)?{re.escape(item)}\b", re.I)
        body = re.search(rf"\b(?:{colours})\b", look, re.I)
        if re.search(rf"\b{re.escape(item)}\b", look, re.I):
            new = said.sub(lambda _: f"{colour} {item}", look, count=1)
        elif item in BODY and body:
            # "make Shelly's coat brown" of "a green turtle": the body's colour is what changes, not a coat
            # worn over it (the picture would keep her green)
            new = look[:body.start()] + colour + look[body.end():]
        else:
            new = f"{look}, with a {colour} {item}"
        return {"name": board.character(name).name, "look": new}
    if m := re.match(rf"^(?:please\s+)?(?:give\s+({names})\s+|({names})\s+(?:now\s+)?(?:wears|is wearing|has)\s+)"
                     rf"(?:a|an|some)\s+(.+)$", low, re.I):
        name = m.group(1) or m.group(2)
        thing = m.group(3).strip()
        noun = thing.split()[-1].lower()
        look = board.character(name).look
        if re.search(rf"\b{re.escape(noun)}\b", look, re.I):
            new = re.sub(rf"\b(?:[a-z-]+\s+){{0,2}}{re.escape(noun)}\b", thing, look, count=1, flags=re.I)
        else:
            new = f"{look}, with a {thing}"
        return {"name": board.character(name).name, "look": new}
    if m := re.match(rf"^(?:please\s+)?(?:make\s+)?({names})\s+(?:look\s+like|looks\s+like|should\s+look\s+like|"
                     rf"is\s+now|should\s+be|now\s+looks\s+like)\s+(.+)$", low, re.I) or \
            re.match(rf"^(?:please\s+)?make\s+({names})\s+((?:a|an)\s+.+)$", low, re.I):
        return {"name": board.character(m.group(1)).name, "look": m.group(2).strip()}
    return None


MOOD_WORDS = ("calm", "energetic", "happy", "nostalgic", "tender")


def _finish(low: str) -> dict[str, Any] | None:
    """A change to how the cut is finished: music, captions, cards, transitions; None if it is none of these."""
    low = re.sub(r"^(?:please\s+|now\s+|and\s+)+", "", low).strip()
    moods = "|".join(MOOD_WORDS)
    if re.fullmatch(r"(?:no|remove the|drop the|without|turn off the|lose the) music|music off|silence the music", low):
        return {"music": "none"}
    if m := re.search(rf"\b({moods})\s+music\b|\bmusic\s+(?:to\s+|that is\s+|more\s+)?({moods})\b", low):
        return {"music": m.group(1) or m.group(2)}
    if re.fullmatch(r"(?:add|put|use|with)(?: some| a)?(?: background)? music(?: back)?|music on", low):
        return {"music": "auto"}
    if re.search(r"\bkaraoke\b", low):
        return {"captions": "burn", "caption_style": "karaoke"}
    if re.search(r"\b(?:burn(?:ed)?(?: in)?(?: the)? (?:captions|subtitles)|(?:captions|subtitles) (?:burned|burnt) in|"
                 r"burn(?:ed)?-in (?:captions|subtitles))\b", low):
        return {"captions": "burn"}
    if re.search(r"\b(?:soft|no burned|unburn(?:ed)?) (?:captions|subtitles)\b", low):
        return {"captions": "soft"}
    if re.search(r"\b(?:cross-?fades?|dissolves?)\b", low):
        return {"transition": "crossfade"}
    if re.search(r"\bfades? (?:to|through) black\b|\bfade between\b|\bfades between\b", low):
        return {"transition": "fade"}
    if re.search(r"\bslides? between\b|\bslide transitions?\b|\bslides?$", low):
        return {"transition": "slide"}
    if re.fullmatch(r"(?:use |just )?(?:hard |plain |straight )?cuts(?: between (?:the )?scenes)?|no transitions", low):
        return {"transition": "cut"}
    if re.fullmatch(r"(?:no|remove the|drop the|without the?) title card", low):
        return {"title_card": False}
    if re.fullmatch(r"(?:add |open (?:on|with) |put |use )?(?:a |the )?title card", low):
        return {"title_card": True}
    if re.fullmatch(r"(?:no|remove the|drop the|without the?) end card", low):
        return {"end_card": ""}
    return None


def parse(message: str, board: Storyboard) -> dict[str, Any] | None:
    """revise_storyboard arguments for a message, or None if it asks for nothing this grammar knows."""
    text = " ".join(message.strip().split())
    low = text.lower().rstrip(".!")
    if not text:
        return None
    if m := re.match(r"^(?:please\s+)?(?:remove|delete|drop|cut)\s+scene\s+(\d+)$", low):
        n = _scene(board, m.group(1))
        if len(board.scenes) == 1:
            raise InputError("scene 1 is the only scene; a video needs at least one")
        return {"remove": [n]}
    if m := re.match(r"^(?:please\s+)?add\s+(?:a\s+|another\s+|one\s+more\s+)?(?:new\s+)?scene"
                     r"(?:\s+after\s+scene\s+(\d+))?(?:\s*(?:where|in which|about|with|that shows|showing|:|,|-))?\s+(.+)$",
                     text, re.I):
        after = _scene(board, m.group(1)) if m.group(1) else len(board.scenes)
        what = m.group(2).strip().rstrip(".")
        who = _names(board)
        said = re.sub(r"\bthey\b", who, what, flags=re.I)
        names = {c.name.split()[0] for c in board.characters}
        first = said.split()[0] if said else ""
        opening = said if first in names else said[:1].lower() + said[1:]
        narration = f"Then {opening}." if said else "Then the story went on."
        # Keep the neighbour's light ("night", "sunset") when its prompt ends with one.
        tail = board.scenes[after - 1].image_prompt.rsplit(",", 1) if board.scenes else []
        light = tail[1].strip() if len(tail) == 2 and len(tail[1].split()) <= 3 else ""
        prompt = f"{said}, {light}" if light else said
        return {"add": [{"after": after, "image_prompt": prompt, "narration": narration}]}
    if m := re.match(r"^(?:make\s+|set\s+|change\s+|let\s+)?scene\s+(\d+)\s+(?:says?|narration(?:\s+is)?)\s*:?\s*[\"“](.+?)[\"”]?$",
                     text, re.I):
        n = _scene(board, m.group(1))
        return {"updates": [{"scene": n, "narration": m.group(2).strip()}]}
    if m := re.match(r"^(?:please\s+)?(?:make\s+|set\s+|change\s+|put\s+|show\s+|redo\s+)?scene\s+(\d+)\s*(?:to be\s+|be\s+|:|,|-)?\s*(.+)$",
                     text, re.I):
        n = _scene(board, m.group(1))
        change = m.group(2).strip().rstrip(".")
        base = board.scene(n).image_prompt
        return {"updates": [{"scene": n, "image_prompt": _replace_light(base, change)}]}
    if (speaker := _speaker(text, board)) is not None:
        return {"speakers": [speaker]}
    if (look := _look(text, board)) is not None:
        return {"characters": [look]}
    if (card := _end_card(text)) is not None:
        return {"finish": {"end_card": card}}
    if (finish := _finish(low)) is not None:
        return {"finish": finish}
    if (voice := _voice(text)) is not None:
        return {"voice": voice}
    if m := re.search(r"\b(shorter|longer)\b.*\bnarration\b|\bnarration\b.*\b(shorter|longer)\b", low):
        longer = (m.group(1) or m.group(2)) == "longer"
        updates = []
        for s in board.scenes:
            sentences = re.split(r"(?<=[.!?])\s+", s.narration.strip())
            if longer:
                place = s.image_prompt.split(",")[0].strip()
                new = f"{s.narration.strip()} It was {place[0].lower() + place[1:]}." if place else s.narration
            else:
                new = sentences[0]
            if new != s.narration:
                updates.append({"scene": s.index, "narration": new})
        if not updates:
            raise InputError("the narration is already as short as it gets: one sentence per scene")
        return {"updates": updates}
    if m := re.search(r"\b(faster|slower|quicker)\b", low):
        if "narrat" in low or "speak" in low or "talk" in low or "read" in low or low in ("faster", "slower"):
            return {"pace": 1.25 if m.group(1) in ("faster", "quicker") else 0.85}
    if (aspect := _aspect(low)) is not None:
        return {"aspect": aspect}
    _no_such_character(text, board)
    return None


NOT_NAMES = frozenset(("the", "it", "its", "scene", "now", "please", "make", "give", "use", "add", "everyone",
                       "everybody", "all", "their", "his", "her", "narrator", "music", "voice"))


def _no_such_character(text: str, board: Storyboard) -> None:
    """InputError naming a character the story does not have, when the change is plainly about someone's look
    ("make Dot's coat brown", "give Dot a hat") and no one is called that."""
    m = re.match(r"^(?i:please\s+)?(?i:make\s+|change\s+|turn\s+|paint\s+|colou?r\s+)?([A-Z][\w-]*)['’]s\s", text) \
        or re.match(r"^(?i:please\s+)?(?i:give)\s+([A-Z][\w-]*)\s+(?i:a|an|some)\s", text)
    if not m or m.group(1).lower() in NOT_NAMES:
        return
    name = m.group(1)
    cast = [c.name for c in board.characters]
    if any(name.lower() in (c.lower(), c.split()[0].lower()) for c in cast):
        return
    who = ", ".join(cast) if cast else "no one by name"
    raise InputError(f"there is no {name} in this story: its characters are {who}")


def goal_change(message: str) -> dict[str, Any] | None:
    """A change that belongs to the goal rather than the story (the frame shape, the voice, the music, captions,
    cards and transitions), as Goal fields to update; None if the message asks for anything else. These apply at
    any point of a run, before its story exists too."""
    text = " ".join(message.strip().split())
    low = text.lower().rstrip(".!")
    if (card := _end_card(text)) is not None:
        return {"end_card": card}
    if (finish := _finish(low)) is not None:
        return {k: (None if k == "end_card" and v == "" else v) for k, v in finish.items()}
    if (voice := _voice(text)) is not None:
        return {"voice": voice}
    if (aspect := _aspect(low)) is not None:
        return {"aspect": aspect}
    return None


def _end_card(text: str) -> str | None:
    """The words of an end card the message asks for ("end card saying The End"), or None."""
    m = re.match(r"^(?:please\s+)?(?:add\s+an?\s+|close\s+(?:on|with)\s+an?\s+)?end\s+card\s*(?::|saying|that says|"
                 r"with)?\s*[\"“']?(.+?)[\"”']?\s*$", text, re.I)
    words = " ".join(m.group(1).split()) if m else ""
    if words.lower() in ("", "no", "none"):
        return None
    if len(words) > 120:
        raise InputError("an end card holds at most 120 characters")
    return words


SPEAKER = (
    re.compile(r"^(?:please\s+)?give\s+(?P<name>[\w-]+)\s+(?:a|an|the)\s+(?P<how>.*?)\s*voice(?:\s+(?P<named>\w+))?$", re.I),
    re.compile(r"^(?:please\s+)?(?:make\s+)?(?P<name>[\w-]+)\s+sounds?\s+(?:like|more like)\s+(?P<how>.+)$", re.I),
    re.compile(r"^(?:please\s+)?(?:make\s+|change\s+|set\s+)?(?P<name>[\w-]+)['’]s\s+voice\s*(?:to\s+|:|be\s+|should\s+be\s+)?"
               r"(?P<how>.+)$", re.I),
)


def _speaker(text: str, board: Storyboard) -> dict[str, str] | None:
    """A character's voice the message asks for ("give Pip a deeper voice", "Dot sounds like an old lady"), as
    a revise_storyboard `speakers` entry; None when it asks about no one's voice."""
    from director.voices import recast

    text = text.rstrip(".!")
    for pattern in SPEAKER:
        m = pattern.match(text)
        if not m:
            continue
        name = m.group("name")
        character = next((c for c in board.characters if name.lower() in (c.name.lower(), c.name.split()[0].lower())),
                         None)
        if character is None:
            if name.lower() in NOT_NAMES:
                return None
            who = ", ".join(c.name for c in board.characters) or "no one by name"
            raise InputError(f"there is no {name} in this story: its characters are {who}")
        how = " ".join(filter(None, [m.group("how"), m.groupdict().get("named")]))
        others = [c.voice for c in board.characters if c is not character and c.voice]
        voice = recast(character.voice, how, character.kind, character.look, others)
        return {"name": character.name, "voice": voice}
    return None


def _voice(text: str) -> str | None:
    m = re.match(r"^(?:use\s+|change\s+the\s+|set\s+the\s+)?voice\s+(?:to\s+)?([\w.-]+)[.!]?$", text, re.I)
    return m.group(1) if m else None


def _aspect(low: str) -> str | None:
    return next((aspect for pattern, aspect in ASPECTS if pattern.search(low)), None)
