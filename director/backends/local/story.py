"""Local story writer: template beats seeded by the goal.

No model is involved. The goal's words pick a genre (beats): the picture-book ones here
(bedtime, adventure, friendship), or one written around the goal's own subject
(documentary, ad, spooky, science fiction, how-to: director/backends/local/subjects.py). They
also pick a setting (places, obstacle, treasure) and a cast (species, roles and names the goal
mentions); a seeded RNG fills the rest. With a target length the narration is sized to it,
sentence by sentence. The same goal and seed always give the same story; different goals give
visibly different ones. What the writer cannot do (facts, other languages) it says in
notes(), which the CLI prints as warnings.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

from director.backends.local import reading, subjects
from director.backends.local.dialogue import STORY_GENRES, add_lines
from director.backends.local.storybook import (
    AMBIENCE,
    AT_PACE,
    CAMERA,
    DEFAULT_GENRE,
    EMOJI,
    ENGLISH_MARKERS,
    FAMILY,
    FOREIGN,
    GENRES,
    GREETINGS,
    HONOURED,
    INTERLUDES,
    LANDMARKS,
    LANGUAGES,
    MASS_NOUNS,
    NAMED_PATTERNS,
    NARRATORS,
    NOT_KINDS,
    ORDINALS,
    PLURALS,
    ROLE_LOOKS,
    SETTING_WORDS,
    SETTINGS,
    SHOTS,
    SMALL_WORDS,
    SPECIES,
    STORY_WORDS,
    STYLE_WORDS,
    Beat,
    Setting,
)
from director.backends.local.voice import reading_rate
from director.media import SPEECH_LEAD, SPEECH_TAIL
from director.speech import GAP
from director.state import Character
from director.story_draft import PlacePlan, ScenePlan, StoryDraft


def _rng(goal: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{goal.strip().lower()}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _words(goal: str) -> list[str]:
    """The goal's words, lower-case, with emoji and a few foreign words read as the English ones."""
    found = [FOREIGN.get(w, w) for w in re.findall(r"[^\W_]+(?:'[^\W_]+)?", goal.lower())]
    return found + [EMOJI[ch] for ch in goal if ch in EMOJI]


def _pick_genre(goal: str, words: list[str]) -> str:
    """The genre the goal's words name most; a tie goes to a goal-led genre (more specific), then
    in table order. No genre word at all: friendship."""
    scores = {g: sum(w in spec["words"] for w in words) for g, spec in GENRES.items()}
    led, score = subjects.pick_goal_genre(goal, words)
    parsed = read_goal(goal)
    cast = bool(parsed and (parsed.named or parsed.described))
    if led == "documentary" and cast and STORY_WORDS & set(words) and "documentary" not in words:
        led = None  # "a story about a robot named Bolt who wants to learn to paint" is a story, not a lesson
    if led is not None and score >= max(scores.values()):
        return led
    best = max(scores.values())
    if best == 0:
        # "a short film about recycling plastic": no genre word, no animal and no one to lead a story, but a
        # subject: a film about that subject, never a friendship story that drops it.
        about = subjects.SUBJECT.search(goal)
        if about and not cast and not STORY_WORDS & set(words) \
                and not any(PLURALS.get(w, w) in SPECIES for w in words) and subjects.lead_of(goal) is None:
            return "documentary"
        return DEFAULT_GENRE
    return sorted(g for g, s in scores.items() if s == best)[0]


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


WORDS_PER_SECOND = 3.2
"""Words per second the offline voice (Piper en_US-joe-medium) reads this writer's sentences at:
3.2 over twenty scenes of five contrasting goals; tests/test_story_goals.py renders three runs
asked for a length and checks they come within 10% of it."""
LINE_EDGES = 0.1
"""Seconds a short line takes beyond its words at WORDS_PER_SECOND: 0.07 on average over the twelve offline lines
in four character voices (Piper, shifted)."""


def speech_seconds_per_scene(seconds: float, scenes: int) -> float:
    """How long each scene's narration should run for the video to last `seconds`: every scene
    also holds a short lead before its words and a pause after them."""
    return max(1.5, seconds / max(1, scenes) - (SPEECH_LEAD + SPEECH_TAIL))


