"""The offline writer's story written around the goal's own subject (documentary, ad, spooky, science fiction,
how-to, an occasion: director/backends/local/subjects.py), with who an occasion is for."""

from __future__ import annotations

import random
import re

from director.backends.local import reading, subjects
from director.backends.local.casting import _arc, _cast, _pick_setting, _style
from director.backends.local.language import _sentences, _singular, _title_case, read_goal
from director.backends.local.storybook import (
    FAMILY,
    GREETINGS,
    HONOURED,
    MASS_NOUNS,
    ORDINALS,
    PLURALS,
    ROLE_LOOKS,
    SPECIES,
)
from director.state import Character
from director.story_draft import ScenePlan, StoryDraft


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
