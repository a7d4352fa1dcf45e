"""What the offline writer draws on: species and their names and looks, settings, the picture-book genres and
their beats, the narrators' personas, the camera's words, the occasions' greetings and the languages it knows.
Pure data: the logic is in director/backends/local/story.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

# species -> (name pool, look pool)
SPECIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cat": (("Whiskers", "Miso", "Pumpkin", "Luna", "Tiger", "Mittens"),
            ("a ginger cat with green eyes and a white-tipped tail", "a fluffy grey cat with a blue collar",
             "a black cat with golden eyes and white socks", "a calico cat with a pink nose")),
    "dog": (("Buster", "Biscuit", "Pepper", "Rufus", "Maple", "Scout"),
            ("a golden puppy with floppy ears and big paws", "a brown dog with a red bandana",
             "a spotted white dog with one black ear", "a scruffy grey terrier with a wagging tail")),
    "fox": (("Rusty", "Fern", "Amber", "Sly"), ("a red fox with a bushy white-tipped tail", "a small orange fox in a green scarf")),
    "owl": (("Hoot", "Olive", "Sage"), ("a round brown owl with golden eyes", "a snowy white owl with tiny spectacles")),
    "rabbit": (("Clover", "Hops", "Daisy", "Thumper"), ("a white rabbit with long pink-lined ears", "a brown bunny with a fluffy cotton tail")),
    "bunny": (("Clover", "Hops", "Daisy"), ("a white bunny with long pink-lined ears", "a brown bunny with a fluffy cotton tail")),
    "bear": (("Bramble", "Honey", "Bruno"), ("a cuddly brown bear with a honey-coloured belly", "a small black bear in a yellow raincoat")),
    "mouse": (("Crumb", "Pip", "Nibbles"), ("a tiny grey mouse with round pink ears", "a brown mouse in a blue waistcoat")),
    "bird": (("Tweet", "Robin", "Skye"), ("a little blue bird with a yellow beak", "a round robin with a bright red chest")),
    "duck": (("Puddle", "Quackers"), ("a yellow duckling in tiny red rain boots",)),
    "penguin": (("Pip", "Waddles"), ("a round little penguin in a red knitted scarf",)),
    "turtle": (("Shelly", "Moss"), ("a gentle turtle with a patterned green shell",)),
    "frog": (("Ribbit", "Lily"), ("a bright green frog with a golden crown",)),
    "dragon": (("Ember", "Spark", "Puff"), ("a small green dragon with purple wings who sneezes sparks",)),
    "robot": (("Bolt", "Gizmo", "Beep"), ("a small silver robot with a blinking blue light",)),
    "unicorn": (("Stardust", "Pearl"), ("a white unicorn with a rainbow mane and a golden horn",)),
    "elephant": (("Peanut", "Ellie"), ("a small grey elephant with big flapping ears",)),
    "lion": (("Leo", "Sunny"), ("a young lion with a fluffy golden mane",)),
    "tiger": (("Stripes", "Raja"), ("an orange tiger cub with bold black stripes",)),
    "panda": (("Bamboo", "Mei"), ("a round black-and-white panda cub",)),
    "pig": (("Truffle", "Rosie"), ("a pink piglet with a curly tail",)),
    "horse": (("Thunder", "Clover"), ("a chestnut pony with a white blaze",)),
    "monkey": (("Mango", "Coco"), ("a cheeky brown monkey with a long curly tail",)),
    "squirrel": (("Nutmeg", "Acorn"), ("a red squirrel with a huge fluffy tail",)),
    "hedgehog": (("Bristle", "Conker"), ("a small brown hedgehog with soft spines",)),
    "dinosaur": (("Rex", "Pebbles"), ("a friendly green dinosaur with orange spots",)),
    "fish": (("Bubbles", "Finn"), ("a little orange fish with shimmering fins",)),
    "whale": (("Big Blue", "Misty"), ("a gentle blue whale with a white belly",)),
    "firefly": (("Flicker", "Glow", "Sparkle"), ("a tiny firefly with a glowing golden tail",)),
    "crab": (("Pinch", "Coral"), ("a small red crab with one big claw",)),
    "parrot": (("Kiwi", "Mango"), ("a bright green parrot with a red beak",)),
    "pigeon": (("Coo", "Dusty"), ("a plump grey pigeon with a shiny green neck",)),
    "girl": (("Maya", "Rosa", "Lily", "Zoe"), ("a girl with curly black hair and a yellow raincoat", "a girl with red braids and green overalls")),
    "boy": (("Leo", "Sam", "Kai", "Theo"), ("a boy with messy brown hair and a striped jumper", "a boy with round glasses and a blue cap")),
    "princess": (("Aurora", "Isla"), ("a princess with a purple cloak and a small silver tiara",)),
    "knight": (("Sir Percy", "Dame Edith"), ("a small knight in shiny, slightly too big armour",)),
    "wizard": (("Merlo", "Zara"), ("a wizard in a starry blue robe and pointy hat",)),
    "pirate": (("Captain Patch", "Marigold"), ("a pirate with a red bandana and a wooden telescope",)),
    "astronaut": (("Nova", "Cosmo"), ("a little astronaut in a white suit with an orange stripe",)),
}


PLURALS = {f"{k}s": k for k in SPECIES} | {"puppies": "dog", "puppy": "dog", "kitten": "cat", "kittens": "cat",
                                             "bunnies": "bunny", "mice": "mouse", "foxes": "fox", "fireflies": "firefly", "crabs": "crab", "ponies": "horse",
                                             "pony": "horse", "children": "girl", "kid": "boy", "kids": "boy"}


@dataclass(frozen=True)
class Setting:
    name: str
    words: tuple[str, ...]
    places: tuple[str, ...]
    obstacle: str
    crossing: str
    treasure: str
    companion: tuple[str, str, str]  # kind, name, look


SETTINGS: tuple[Setting, ...] = (
    Setting("garden", ("garden", "flowers", "backyard", "meadow"),
            ("in the sunny garden", "by the flower beds", "under the old apple tree", "beside the lily pond",
             "on the winding garden path", "by the back porch steps"),
            "a tall hedge with no gap", "by squeezing through a secret tunnel under the roots",
            "the biggest, reddest strawberry in the garden", ("firefly", "Flicker", "a tiny firefly with a glowing golden tail")),
    Setting("forest", ("forest", "woods", "woodland", "trees"),
            ("at the edge of the forest", "among tall pine trees", "by a mossy stream", "in a clearing full of mushrooms",
             "beneath a giant oak tree", "on the leafy forest trail"),
            "a wide rushing stream", "on a fallen log", "a hidden grove of glowing mushrooms",
            ("owl", "Hoot", "a wise brown owl with round golden spectacles")),
    Setting("beach", ("beach", "seaside", "shore", "sand", "lighthouse"),
            ("on the sandy beach", "by the rock pools", "next to a striped lighthouse", "among the sand dunes",
             "at the water's edge", "on the old wooden pier"),
            "the tide rushing in over the rocks", "by hopping from rock to rock", "a pearly shell that hums the song of the sea",
            ("crab", "Pinch", "a small red crab with a cheerful grin")),
    Setting("space", ("space", "rocket", "spaceship", "planet", "planets", "galaxy", "astronaut", "mars", "asteroid",
                      "moon"),
            ("on the launch pad", "inside a little round rocket", "floating among the stars", "on the dusty grey moon",
             "beside a ringed purple planet", "high above the sleeping Earth"),
            "a swirling field of asteroids", "by steering carefully between the tumbling rocks", "a tiny star that had fallen asleep",
            ("robot", "Bolt", "a small silver robot with a blinking blue light")),
    Setting("snow", ("snow", "winter", "snowy", "ice", "arctic", "christmas", "frozen"),
            ("in the snowy meadow", "beside a frozen pond", "among snow-covered pine trees", "on top of a snowy hill",
             "by a cosy log cabin", "under the shimmering northern lights"),
            "a deep snowdrift", "on a sled made from a tea tray", "an icicle that sparkled like a diamond",
            ("penguin", "Pip", "a round little penguin in a red knitted scarf")),
    Setting("city", ("city", "town", "street", "streets", "park", "bakery"),
            ("on a busy city street", "in the little park between tall buildings", "in a rooftop garden",
             "by the bakery on the corner", "on the bridge over the river", "at the old train station"),
            "a crossing full of rushing feet", "by following the painted zebra stripes", "a lost balloon full of birthday wishes",
            ("pigeon", "Coo", "a plump grey pigeon with a shiny green neck")),
    Setting("castle", ("castle", "kingdom", "princess", "knight", "king", "queen", "dragon"),
            ("outside a towering castle", "in the royal rose garden", "on the castle drawbridge", "in the great hall",
             "up the winding tower stairs", "on the castle battlements"),
            "a moat full of sleepy frogs", "on the creaking drawbridge", "a golden crown lost long ago",
            ("dragon", "Ember", "a small green dragon who sneezes sparks")),
    Setting("farm", ("farm", "barn", "tractor", "field", "fields", "hay"),
            ("in the farmyard", "by the big red barn", "in the field of sunflowers", "beside the duck pond",
             "on top of a hay bale", "by the old windmill"),
            "a muddy ditch", "on a plank laid over the mud", "the golden egg everyone talked about",
            ("duck", "Puddle", "a yellow duckling in tiny red rain boots")),
    Setting("jungle", ("jungle", "rainforest", "tropical", "safari"),
            ("deep in the green jungle", "under giant leaves", "by a tumbling waterfall", "among hanging vines",
             "on a mossy old stone temple", "at the jungle's edge"),
            "a rushing river", "by swinging across on a vine", "a flower that blooms only once a year",
            ("parrot", "Mango", "a bright green parrot with a yellow crest")),
    Setting("ocean", ("ocean", "sea", "underwater", "reef", "coral", "mermaid", "submarine"),
            ("on the coral reef", "among swaying seaweed", "inside a sunken ship", "beside a giant clam",
             "in a kelp forest", "near the sunlit surface"),
            "a strong, swirling current", "by riding on the back of a friendly turtle", "a pearl that glows like the moon",
            ("turtle", "Shelly", "a gentle sea turtle with a patterned green shell")),
    Setting("home", ("home", "house", "bedroom", "kitchen", "living", "room", "blanket", "fort"),
            ("in the cosy living room", "by the crackling fireplace", "in the kitchen full of warm smells",
             "on the window seat", "under a blanket fort", "in the bedroom by the night light"),
            "a staircase as tall as a mountain", "by bouncing down on a cushion", "the last warm cookie in the jar",
            ("mouse", "Crumb", "a tiny grey mouse holding a crumb of cheese")),
)


# A beat: image action, narration (1-2 sentences) and time of day.
Beat = tuple[str, str, str]


class Genre(TypedDict):
    """A picture-book genre: the goal words that pick it, its art styles, title patterns and beats."""

    words: tuple[str, ...]
    styles: tuple[str, ...]
    titles: tuple[str, ...]
    beats: tuple[Beat, ...]


GENRES: dict[str, Genre] = {
    "bedtime": {
        "words": ("bedtime", "sleep", "sleepy", "night", "lullaby", "dream", "dreams", "goodnight", "nap"),
        "styles": ("soft watercolour picture-book illustration, muted pastel palette, warm lamplight glow",
                   "gentle gouache storybook painting, dusky blues and honey yellows, soft edges"),
        "titles": ("{A} and {B} Say Goodnight", "Goodnight, {A}", "A Quiet Night for {A} and {B}"),
        "beats": (
            ("{A} and {B} play together {p0} in golden late-afternoon light",
             "Once upon a time, {A} the {a} and {B} the {b} spent a golden afternoon playing {p0}.", "late afternoon"),
            ("{A} chases {B} around {p1}, leaves swirling in the warm sunset glow",
             "{A} chased {B} round and round, until both of them were giggling and out of breath.", "sunset"),
            ("{A} and {B} look up {p2} as the first star appears in a lavender dusk sky",
             "As the sky turned lavender, {B} spotted the very first star. \"Make a wish,\" whispered {A}.", "dusk"),
            ("{A} and {B} watch fireflies drift {p3} under a rising full moon",
             "Fireflies drifted up like tiny lanterns, and the moon rose, round and silver.", "night"),
            ("{B} gives a huge yawn while {A} stretches {p4}, moonlight on the path home",
             "{B} gave an enormous yawn, and {A} stretched from nose to toes. It was time to go home.", "night"),
            ("{A} and {B} curl up in a cosy basket by the window, moon and stars outside",
             "Curled up together in their cosy basket, {A} and {B} listened to the hush of the night.", "night"),
            ("{A} and {B} fast asleep under a soft blanket, a crescent moon glowing through the window",
             "With the moon keeping watch, the two friends drifted off to sleep. Goodnight, {A}. Goodnight, {B}.", "night"),
        ),
    },
    "adventure": {
        "words": ("adventure", "quest", "journey", "treasure", "explore", "explorer", "expedition", "map", "brave"),
        "styles": ("bold flat-colour cartoon, saturated palette, crisp shapes and clean outlines",
                   "vibrant storybook adventure illustration, bright primaries, dramatic skies"),
        "titles": ("{A} and the Lost Treasure", "The Great Quest of {A} and {B}", "{A} and {B} Go Exploring"),
        "beats": (
            ("{A} and {B} discover an old map {p0} in bright morning sun",
             "One bright morning, {A} the {a} found an old map {p0}, with a star drawn at the very end.", "morning"),
            ("{A} and {B} set off {p1}, small packs on their backs",
             "\"Let's follow it!\" cried {B}. So the two friends packed their bags and set off.", "morning"),
            ("{A} and {B} stop in front of {obstacle} {p2}",
             "Before long, {obstacle} blocked the way. {A} looked left, and {B} looked right.", "midday"),
            ("{A} and {B} cross {obstacle} {crossing}, working together",
             "Working together, they got across {crossing}, one careful step at a time.", "midday"),
            ("{A} and {B} climb higher {p3}, clouds drifting past",
             "Up and up they went, until the whole world spread out below them.", "afternoon"),
            ("{A} and {B} find {treasure} {p4}, glowing in the sunset",
             "And there, as the sun went down, they found it: {treasure}.", "sunset"),
            ("{A} and {B} walk home together at dusk {p5}, proud and happy",
             "They carried it home together, and agreed it was the best adventure of all. The end.", "dusk"),
        ),
    },
    "friendship": {
        "words": ("friend", "friends", "friendship", "play", "playing", "together", "kind", "kindness", "share"),
        "styles": ("warm children's picture-book illustration, cheerful pastel palette, soft daylight",
                   "playful crayon-and-watercolour illustration, sunny colours, rounded shapes"),
        "titles": ("{A} and {B}", "Best Friends: {A} and {B}", "The Day {A} Met {B}"),
        "beats": (
            ("{A} sits alone {p0} when {B} arrives with a shy wave",
             "{A} the {a} was sitting all alone {p0}, when {B} the {b} came by with a shy little wave.", "morning"),
            ("{A} and {B} share a picnic snack {p1}",
             "{B} offered to share a snack, and soon the two were chatting like old friends.", "midday"),
            ("{A} and {B} play a game of hide and seek {p2}",
             "They played hide and seek, and {A} was very, very good at hiding.", "afternoon"),
            ("{A} and {B} huddle under a giant leaf {p3} as rain begins to fall",
             "Then the clouds rolled in and down came the rain! The friends huddled under a giant leaf.", "afternoon"),
            ("a rainbow arcs across the sky {p4} while {A} and {B} jump in puddles",
             "When the rain stopped, a rainbow appeared, and they jumped in every puddle they could find.", "afternoon"),
            ("{A} and {B} sit side by side {p5} watching the sunset",
             "As the sun went down, they promised to meet again tomorrow. And they always did.", "sunset"),
        ),
    },
}


DEFAULT_GENRE = "friendship"


STORY_WORDS = frozenset(("story", "tale", "fable", "adventure"))
"""A goal that asks for a story gets one, even about a subject ('a story about a lonely lighthouse')."""


NAMED_PATTERNS = (
    re.compile(r"\b(?:a|an|the)\s+(?P<kind>[a-z]+)\s+(?:named|called)\s+(?P<name>[A-Z][\w'-]*)"),
    re.compile(r"\b(?P<name>[A-Z][\w'-]*)\s+the\s+(?P<kind>[a-z]+)\b"),
    re.compile(r"\b(?:my|his|her|their|our|your)\s+(?P<kind>[a-z]+)\s+(?P<name>[A-Z][\w'-]*)"),  # "her cat Mitzi"
)


NOT_KINDS = frozenset(("best", "first", "last", "great", "end", "same", "other", "only", "new", "old", "little", "big",
                       "one", "two", "day", "night", "story", "video", "film", "way", "time"))
"""Words after 'NAME the' that are no kind of creature ('Pip the first', 'Max the Great')."""


SETTING_WORDS = frozenset(w for setting in SETTINGS for w in setting.words)


STYLE_WORDS = {
    "watercolor": "soft watercolour illustration", "watercolour": "soft watercolour illustration",
    "pixar": "glossy 3D animated-film look", "3d": "glossy 3D animated-film look",
    "anime": "hand-drawn anime style, clean line art, cel shading", "ghibli": "lush hand-painted animation style",
    "clay": "claymation look, sculpted plasticine textures", "claymation": "claymation look, sculpted plasticine textures",
    "pixel": "pixel-art style, limited palette", "paper": "layered paper-cut illustration",
    "crayon": "crayon drawing on textured paper", "noir": "black-and-white ink illustration with deep shadows",
}


EMOJI = {"🐱": "cat", "🐈": "cat", "😺": "cat", "🐶": "dog", "🐕": "dog", "🦊": "fox", "🦉": "owl", "🐰": "rabbit",
         "🐇": "rabbit", "🐻": "bear", "🐭": "mouse", "🐦": "bird", "🦆": "duck", "🐧": "penguin", "🐢": "turtle",
         "🐸": "frog", "🐉": "dragon", "🐲": "dragon", "🤖": "robot", "🦄": "unicorn", "🐘": "elephant", "🦁": "lion",
         "🐯": "tiger", "🐼": "panda", "🐷": "pig", "🐴": "horse", "🐵": "monkey", "🐿": "squirrel", "🦔": "hedgehog",
         "🦕": "dinosaur", "🦖": "dinosaur", "🐟": "fish", "🐳": "whale", "🐋": "whale", "🌙": "night", "🌛": "night",
         "⭐": "stars", "🌟": "stars", "😴": "sleep", "💤": "sleep", "🚀": "rocket", "🏖": "beach", "🌊": "ocean",
         "❄": "snow", "⛄": "snow", "🏰": "castle", "🌲": "forest", "🌳": "forest", "👻": "ghost", "🎃": "halloween",
         "☕": "coffee", "🗺": "map", "🏴‍☠️": "pirate", "👧": "girl", "👦": "boy"}


FOREIGN = {  # the animals and a few genre words of the languages goals most often come in
    "chat": "cat", "chats": "cat", "chien": "dog", "chiens": "dog", "renard": "fox", "hibou": "owl",
    "chouette": "owl", "lapin": "rabbit", "ours": "bear", "souris": "mouse", "oiseau": "bird", "canard": "duck",
    "dragon": "dragon", "gato": "cat", "gatos": "cat", "perro": "dog", "perros": "dog", "zorro": "fox",
    "búho": "owl", "buho": "owl", "conejo": "rabbit", "oso": "bear", "ratón": "mouse", "pájaro": "bird",
    "katze": "cat", "hund": "dog", "fuchs": "fox", "eule": "owl", "hase": "rabbit", "bär": "bear", "gatto": "cat",
    "cane": "dog", "volpe": "fox", "cão": "dog", "cachorro": "dog", "raposa": "fox", "coruja": "owl",
    "dormir": "sleep", "nuit": "night", "noche": "night", "nacht": "night", "notte": "night", "noite": "night",
    "fantôme": "ghost", "fantasma": "ghost", "gespenst": "ghost", "plage": "beach", "playa": "beach",
    "forêt": "forest", "bosque": "forest", "wald": "forest", "espace": "space", "espacio": "space",
}


INTERLUDES: tuple[tuple[str, str], ...] = (
    ("{A} and {B} explore {p}", "Together they wandered {p}, noticing something new at every step."),
    ("{B} shows {A} something small and wonderful {p}", "{B} showed {A} a tiny wonder {p}, and {A} gasped with delight."),
    ("{A} leads the way {p} while {B} follows close behind", "{A} led the way {p}, and {B} followed close behind."),
    ("{A} and {B} rest for a moment {p}", "They rested for a while {p}, listening to the world around them."),
    ("{A} and {B} laugh together {p}", "{B} told a joke so silly that {A} laughed until it hurt."),
)


NARRATORS = {
    "bedtime": "a warm, gentle storyteller, soft and slow, reading at bedtime",
    "adventure": "a lively storyteller, bright and eager, with a sense of wonder",
    "friendship": "a kind, cheerful storyteller, warm and unhurried",
    "documentary": "a calm, curious documentary narrator, clear and measured",
    "ad": "a bright, friendly announcer, upbeat but never pushy",
    "product": "a confident, warm announcer, unhurried, letting the product speak",
    "occasion": "a warm, loving friend of the family, smiling as they speak",
    "spooky": "a hushed, mysterious storyteller, slow, with careful pauses",
    "scifi": "a measured narrator full of quiet wonder",
    "howto": "a clear, encouraging teacher, steady and patient",
}
"""The narrator's persona by genre: the voice's style (never words it reads). The offline voice reads a persona's
tempo words (director.backends.local.voice.stretch): a bedtime or spooky one reads at about 150 words a minute."""


AT_PACE = {"bedtime": "a warm, gentle storyteller, soft-spoken, reading at bedtime",
           "spooky": "a low, mysterious storyteller, with careful pauses"}
"""The same personas at the voice's own pace, for a story asked to last less than its lines take read slowly."""


