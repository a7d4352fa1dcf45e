"""What an offline story is about: the goal's subject, brand, product and lead, and the genres
written around them (documentary, ad, spooky, science fiction, how-to).

No model is involved, so nothing here knows facts: a documentary about bees gets a hook, steps
and a recap built around the goal's own words ("how bees make honey"), and the writer says so
in a warning line (LocalStoryWriter.notes). What it does know it takes from the goal: the
subject, a brand or shop named in it ("called Bean There"), the product a shop sells ("coffee"
for a coffee shop), and the lead of a story ("a lighthouse keeper").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A genre: the words that pick it, art styles, titles, beats (image, narration, time of day)
# and filler lines (image, narration) that lengthen the narration or fill extra scenes.
Beat = tuple[str, str, str]
Filler = tuple[str, str]


@dataclass(frozen=True)
class Genre:
    words: tuple[str, ...]
    phrases: tuple[str, ...]
    styles: tuple[str, ...]
    titles: tuple[str, ...]
    beats: tuple[Beat, ...]
    fillers: tuple[Filler, ...]
    has_facts: bool = True
    """False when the genre promises content (facts, steps) that an offline writer cannot know."""


GOAL_GENRES: dict[str, Genre] = {
    "documentary": Genre(
        words=("documentary", "explainer", "explain", "explains", "explaining", "facts", "history", "science",
               "lesson", "learn",
               "educational", "nature"),
        phrases=("how do", "why do", "about how", "about why", "the story of"),
        styles=("naturalistic documentary photography, shallow depth of field, soft natural light",
                "clean educational illustration, muted natural palette, clear shapes"),
        titles=("{Topic}", "The Story of {Topic}", "{Topic}: A Closer Look"),
        beats=(
            ("a striking close-up that introduces {topic}, documentary style", "Have you ever wondered {question}? "
             "It happens all around us, every single day.", "morning"),
            ("a wide establishing shot of where {topic} begins", "To understand {topic}, we have to start at the "
             "very beginning, with something small.", "morning"),
            ("a detailed view of the first stage of {topic}", "First comes the groundwork: a patient process that "
             "most of us never notice.", "midday"),
            ("a busy scene showing {topic} in full swing", "Then the pace picks up. Step by step, each part plays "
             "its role, and nothing is wasted.", "midday"),
            ("a close look at the key moment of {topic}", "This is the key moment, where everything comes together.",
             "afternoon"),
            ("a calm wide shot that sums up {topic}, golden light", "So that is {topic}: small steps, repeated with "
             "care, adding up to something remarkable.", "afternoon"),
            ("a last hopeful image of {topic} at sunset", "Next time you see it, you will know the story behind it.",
             "sunset"),
        ),
        fillers=(
            ("a macro shot of a detail of {topic}", "Look closely, and every detail of {topic} has a purpose."),
            ("a time-lapse feeling view of {topic}", "What looks simple from far away is a careful sequence up close."),
            ("a side-by-side view of the stages of {topic}", "Each stage depends on the one before it."),
            ("a quiet moment within {topic}", "It takes time, and it cannot be rushed."),
        ),
        has_facts=False,
    ),
    "ad": Genre(
        words=("ad", "advert", "advertisement", "commercial", "promo", "promotion", "promotional", "marketing",
               "sale", "launch", "brand", "campaign", "announcement"),
        phrases=("an ad", "a promo"),
        styles=("bright commercial photography look, clean composition, warm inviting light",
                "polished lifestyle advertising style, crisp colours, soft daylight"),
        titles=("{Brand}", "{Brand}: {Tagline}", "Discover {Brand}"),
        beats=(
            ("a person starting a busy morning, looking tired", "Long day ahead? Everyone deserves a better start.",
             "morning"),
            ("the front of {brand}{what} on a sunny street, warm and inviting", "Meet {brand}, {pitch}.", "morning"),
            ("a close-up of {product} made with care at {brand}", "{Product}, made with care, fresh, "
             "just the way you like it.", "midday"),
            ("smiling customers enjoying {product} at {brand}", "Friends, neighbours and regulars agree: {brand} "
             "makes the day better.", "afternoon"),
            ("a welcoming wide shot of {brand}{what} in golden light", "Visit {brand} today. Your {product} {is} "
             "waiting.", "afternoon"),
        ),
        fillers=(
            ("a detail shot of {product} being prepared", "Only good ingredients, and never a shortcut."),
            ("a friendly face behind the counter at {brand}", "The people at {brand} remember your name."),
            ("a cosy corner inside {brand}", "Stay a while, or take it with you: it is your choice."),
            ("{product} in the hands of a happy customer", "One try, and you will see the difference."),
        ),
    ),
    "product": Genre(  # a thing to buy, not a place to visit: shown, used and wanted
        words=("product", "teaser", "unboxing", "showcase", "gadget", "device", "prototype"),
        phrases=("product video", "product teaser", "product launch", "new product", "product demo"),
        styles=("sleek product photography, clean studio backdrop, soft rim light",
                "bright lifestyle product film look, crisp colours, natural daylight"),
        titles=("{Brand}", "Meet {Brand}"),
        beats=(
            ("a striking silhouette of the {product} against a dark backdrop, a single rim light", "Something new is "
             "coming.", "night"),
            ("a slow reveal of the {product}, every curve and detail catching the light", "Meet {brand}.", "morning"),
            ("a close-up of the finest detail of the {product}", "Every detail is there for a reason.", "midday"),
            ("a person using the {product} in everyday life, smiling", "Made for the way you live, every single day.",
             "afternoon"),
            ("the {product} in golden light, ready for its first day", "{Brand}. Coming soon.", "afternoon"),
        ),
        fillers=(
            ("the {product} seen from a low angle, bold and confident", "Designed with care, down to the last detail."),
            ("hands picking up the {product} for the first time", "It feels right the moment you hold it."),
            ("the {product} shown beside the things of a busy day", "It fits right in, wherever the day takes you."),
        ),
        has_facts=False,
    ),
    "occasion": Genre(  # a birthday, an anniversary, a retirement: for someone, about what they love
        words=("birthday", "anniversary", "wedding", "retirement", "graduation", "congratulations", "celebration",
               "celebrate", "tribute", "party", "thank", "thanks", "farewell", "welcome", "engagement",
               "housewarming"),
        phrases=("happy birthday", "birthday video", "birthday card", "for my grandma", "for my grandpa",
                 "for my mum", "for my mom", "for my dad"),
        styles=("warm hand-painted greeting-card illustration, soft golden light, gentle pastel palette",
                "cosy watercolour illustration, warm sunlight, confetti colours"),
        titles=("{Greeting}, {Lead}!", "For {Lead}, with Love", "{Lead}'s Special Day"),
        beats=(
            ("{A} smiling {p0} in soft morning light", "Today is a special day, and it is all for {Honoured}.",
             "morning"),
            ("{A} busy with {hobby} {p1}, happy and at ease", "{Lead} {loves} {hobby}, and the whole world is "
             "brighter for it.", "midday"),
            ("{A} sharing a quiet, happy moment {p2}", "{Company}", "afternoon"),
            ("{A} beside a table with a cake and candles {p3}, bunting overhead", "{Greeting}, {Lead}! Here is "
             "to many more.", "afternoon"),
        ),
        fillers=(
            ("{A} laughing {p}", "Every year with {Lead} is a gift to everyone around them."),
            ("flowers and cards waiting for {A} {p}", "So many people are thinking of {Lead} today."),
            ("{A} looking at old photographs {p}", "So many happy memories, and many more to come."),
        ),
        has_facts=True,
    ),
    "spooky": Genre(
        words=("spooky", "scary", "ghost", "ghosts", "haunted", "creepy", "eerie", "halloween", "horror",
               "mystery", "mysterious", "monster", "shadows", "witch", "vampire", "spooked"),
        phrases=("ghost story",),
        styles=("moody gothic storybook illustration, deep blues and lantern amber, strong shadows",
                "atmospheric ink-and-wash illustration, misty greys, a single warm light"),
        titles=("The Secret of {Lead}", "{Lead} and the Light in the Dark", "A Strange Night for {Lead}"),
        beats=(
            ("{A} {p0} on a stormy evening, dark clouds gathering", "On a stormy evening, {A_intro} noticed "
             "something strange {p0}.", "dusk"),
            ("a flickering light {p1}, long shadows stretching", "A light flickered where no light should be, and "
             "the wind began to whisper.", "night"),
            ("{A} holding a lantern, climbing creaking stairs {p2}", "Lantern in hand, {A} climbed the creaking "
             "stairs, one slow step at a time.", "night"),
            ("a shadowy shape passing a moonlit window {p3}", "A shape slipped past the window. {A} held their "
             "breath and listened.", "night"),
            ("{A} finding the source of the noises by lantern light {p4}", "But the secret was not so scary after "
             "all: only a lost little owl, looking for a way home.", "night"),
            ("{A} at dawn {p5}, mist lifting, calm at last", "When dawn came, the mist lifted, and {A} smiled. Some "
             "mysteries are kinder than they seem.", "dawn"),
        ),
        fillers=(
            ("a door creaking open {p}", "Somewhere below, a door creaked open all by itself."),
            ("{A} peering into the dark {p}", "{A} peered into the dark, and the dark seemed to peer back."),
            ("cold mist curling {p}", "A cold mist curled across the floor, silent as a secret."),
        ),
    ),
    "scifi": Genre(
        words=("sci", "scifi", "fi", "alien", "aliens", "futuristic", "future", "cyberpunk", "android", "androids",
               "starship", "spaceship", "galaxy", "mars"),
        phrases=("science fiction", "sci-fi", "time travel", "outer space"),
        styles=("sleek cinematic science-fiction concept art, neon teal and orange, volumetric light",
                "retro-futurist illustration, chrome and pastel, clean lines"),
        titles=("{Lead} Beyond the Stars", "Signal from {Topic}", "The Last Voyage of {Lead}"),
        beats=(
            ("{A} at the controls of a gleaming ship {p0}", "In the year three thousand, {A} picked up a signal "
             "from {topic_where} that no one could explain.", "night"),
            ("a strange glowing planet seen through a round window {p1}", "It came from farther away than anyone "
             "had ever flown.", "night"),
            ("{A} stepping out onto alien ground {p2}", "{A} stepped outside. The ground hummed, and the sky had "
             "two suns.", "morning"),
            ("{A} meeting a curious glowing creature {p3}", "Then something moved: a curious creature made of light, "
             "waving hello.", "midday"),
            ("{A} and the creature sharing a discovery {p4}", "It had been calling for a friend, and now it had "
             "found one.", "afternoon"),
            ("{A}'s ship rising into a star-filled sky {p5}", "{A} flew home with a new friend's song in the radio, "
             "and the stars felt closer than ever.", "night"),
        ),
        fillers=(
            ("screens full of blinking readings {p}", "The readings made no sense, and that was the exciting part."),
            ("{A} checking a map of the stars {p}", "{A} checked the star map twice, just to be sure."),
            ("a silent corridor of the ship {p}", "The ship's engines hummed a low, steady song."),
        ),
    ),
    "howto": Genre(
        words=("tutorial", "guide", "recipe", "steps", "tips", "diy"),
        phrases=("how to", "how-to", "step by step", "step-by-step"),
        styles=("clean overhead tutorial photography, bright even light, tidy composition",
                "friendly flat illustration, clear shapes, soft pastel palette"),
        titles=("{Topic}", "{Topic}, Step by Step", "The Easy Way: {Topic}"),
        beats=(
            ("everything needed for {topic} laid out neatly on a table", "Want to learn {question}? It is easier "
             "than you think. Here is how.", "morning"),
            ("hands gathering the things needed for {topic}", "{step} gather everything you need before you "
             "begin.", "morning"),
            ("hands doing the first step of {topic}", "{step} start slowly, and take your time with the basics.",
             "midday"),
            ("a close-up of the trickiest part of {topic}", "{step} the tricky part. Go gently, and check as "
             "you go.", "midday"),
            ("the finished result of {topic}, proudly shown", "{step} finish up, tidy away, and admire your "
             "work.", "afternoon"),
            ("a happy person enjoying the result of {topic}", "And that is {recap}. Now it is your turn to try.",
             "afternoon"),
        ),
        fillers=(
            ("a helpful close-up for {topic}", "A tip: prepare everything first, and the rest goes smoothly."),
            ("a common mistake in {topic}, shown gently", "If something goes wrong, do not worry: just try again."),
            ("a tidy workspace for {topic}", "Keep your space tidy, and you will work faster."),
        ),
        has_facts=False,
    ),
}

SUBJECT = re.compile(r"\b(?:about|on|of|for|explaining|showing|featuring|advertising|promoting)\s+(?P<s>.+)", re.I)
CUT = re.compile(r"\s*(?:,|;|\.|!|\?| - | (?:run|made|owned|built|started|founded) by | who | whose | in \d+ scenes?| in (?:one|two|three|four|five|six|seven|eight|nine|ten) "
                 r"scenes?| with \d+ scenes?| for (?:kids|children|adults|instagram|tiktok|youtube)).*$", re.I)
NAMED = re.compile(r"\b(?:called|named)\s+(?P<name>[A-Z0-9][\w'&.-]*(?:\s+(?:&|[A-Z0-9][\w'&.-]*))*)")
QUOTED = re.compile(r"[\"“«']([^\"”»']{2,40})[\"”»']")
BUSINESS = ("coffee shop", "coffee house", "cafe", "café", "bakery", "restaurant", "bar", "shop", "store",
            "boutique", "salon", "gym", "studio", "market", "pizzeria", "bookshop", "bookstore", "florist", "diner",
            "brewery", "hotel", "farm", "clinic", "agency", "app", "stand", "truck", "cart", "kiosk", "stall")
PEOPLE = ("keeper", "girl", "boy", "woman", "man", "detective", "sailor", "captain", "teacher", "doctor", "farmer",
          "baker", "knight", "wizard", "witch", "astronaut", "explorer", "scientist", "robot", "child", "kid",
          "grandmother", "grandfather", "grandma", "grandpa", "pilot", "nurse", "chef", "student", "king", "queen",
          "prince", "princess", "pirate", "inventor", "artist", "musician", "ranger", "miner", "fisherman")
LEADING = re.compile(r"^(?:(?:a|an|the|my|our|your|some)\s+)+", re.I)


ASKING = re.compile(r"^(?:please\s+|can you\s+|could you\s+)*(?:explain|describe|illustrate|show(?:\s+(?:me|us))?|"
                    r"teach(?:\s+(?:me|us))?|tell(?:\s+(?:me|us))?(?:\s+about)?|walk\s+(?:me|us)\s+through)\s+",
                    re.I)
"""A goal put as a request ('explain how a robot vacuum finds its way'): what follows is the subject."""


def subject_of(goal: str) -> str:
    """The goal's subject, in its own words: 'a documentary about how bees make honey' -> 'how bees
    make honey'; 'a 30-second ad for a coffee shop called Bean There' -> 'a coffee shop called Bean There';
    'explain how a robot vacuum finds its way around a flat' -> 'how a robot vacuum finds its way around a flat'."""
    text = " ".join(goal.split())
    asked = ASKING.match(text)
    m = None if asked else SUBJECT.search(text)
    subject = text[asked.end():] if asked else m["s"] if m else text
    subject = CUT.sub("", subject).strip()
    return subject or text


def topic_of(subject: str) -> str:
    """The subject without its article and any 'called X': 'a coffee shop called Bean There' -> 'coffee shop'."""
    topic = NAMED.sub("", subject)
    topic = re.sub(r"\s+(?:called|named)\s*$", "", topic).strip()
    return LEADING.sub("", topic).strip() or subject


def brand_of(goal: str) -> str | None:
    """A name the goal gives its business or product: 'called Bean There', or a quoted name."""
    m = NAMED.search(goal) or QUOTED.search(goal)
    return (m.group(1) if m else None) or None


def business_of(topic: str) -> tuple[str | None, str]:
    """(the kind of business, what it sells): 'coffee shop' -> ('coffee shop', 'coffee');
    'handmade candles' -> (None, 'handmade candles')."""
    low = topic.lower()
    for kind in BUSINESS:
        if re.search(rf"\b{re.escape(kind)}\b", low):
            before = low[:low.index(kind)].strip()
            product = before or {"cafe": "coffee", "café": "coffee", "coffee shop": "coffee", "coffee house": "coffee",
                                 "bakery": "fresh bread", "pizzeria": "pizza", "bookshop": "books",
                                 "bookstore": "books", "florist": "flowers", "brewery": "beer",
                                 "diner": "comfort food", "restaurant": "food"}.get(kind, "what we make")
            return kind, product
    return None, topic


def lead_of(topic: str) -> str | None:
    """A person or role the story is about: 'a lighthouse keeper who hears a noise' -> 'lighthouse keeper'."""
    words = re.findall(r"[a-z]+", topic.lower())
    for i, w in enumerate(words):
        one = w if w in PEOPLE else w[:-1] if w.endswith("s") and w[:-1] in PEOPLE else None
        if one:
            before = words[i - 1] if i else ""
            return f"{before} {one}" if before and before not in ("a", "an", "the", "who", "and", "some") else one
    return None


def question_of(topic: str) -> str:
    """A hook's question: 'how bees make honey' stays as it is; 'black holes' -> 'about black holes'."""
    first = topic.split()[0].lower() if topic.split() else ""
    return topic if first in ("how", "why", "what", "where", "when", "who", "which") else f"about {topic}"


def pick_goal_genre(goal: str, words: list[str]) -> tuple[str | None, int]:
    """The goal-led genre the goal names most (a word counts 1, a phrase 2; ties in table order)
    and its score; (None, 0) when it names none."""
    low = " ".join(goal.lower().split())
    scores = {name: sum(w in g.words for w in words)
              + 2 * sum(bool(re.search(rf"\b{re.escape(p)}\b", low)) for p in g.phrases)
              for name, g in GOAL_GENRES.items()}
    best = max(scores.values())
    return (None, 0) if best == 0 else (next(name for name, s in scores.items() if s == best), best)