def write_local_story(goal: str, *, scenes: int, seed: int, seconds: float | None = None,
                      dialogue: str = "some") -> StoryDraft:
    rng = _rng(goal, seed)
    words = _words(goal)
    genre = _pick_genre(goal, words)
    if genre in subjects.GOAL_GENRES:
        draft, fillers = _goal_story(goal, genre, words, scenes, rng)
    else:
        draft, fillers = _picture_book(goal, genre, words, scenes, rng)
    draft = _cover(draft, goal, genre)
    narrator = NARRATORS.get(genre, NARRATORS["friendship"])
    if seconds:  # as many words as the genre's narrator reads in that time (a bedtime one reads slower)
        # less the time the characters' lines take (their count does not depend on the narration's length)
        said = add_lines(draft, genre, dialogue, random.Random(seed))
        talk = sum(len(line.text.split()) / WORDS_PER_SECOND + GAP + LINE_EDGES for s in said.scenes for line in s.lines)
        speech = max(1.0, speech_seconds_per_scene(seconds, scenes) - talk / scenes)
        draft = _fit(draft, fillers, round(speech * WORDS_PER_SECOND * reading_rate(narrator)))
        longest = max(_count([s.narration]) for s in draft.scenes) / (WORDS_PER_SECOND * reading_rate(narrator))
        if longest > speech * 1.1 and genre in AT_PACE:
            # Its shortest lines do not fit that length at a slow reading: the length asked for comes first,
            # so the narrator reads at the voice's own pace.
            narrator = AT_PACE[genre]
            draft = _fit(draft, fillers, round(speech * WORDS_PER_SECOND))
    draft = draft.model_copy(update={"places": recurring_places(draft), "narrator": draft.narrator or narrator})
    return add_lines(direct(draft, genre), genre, dialogue, rng)


PREMISE = re.compile(
    r"^(?:please\s+)?(?:(?:make|write|create|tell|give)\s+(?:me\s+|us\s+)?)?(?:an?\s+|the\s+)?(?:[\w'-]+\s+){0,4}?"
    r"(?:story|tale|fable|adventure|film|movie|cartoon)\s+(?P<how>about|of|where|in which)\s+(?P<rest>.+?)[.!]?$",
    re.I)


def premise(goal: str) -> str | None:
    """A story goal said as the narrator's opening line: 'a 4-scene story about Luna the owl who teaches Max the
    mouse to read the stars' -> 'This is the story of Luna the owl, who teaches Max the mouse to read the stars.';
    'an adventure where Zara the giraffe climbs a mountain' -> 'Zara the giraffe climbs a mountain.'"""
    m = PREMISE.match(" ".join(goal.split()))
    if not m:
        return None
    rest = re.sub(r"\s+(who|which|whose)\b", r", \1", m["rest"]).replace(",,", ",")
    rest = re.sub(r"\b(?:in|with) \d+ scenes?\b|\bfor (?:kids|children)\b", "", rest).strip(" ,")
    if m["how"].lower() in ("where", "in which"):
        return _sentences(rest[:1].upper() + rest[1:] + ".")
    return f"This is the story of {rest}."


def _clause(goal: str, parsed: reading.Reading) -> str | None:
    """A goal that is itself a sentence about its named cast, as the narrator's opening: 'Pip the hedgehog and Dot
    the mole dig a tunnel to the sea' -> 'This is the story of Pip the hedgehog and Dot the mole, who dig a tunnel
    to the sea.'; None for any other goal."""
    text = " ".join(goal.split()).rstrip(".!?")
    first = parsed.named[0].name if parsed.named else ""
    deed = parsed.deeds.get(first, "")
    if not first or not text.startswith(first) or not deed or not text.endswith(deed):
        return None
    who = text[: len(text) - len(deed)].rstrip(" ,")
    return f"This is the story of {who}, who {deed}."