SHOTS = ("wide shot, eye level", "medium shot, eye level", "close-up, slightly low angle", "medium wide shot, high angle")


CAMERA = {"zoom_in": "slow push in", "zoom_out": "slow pull back", "pan_left": "slow pan left",
          "pan_right": "slow pan right", "pan_up": "slow tilt up", "pan_down": "slow tilt down"}
"""Ken Burns' moves as a camera operator names them; the local animator reads them back from a scene's motion."""


AMBIENCE = (("night", "a still night, crickets far off", "an owl hoots once"),
            ("evening", "a soft evening hush", "a bird calls goodnight"),
            ("sunset", "a warm evening breeze", "leaves rustle"),
            ("snow", "a muffled snowy quiet", "snow crunches underfoot"),
            ("rain", "steady rain on leaves", "a raindrop plinks"),
            ("sea", "waves lapping the shore", "a gull cries"),
            ("beach", "waves lapping the shore", "a gull cries"),
            ("forest", "wind through the trees", "a twig snaps"),
            ("space", "a deep humming quiet", "a soft electronic chime"),
            ("city", "a gentle city murmur", "a bicycle bell rings"),
            ("shop", "a cosy shop murmur", "a door bell jingles"),
            ("kitchen", "a quiet kitchen hum", "a spoon clinks"))


