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

from director.backends.local import reading, subjects
from director.backends.local.casting import _arc, _cast, _pick_setting, _style
from director.backends.local.dialogue import STORY_GENRES, add_lines
from director.backends.local.goal_story import _goal_story
from director.backends.local.language import _sentences, _singular, _words, language_of, read_goal
from director.backends.local.storybook import (
    AMBIENCE,
    AT_PACE,
    CAMERA,
    DEFAULT_GENRE,
    GENRES,
    INTERLUDES,
    LANDMARKS,
    LANGUAGES,
    NARRATORS,
    PLURALS,
    ROLE_LOOKS,
    SHOTS,
    SPECIES,
    STORY_WORDS,
    Beat,
)
from director.backends.local.voice import reading_rate
from director.media import SPEECH_LEAD, SPEECH_TAIL
from director.speech import GAP
from director.state import Character
from director.story_draft import PlacePlan, ScenePlan, StoryDraft


def _rng(goal: str, seed: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}\x00{goal.strip().lower()}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


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