def _cover(draft: StoryDraft, goal: str, genre: str) -> StoryDraft:
    """Nothing the goal names is lost: when the narration leaves out a character, kind, place or deed the goal
    names, a story opens on the goal's premise, and any other film meets the named people in its first scene."""
    parsed = read_goal(goal)
    if parsed is None or not draft.scenes:
        return draft
    text = " ".join(s.narration for s in draft.scenes).lower()
    named = [n.name for n in parsed.named]
    places = [re.sub(r"^(?:the|a|an|my|our)\s+", "", p) for p in parsed.places]
    wanted = named + [n.kind for n in parsed.named if n.kind] + [d.name for d in parsed.described] + places + \
        [w for deed in parsed.deeds.values() for w in re.findall(r"[a-z]{4,}", deed.lower())] + parsed.nouns + \
        [w for love in parsed.loves for w in re.findall(r"[a-z]{4,}", love.lower())]

    def said(word: str) -> bool:
        return word.lower() in text or _singular(word.lower()) in text

    if all(said(w) for w in wanted):
        return draft
    opening = premise(goal) if genre in STORY_GENRES else None
    clause = _clause(goal, parsed)
    if opening is None and genre in STORY_GENRES and clause:
        opening = clause  # "This is the story of Pip the hedgehog and Dot the mole, who dig a tunnel to the sea."
    if opening is None:
        lines = []
        people = [n for n in named if not said(n)]
        if people:
            lines.append("Meet " + (" and ".join([", ".join(people[:-1]), people[-1]]) if len(people) > 1
                                    else people[0]) + ".")
        for deed in dict.fromkeys(d for n, d in parsed.deeds.items() if n in named):  # "met at a bookshop"
            doers = [n for n, d in parsed.deeds.items() if d == deed]
            if not all(said(w) for w in re.findall(r"[a-z]{4,}", deed.lower())):
                lines.append(_sentences(f"{' and '.join(doers)} {deed}."))
        lines += [_sentences(f"{p} is where it all happens.") for p, bare in zip(parsed.places, places, strict=True)
                  if not said(bare) and not any(bare in line.lower() for line in lines)]
        loved = [love for love in parsed.loves if not all(said(w) for w in re.findall(r"[a-z]{4,}", love.lower()))]
        if loved and draft.characters:  # a short birthday video still says what they love
            lead = " and ".join(c.name for c in draft.characters[:2] if c.kind not in SPECIES) or draft.characters[0].name
            lines.append(f"{lead} {'love' if ' and ' in lead else 'loves'} {' and '.join(loved)}.")
        if not lines:
            return draft
        opening = " ".join(lines)
    first = draft.scenes[0]
    update = {"narration": f"{opening} {first.narration}"}
    cast = list(draft.characters)
    absent = [n for n in parsed.named if not any(n.name in c.name or c.name in n.name for c in cast)]
    if absent:  # "an ad for a lemonade stand run by two sisters, Ada and Mia": they are in the first picture
        rng = _rng(goal, len(cast))
        cast += [Character(name=n.name, kind=_singular(n.kind) if n.kind else "person", look=rng.choice(ROLE_LOOKS))
                 for n in absent]
        update["image_prompt"] = f"{' and '.join(n.name for n in absent)} smiling, {first.image_prompt}"
    scenes = [first.model_copy(update=update), *draft.scenes[1:]]
    return draft.model_copy(update={"scenes": scenes, "characters": cast})


def direct(draft: StoryDraft, genre: str) -> StoryDraft:
    """The writer's direction for the camera and the voice: a shot and a motion line per scene (an opening
    wide shot, closer as the story goes, wide again at the end; one camera move each, varied), and the
    narrator's persona for the genre."""
    from director.backends.base import MOTIONS

    scenes = []
    for i, scene in enumerate(draft.scenes):
        last = i == len(draft.scenes) - 1
        shot = SHOTS[0] if i == 0 or last else SHOTS[1 + (i - 1) % (len(SHOTS) - 1)]
        camera = CAMERA[MOTIONS[i % len(MOTIONS)]]
        text = scene.image_prompt.lower()
        ambience, cue = next(((a, c) for word, a, c in AMBIENCE if word in text), ("a calm, gentle ambience",
                                                                                  "a soft breeze"))
        subject = scene.image_prompt.split(",")[0].strip().rstrip(".")
        motion = f"{subject}, moving gently and naturally; {camera}; {ambience}; {cue}."
        scenes.append(scene.model_copy(update={"shot": scene.shot or shot, "motion": scene.motion or motion}))
    return draft.model_copy(update={"scenes": scenes, "narrator": draft.narrator or NARRATORS.get(genre, NARRATORS["friendship"])})