LANDMARKS: dict[str, str] = {
    "lighthouse": "a tall red-and-white striped lighthouse on a sandy shore by the sea",
    "castle": "a grey stone castle with tall towers and purple roofs on a green hill",
    "barn": "a big red barn with a white door on a farm, green fields around it",
    "windmill": "an old windmill with white sails in a flowery meadow",
    "treehouse": "a wooden treehouse in a big oak tree in a garden",
}


FAMILY = ("grandma", "grandpa", "granny", "grandmother", "grandfather", "nana", "mum", "mom", "dad", "mother",
          "father")


HONOURED = ("sister", "brother", "aunt", "uncle", "wife", "husband", "son", "daughter", "teacher", "boss",
            "colleague", "friend", "neighbour", "neighbor", "coach", "nurse", "doctor")
"""Who an occasion's video is for: family are named by what they are called (Grandma), others by the goal's
own words (our teacher)."""


MASS_NOUNS = frozenset(("coffee", "tea", "bread", "food", "pizza", "beer", "wine", "ice cream", "chocolate", "fish",
                        "furniture", "clothing", "jewellery", "jewelry", "music", "art", "software"))


GREETINGS = {"wedding": "Congratulations on your wedding", "graduation": "Congratulations on your graduation",
             "thank-you": "Thank you", "thanks": "Thank you", "welcome": "Welcome", "farewell": "Farewell and good luck",
             "engagement": "Congratulations on your engagement", "congratulations": "Congratulations",
             "housewarming": "Happy new home", "day": "Happy day"}
