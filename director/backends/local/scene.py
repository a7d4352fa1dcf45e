"""What a still's prompt says, reduced to what the offline painter can draw: its words, its cast, its style and shot."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from director.backends.local.palette import CLOTHES, HAIR, RGB

PEOPLE = {"person": 1, "someone": 1, "man": 1, "woman": 1, "barista": 1, "baker": 1, "chef": 1, "customer": 1,
          "scientist": 1, "teacher": 1, "farmer": 1, "beekeeper": 1, "cyclist": 1, "people": 3, "customers": 3,
          "friends": 2, "family": 3, "crowd": 4, "visitors": 3, "couple": 2, "team": 3, "children": 3, "kids": 3}
ARCHETYPE = {
    "cat": "quad", "dog": "quad", "fox": "quad", "bear": "quad", "rabbit": "quad", "bunny": "quad",
    "mouse": "quad", "lion": "quad", "tiger": "quad", "panda": "quad", "pig": "quad", "monkey": "quad",
    "squirrel": "quad", "hedgehog": "quad", "horse": "quad", "unicorn": "quad", "elephant": "quad",
    "dragon": "quad", "dinosaur": "quad", "frog": "quad",
    "owl": "bird", "bird": "bird", "duck": "bird", "penguin": "bird", "parrot": "bird", "pigeon": "bird",
    "robot": "robot", "turtle": "turtle", "crab": "crab", "firefly": "firefly", "fish": "fish", "whale": "fish",
    "girl": "person", "boy": "person", "princess": "person", "knight": "person", "wizard": "person",
    "pirate": "person", "astronaut": "person",
    # More animals the goals name ("Dot the mole" was drawn as a boy): a body of the right kind, with the ears,
    # tail and colour its words give it.
    **dict.fromkeys(("mole", "badger", "otter", "beaver", "deer", "wolf", "raccoon", "hamster", "goat", "sheep",
                     "lamb", "cow", "calf", "kangaroo", "koala", "sloth", "giraffe", "zebra", "hippo", "rhino",
                     "camel", "llama", "seal", "porcupine", "donkey", "puppy", "kitten", "ferret", "weasel", "skunk",
                     "chipmunk", "lizard", "crocodile", "alligator", "guinea", "gerbil", "bat", "meerkat", "lemur",
                     "chameleon", "toad"), "quad"),
    **dict.fromkeys(("swan", "goose", "chicken", "hen", "rooster", "eagle", "robin", "crow", "seagull", "gull",
                     "flamingo", "hummingbird", "sparrow", "stork", "puffin", "toucan", "peacock", "turkey"), "bird"),
    **dict.fromkeys(("dolphin", "shark", "octopus", "seahorse", "goldfish", "salmon"), "fish"),
    **dict.fromkeys(("bee", "butterfly", "ladybird", "ladybug", "dragonfly", "moth", "beetle"), "firefly"),
}


@dataclass
class Cast:
    name: str
    kind: str
    look: str
    body: RGB | None = None
    accent: RGB | None = None
    """Colours read from the character's reference sheet; None takes them from the look's words."""


@dataclass
class Scene:
    """What the prompt says, reduced to what the painter can draw."""

    words: set[str]
    text: str
    cast: list[Cast] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    """Names of the characters whose sheets came with the prompt, in <img>N</img> order."""
    brand: str = ""
    """A shop's name the scene gives ("the front of Bean There", a quoted name), for its sign."""

    def has(self, *words: str) -> bool:
        return any(w in self.words for w in words)

    def phrase(self, *phrases: str) -> bool:
        return any(p in self.text for p in phrases)


STYLE_MARK = re.compile(r"Painted as (.+?)(?:, with light and colour|\.\s|\.$|\n|$)")


SHEET = "Character reference sheet of "
CAST_LINE = "Characters, drawn the same way in every scene:"
REFERENCE_LINE = "Reference pictures:"


def parse_prompt(prompt: str) -> Scene:
    """The scene's own words (not the cast's looks: a "snowy white owl" must not bring snow) and its cast."""
    head, sheet, references = [], "", ""
    for line in prompt.splitlines():
        if line.startswith(CAST_LINE):
            sheet = line[len(CAST_LINE):]
        elif line.startswith(REFERENCE_LINE):
            references = line
        elif not line.startswith(("A check of the last attempt", "No text")):
            # The art style sets the look, never the scene: "honey yellows" must not bring a beehive.
            head.append(re.sub(r"\s*Painted as .*$", "", line))
    cast_all = [Cast(m[1].strip(), m[2].strip().lower(), m[3].strip().lower())
                for m in re.finditer(r"(?:^|;\s*)([^;()]+?) \(([^;()]+)\): ([^;]+?)(?=;|\.\s*$|$)", sheet.strip())]
    scene_text = " ".join(head).lower()
    cast = [c for c in cast_all if c.name.lower() in scene_text] or cast_all
    if not cast:  # a robot vacuum is a machine on the floor, not a robot character
        beings = re.sub(r"\brobot (?:vacuum|vacuums|hoover|mower|lawnmower|arm|arms)\b", "", scene_text)
        kinds = [k for k in ARCHETYPE if re.search(rf"\b{k}s?\b", beings)]
        cast = [Cast(k, k, k) for k in kinds[:3]]
    if not cast:  # "customers enjoying coffee", "a person starting a busy morning": people, not characters
        words = set(re.findall(r"[a-z]+", scene_text))
        count = max((n for w, n in PEOPLE.items() if w in words), default=0)
        digest = hashlib.sha256(scene_text.encode()).digest()
        cast = [Cast(f"person {i + 1}", "person",
                     f"{HAIR[digest[i] % len(HAIR)]} hair, a {CLOTHES[digest[i + 4] % len(CLOTHES)]} shirt")
                for i in range(count)]
    order = [m.group(1).strip() for m in re.finditer(r"(?:^|; )(?:Reference pictures: )?(.+?) is <img>\d+</img>", references)]
    named = BRAND.search(" ".join(head))
    brand = next((g for g in (named.groups() if named else ()) if g), "")
    return Scene(words=set(re.findall(r"[a-z]+", scene_text)), text=scene_text, cast=cast, references=order,
                 brand=brand[:24])


BRAND = re.compile(r"[\"“]([^\"”]{2,24})[\"”]|\b(?:front of|outside|inside|at|of|visit)\s+"
                   r"((?:[A-Z][\w'&.-]*)(?:\s+(?:&|[A-Z][\w'&.-]*)){0,3})")
"""A name on a shop's sign: quoted, or in capitals after 'the front of', 'at', 'visit' (never a sentence's first word)."""


def style_of(prompt: str) -> str:
    """The art style a still's prompt asks for: after 'Painted as' (image.md), else its first sentence."""
    found = STYLE_MARK.search(prompt)
    return (found.group(1) if found else prompt.split(".")[0]).lower()


def shot_scale(text: str) -> float:
    """How big the cast is drawn for the shot the writer asked for: closer in a close-up, smaller in a wide shot."""
    head = text[:40]
    if "close-up" in head or "close up" in head:
        return 1.25
    if "wide shot" in head or "long shot" in head or "establishing" in head:
        return 0.85
    return 1.0


def archetype(kind: str) -> str:
    """The body the painter draws for a species or role: a role it does not know is a person."""
    words = re.findall(r"[a-z]+", kind.lower())
    for word in [kind.lower()] + words[::-1]:
        if word in ARCHETYPE:
            return ARCHETYPE[word]
        if word.endswith("s") and word[:-1] in ARCHETYPE:
            return ARCHETYPE[word[:-1]]
    return "person"