def camera_move(motion: str) -> str | None:
    """The Ken Burns move a scene's motion line names ('slow push in' -> zoom_in), if any."""
    text = motion.lower()
    return next((move for move, words in CAMERA.items() if words.removeprefix("slow ") in text), None)


def recurring_places(draft: StoryDraft) -> list[PlacePlan]:
    """The place two or more scenes return to: a name in capitals that is nobody in the cast (an ad's
    shop, "Bean There"), else a landmark ("the lighthouse"). At most one."""
    prompts = [s.image_prompt for s in draft.scenes]
    cast = {c.name.lower() for c in draft.characters}
    names: dict[str, int] = {}
    for prompt in prompts:
        for name in set(re.findall(r"\b[A-Z][\w'&]*(?:\s+[A-Z][\w'&]*)*", prompt)):
            name = re.sub(r"^(?:The|A|An|At|In|On|By|Then|Now)\s+", "", name)  # a sentence's first word
            if name.lower() not in cast and not any(name.lower() in c for c in cast) and len(name) > 2 \
                    and name not in ("The", "Then", "Now", "Next", "Finally", "First"):
                names[name] = names.get(name, 0) + 1
    for name, count in sorted(names.items(), key=lambda kv: -kv[1]):
        if count >= 2:
            return [PlacePlan(name=name, look=f"{name}, a shop with a striped awning, a lit window and a door, "
                                              f"on a sunny street")]
    for word, look in LANDMARKS.items():
        if sum(bool(re.search(rf"\b{word}\b", p, re.I)) for p in prompts) >= 2:
            return [PlacePlan(name=f"the {word}", look=look)]
    return []


def _picture_book(goal: str, genre: str, words: list[str], scenes: int,
                  rng: random.Random) -> tuple[StoryDraft, list[str]]:
    spec = GENRES[genre]
    parsed = read_goal(goal)
    where = [w for place in (parsed.places if parsed else []) for w in _words(place)]  # "on the moon" first
    setting = _pick_setting(where + words, genre, rng)
    cast = _cast(goal, words, setting, rng)
    a, b = cast[0], cast[1]
    style = _style(words) or rng.choice(spec["styles"])
    beats: tuple[Beat, ...] = spec["beats"]
    places = list(setting.places)
    rng.shuffle(places)
    fill = {
        "A": a.name, "B": b.name, "a": a.kind, "b": b.kind,
        "obstacle": setting.obstacle, "crossing": setting.crossing, "treasure": setting.treasure,
        **{f"p{i}": places[i % len(places)] for i in range(6)},
    }
    plans: list[ScenePlan] = []
    others = ", ".join(f"{c.name} the {c.kind}" for c in cast[2:])
    time_of_day = "morning"
    for position, item in enumerate(_arc(beats, scenes)):
        if isinstance(item, int):
            action, narration = INTERLUDES[item % len(INTERLUDES)]
            local = dict(fill, p=places[(item + 1) % len(places)])
        else:
            action, narration, time_of_day = item
            local = fill
        who = action.format(**local)
        if others and position % 2 == 1:
            who += f", with {others} nearby"
        light = "" if time_of_day.split()[-1] in who else f", {time_of_day}"
        plans.append(ScenePlan(image_prompt=f"{who}{light}", shot="", motion="", narration=narration.format(**local)))
    title = rng.choice(spec["titles"]).format(**fill)
    fillers = [n.format(**dict(fill, p=places[i % len(places)])) for i, (_, n) in enumerate(INTERLUDES)]
    return StoryDraft(title=title, art_style=style, narrator="", characters=cast, scenes=plans), fillers


def _style(words: list[str]) -> str | None:
    return next((STYLE_WORDS[w] for w in words if w in STYLE_WORDS), None)