"""How an occasion's video says it; the rest are 'Happy <occasion>' (birthday, anniversary, retirement)."""


ORDINALS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


ROLE_LOOKS = ("a weathered face, a thick navy wool coat and a knitted grey cap",
              "round glasses, a long green scarf and a brass lantern",
              "a yellow oilskin coat, tall boots and a kind, tired smile",
              "a silver suit with an orange stripe and a clear round helmet")


SMALL_WORDS = {"the", "of", "a", "an", "and", "to", "in", "on", "for", "at", "by", "or"}


LANGUAGES = {"fr": "French", "es": "Spanish", "de": "German", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
             "pl": "Polish", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "tr": "Turkish",
             "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "ja": "Japanese", "zh": "Chinese", "ko": "Korean",
             "ar": "Arabic", "hi": "Hindi", "he": "Hebrew", "cs": "Czech", "ro": "Romanian", "hu": "Hungarian",
             "id": "Indonesian", "vi": "Vietnamese", "th": "Thai", "ca": "Catalan", "en": "English"}


ENGLISH_MARKERS = frozenset(("the", "about", "of", "and", "story", "with", "for", "video", "is", "my", "our", "how",
                             "ad", "scene", "scenes"))
"""Words that mark a plain-ASCII goal as English without loading the language model (0.8 s)."""