def _goal_story(goal: str, genre: str, words: list[str], scenes: int,
                rng: random.Random) -> tuple[StoryDraft, list[str]]:
    """A story written around the goal's subject: its topic, brand, product and lead."""
    spec = subjects.GOAL_GENRES[genre]
    subject = subjects.subject_of(goal)
    topic = subjects.topic_of(subject)
    kind, product = subjects.business_of(topic)
    where = rng.choice(("around the corner", "in the heart of town", "on the high street"))
    named = subjects.brand_of(goal)
    if not named and not kind and re.fullmatch(r"(?:[A-Z0-9][\w'&.-]*)(?:\s+[A-Z0-9][\w'&.-]*)*", topic.strip()):
        # "an ad for Sunny Bikes, a bicycle shop": a name in capitals is the brand, and what the
        # rest of the goal calls it ("a bicycle shop") is the business.
        named = topic.strip()
        rest = goal[goal.find(named) + len(named):]
        found = re.search(r"\b(?:a|an|the)\s+([a-z][\w -]*)", rest)
        kind, product = subjects.business_of(found.group(1)) if found else (None, named)
        if not kind or product == "what we make":
            product = named
        elif " " not in product and not product.endswith("s") and product not in MASS_NOUNS:
            product += "s"  # a bicycle shop sells bicycles
    if named:
        brand, pitch = named, (f"the {kind} {where}" if kind else f"made for people who love {product}")
    else:
        brand = f"the {kind} {where}" if kind else f"our {topic}"
        pitch = f"where good {product} always comes first"
    cast: list[Character] = []
    guests: list[reading.Named] = []  # who an occasion is for, by name
    lead = subjects.lead_of(topic)
    place = re.search(r"\b(?:on|to|from|at|in|near)\s+(.+)$", topic)
    species = [w for w in words if PLURALS.get(w, w) in SPECIES]
    loves = re.search(r"\bwho (?:loves?|enjoys?|likes?)\s+([a-z][a-z -]*?)(?:\s+and\s+(?:her|his|their|my)\b|[,.!]|$)",
                      goal.lower())
    hobby = loves.group(1).strip() if loves else "the little things"
    if genre in ("spooky", "scifi"):
        setting = _pick_setting(words, "adventure", rng)
        if lead:
            name = subjects.brand_of(goal) or f"the {lead}"
            cast.append(Character(name=name, kind=lead, look=rng.choice(ROLE_LOOKS)))
            if species:  # "a lighthouse keeper and a black cat": the cat comes along
                cast += _cast(goal, words, setting, rng)[:1]
        elif species:
            cast = _cast(goal, words, setting, rng)[:1]
        else:
            role = "astronaut" if genre == "scifi" else "lighthouse keeper"
            cast.append(Character(name=f"the {role}", kind=role, look=rng.choice(ROLE_LOOKS)))
        places = list(setting.places)
        rng.shuffle(places)
    elif genre == "occasion":
        hobby_words = [w[:-3] for w in (loves.group(1).split() if loves else []) if w.endswith("ing")]  # gardening
        setting = _pick_setting(hobby_words + words, "friendship", rng)
        honoured = re.search(rf"\b(?:(my|our|his|her|their)\s+)?({'|'.join(FAMILY + HONOURED)})\b", goal.lower())
        parsed = read_goal(goal)
        guests = [h for h in parsed.honoured if h.name[:1].isupper()] if parsed else []
        if parsed and not loves and parsed.loves:
            hobby = parsed.loves[0]
        if guests:  # "my uncle Ravi", "our teacher Mrs Okafor", "Sam and Priya": by their names
            for person in guests[:2]:
                kind = _singular(person.kind) if person.kind else "person"
                title = kind.title() + " " if kind in FAMILY + ("uncle", "aunt", "auntie") else ""
                cast.append(Character(name=f"{title}{person.name}", kind=kind, look=rng.choice(ROLE_LOOKS)))
            who = ""
        elif honoured and honoured.group(2) in FAMILY:
            who, name = honoured.group(2), honoured.group(2).title()  # "my grandma" is Grandma
        elif honoured:
            who, name = honoured.group(2), f"{honoured.group(1) or 'the'} {honoured.group(2)}"  # "our teacher"
        elif parsed and parsed.honoured:  # "new volunteers": the goal's own words
            who, name = _singular(parsed.honoured[0].kind or "friend"), parsed.honoured[0].name
        else:
            who, name = "friend", "our friend"
        if who:
            cast.append(Character(name=name, kind=who, look=rng.choice(ROLE_LOOKS)))
        if species:  # "... and her cat Mitzi": the pet is at the party too
            cast += _cast(goal, words, setting, rng)[:1]
        places = list(setting.places)
        rng.shuffle(places)
    else:
        places = [""] * 6
    parsed = read_goal(goal)
    occasion = (parsed.occasion if parsed and parsed.occasion else None) or next(
        (w for w in ("birthday", "anniversary", "wedding", "retirement", "graduation") if w in words), "day")
    a = cast[0].name if cast else ""
    together = f"{a} and {cast[1].name}" if len(cast) > 1 else a
    couple = genre == "occasion" and len(cast) > 1 and cast[1].kind not in SPECIES  # "Rosa and Carlos"
    if couple:
        a = together
    # Spoken, a documentary's subject keeps the article the goal gave it ("the ocean", "the history of tea").
    said = f"the {topic}" if genre == "documentary" and re.match(r"(?i)the\s", subject) and \
        not topic.lower().startswith("the ") else topic
    lead_name = ("the " + _title_case(a.removeprefix("the ")) if a.startswith("the ") else a) if a \
        else _title_case(topic)
    fill = {"topic": said, "Topic": _title_case(topic), "question": subjects.question_of(said), "brand": brand,
            "Brand": _title_case(brand.removeprefix("the ").removeprefix("our ")), "product": product,
            "Product": product[:1].upper() + product[1:],
            "is": "are" if product.endswith("s") and not product.endswith("ss") and product != named else "is",
            "pitch": pitch, "A": together,
            "A_intro": f"{a} and {cast[1].name} the {cast[1].kind}" if len(cast) > 1 else a,
            "Lead": lead_name,
            "topic_where": place.group(1) if place else "the edge of the galaxy",
            "occasion": occasion, "Occasion": occasion.title(), "hobby": hobby,
            "what": f", the {kind}" if kind and named else "",  # the picture shows what the brand is
            "Greeting": GREETINGS.get(occasion, f"Happy {occasion}"),
            "loves": "love" if couple else "loves",
            "Honoured": honoured_line(lead_name, guests),
            "Company": (f"And of course {cast[1].name} the {cast[1].kind} is never far away." if len(cast) > 1
                        and not couple else "The best days are the ones shared with the people we love."),
            "recap": topic if topic.lower().startswith("how") else f"all there is to {topic}", "Tagline": _title_case(f"good {product}"),
            **{f"p{i}": places[i % len(places)] for i in range(6)}}
    plans: list[ScenePlan] = []
    time_of_day = "morning"
    steps = 0
    for item in _arc(spec.beats, scenes):
        if isinstance(item, int):
            action, narration = spec.fillers[item % len(spec.fillers)]
            local = dict(fill, p=places[(item + 1) % len(places)])
        else:
            action, narration, time_of_day = item
            local = fill
        if "{step}" in narration:  # the steps a how-to keeps are numbered in the order they are shown
            steps += 1
            local = dict(local, step=f"Step {ORDINALS[steps - 1] if steps <= len(ORDINALS) else steps}:")
        image = " ".join(action.format(**local).split())
        light = "" if time_of_day.split()[-1] in image else f", {time_of_day}"
        plans.append(ScenePlan(image_prompt=f"{image}{light}", shot="", motion="",
                               narration=_sentences(narration.format(**local))))
    title = rng.choice(spec.titles).format(**fill)
    title = title[:1].upper() + title[1:]
    style = _style(words) or rng.choice(spec.styles)
    fillers = [_sentences(n.format(**dict(fill, p=places[i % len(places)]))) for i, (_, n) in enumerate(spec.fillers)]
    return StoryDraft(title=title, art_style=style, narrator="", characters=cast, scenes=plans), fillers


def honoured_line(lead: str, named: list[reading.Named]) -> str:
    """Who an occasion is for, with who they are to the maker when the goal says: 'Mrs Okafor, our teacher'."""
    relation = named[0].relation if named else ""
    if not relation or relation.split()[-1].lower() in lead.lower():
        return lead
    if relation.split()[0].lower() not in ("my", "our", "his", "her", "their", "your"):
        relation = f"our {relation}"
    return f"{lead}, {relation}"


def _title_case(text: str) -> str:
    """Headline capitals, with the small words lower-case except at the start."""
    return " ".join(w if (i and w.lower() in SMALL_WORDS) else w[:1].upper() + w[1:]
                    for i, w in enumerate(text.split()))


def _sentences(text: str) -> str:
    """Each sentence starting with a capital (a subject put at the front of one may not), spaces tidied."""
    text = " ".join(text.split())
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def _fit(draft: StoryDraft, fillers: list[str], words: int) -> StoryDraft:
    """Each scene's narration brought to about `words` words: short ones gain filler sentences, long ones lose
    their later sentences. No sentence is said twice in the film: a filler some scene already says is never
    added, so when they run out a scene stays short rather than repeat itself."""
    def split(text: str) -> list[str]:
        return [s.strip() for s in (re.findall(r"[^.!?]+[.!?]+[\"”]?", text) or [text])]

    used: set[str] = {s for plan in draft.scenes for s in split(plan.narration)}
    plans = []
    for plan in draft.scenes:
        sentences = split(plan.narration)
        while len(sentences) > 1 and _count(sentences) > words + 3:
            sentences.pop()
        pool = [f for f in fillers if not used & set(split(f))]
        while pool and _count(sentences) < words - 3:
            pick = min(pool, key=lambda f: abs(_count(sentences) + _count([f]) - words))
            if abs(_count(sentences) + _count([pick]) - words) >= abs(_count(sentences) - words):
                break
            sentences.insert(len(sentences) - 1 if len(sentences) > 1 else len(sentences), pick)
            used.update(split(pick))
            pool = [f for f in pool if not used & set(split(f))]
        plans.append(plan.model_copy(update={"narration": " ".join(sentences)}))
    return draft.model_copy(update={"scenes": plans})


def _count(sentences: list[str]) -> int:
    return sum(len(s.split()) for s in sentences)


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


def goal_notes(goal: str) -> list[str]:
    """What the offline writer will not do with this goal, one line each (printed as warnings)."""
    notes = []
    code = language_of(goal)
    if code and code != "en":
        notes.append(f"the goal reads as {LANGUAGES.get(code, code)}; the offline writer and voice work in English, "
                     f"so the story and its narration will be in English (a Gemini key writes and speaks in yours)")
    words = _words(goal)
    genre = _pick_genre(goal, words)
    if genre in subjects.GOAL_GENRES and not subjects.GOAL_GENRES[genre].has_facts:
        topic = subjects.topic_of(subjects.subject_of(goal))
        shape = "a generic reveal and a call to action" if genre == "product" else "a generic hook, steps and recap"
        notes.append(f"the offline writer knows no facts about {topic!r}: this {genre} follows your words with "
                     f"{shape}; a Gemini key writes the real content")
    elif genre == DEFAULT_GENRE and not any(PLURALS.get(w, w) in SPECIES for w in words) \
            and not any(w in GENRES[DEFAULT_GENRE]["words"] for w in words):
        notes.append("the offline writer found no genre, animal or role it knows in the goal, so it tells a generic "
                     "friendship story about two animals; a Gemini key writes one from your goal")
    return notes


class LocalStoryWriter:
    """Template beats seeded by the goal."""

    name = "local"
    model = "template-beats-v4"  # v4: characters speak lines (dialogue.py); a new version writes anew

    def notes(self, goal: str) -> list[str]:
        return goal_notes(goal)

    @staticmethod
    def dropped(goal: str, draft: StoryDraft) -> list[str]:
        """What the goal names that the story never says (the parser's nouns), for a warning line."""
        parsed = read_goal(goal)
        text = " ".join(s.narration for s in draft.scenes).lower()
        topic = subjects.topic_of(subjects.subject_of(goal))
        brand = subjects.brand_of(goal) or (topic if topic[:1].isupper() else None)
        named_business = brand is not None and brand.lower() in text  # "Rosie's Bike Repair, a bicycle repair shop"
        return list(dict.fromkeys(n for n in (parsed.nouns if parsed else [])
                                  if n not in text and _singular(n) not in text
                                  and not (named_business and n in subjects.BUSINESS)))

    def write_story(self, goal: str, *, scenes: int, seed: int, seconds: float | None = None,
                    dialogue: str = "some") -> StoryDraft:
        return write_local_story(goal, scenes=scenes, seed=seed, seconds=seconds, dialogue=dialogue)
