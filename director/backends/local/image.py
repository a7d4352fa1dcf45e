"""Local illustrator: a procedural picture composed from the prompt's words.

Not a model. It reads the prompt for time of day, place, props, weather, style
and the cast (from the character sheet the prompt carries), then paints a
layered scene with PIL: sky, far silhouettes, ground, props, characters and
atmosphere. The prompt's hash and the run seed place everything, so the same
prompt gives the same picture and each scene's picture differs.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from director.backends.local.marks import BOXES_KEY, FIGURE_KEY, figure_signature

RGB = tuple[int, int, int]
SS = 2  # supersampling factor: paint big, shrink with LANCZOS for clean edges

COLOURS: dict[str, RGB] = {
    "ginger": (226, 132, 52), "orange": (240, 140, 40), "golden": (232, 184, 74), "gold": (232, 184, 74),
    "yellow": (246, 212, 70), "brown": (140, 94, 58), "chestnut": (150, 80, 45), "honey": (214, 160, 80),
    "grey": (150, 152, 160), "gray": (150, 152, 160), "silver": (196, 202, 212), "black": (52, 50, 58),
    "white": (242, 240, 234), "snowy": (246, 246, 250), "red": (214, 58, 52), "pink": (240, 160, 180),
    "blue": (70, 120, 210), "green": (80, 168, 90), "purple": (140, 90, 190), "calico": (230, 170, 110),
    "spotted": (236, 232, 224), "cream": (240, 226, 196), "lavender": (180, 160, 220),
}
PEOPLE = {"person": 1, "someone": 1, "man": 1, "woman": 1, "barista": 1, "baker": 1, "chef": 1, "customer": 1,
          "scientist": 1, "teacher": 1, "farmer": 1, "beekeeper": 1, "cyclist": 1, "people": 3, "customers": 3,
          "friends": 2, "family": 3, "crowd": 4, "visitors": 3, "couple": 2, "team": 3, "children": 3, "kids": 3}
HAIR = ("brown", "black", "golden", "red", "grey")
CLOTHES = ("blue", "green", "red", "yellow", "purple", "orange")
PLACE_COLOURS: tuple[RGB, ...] = ((200, 70, 60), (60, 120, 180), (60, 140, 90), (220, 150, 50), (130, 80, 150))
WORN = ("scarf", "collar", "bandana", "hat", "cap", "coat", "raincoat", "jumper", "sweater", "cloak", "cape", "boots",
        "bow", "ribbon", "waistcoat", "vest", "overalls", "dress", "shirt", "jacket", "backpack", "helmet", "suit",
        "stripe", "robe", "apron", "glasses", "spectacles", "tie", "necklace", "crown", "tiara", "bell")
SKIN = ((241, 200, 170), (214, 160, 120), (160, 110, 80), (110, 72, 50))

SPECIES_DEFAULT: dict[str, RGB] = {
    "cat": (226, 132, 52), "dog": (200, 150, 90), "fox": (226, 110, 50), "bear": (140, 94, 58),
    "rabbit": (240, 238, 232), "bunny": (240, 238, 232), "mouse": (160, 160, 168), "owl": (150, 110, 70),
    "bird": (80, 130, 220), "duck": (246, 212, 70), "penguin": (40, 44, 60), "parrot": (70, 180, 80),
    "pigeon": (150, 152, 160), "robot": (196, 202, 212), "dragon": (90, 170, 90), "dinosaur": (100, 180, 100),
    "turtle": (90, 150, 90), "frog": (100, 190, 80), "crab": (220, 70, 50), "firefly": (250, 220, 120),
    "fish": (250, 150, 50), "whale": (80, 120, 200), "unicorn": (246, 244, 250), "horse": (150, 80, 45),
    "elephant": (150, 152, 165), "lion": (226, 170, 80), "tiger": (236, 130, 40), "panda": (244, 244, 244),
    "pig": (244, 170, 180), "monkey": (140, 94, 58), "squirrel": (200, 90, 50), "hedgehog": (150, 110, 80),
}
ARCHETYPE = {
    "cat": "quad", "dog": "quad", "fox": "quad", "bear": "quad", "rabbit": "quad", "bunny": "quad",
    "mouse": "quad", "lion": "quad", "tiger": "quad", "panda": "quad", "pig": "quad", "monkey": "quad",
    "squirrel": "quad", "hedgehog": "quad", "horse": "quad", "unicorn": "quad", "elephant": "quad",
    "dragon": "quad", "dinosaur": "quad", "frog": "quad",
    "owl": "bird", "bird": "bird", "duck": "bird", "penguin": "bird", "parrot": "bird", "pigeon": "bird",
    "robot": "robot", "turtle": "turtle", "crab": "crab", "firefly": "firefly", "fish": "fish", "whale": "fish",
    "girl": "person", "boy": "person", "princess": "person", "knight": "person", "wizard": "person",
    "pirate": "person", "astronaut": "person",
}
EARS = {"cat": "pointy", "fox": "pointy", "tiger": "pointy", "lion": "round", "dog": "floppy", "bear": "round",
        "panda": "round", "mouse": "big", "rabbit": "long", "bunny": "long", "pig": "pointy", "monkey": "round",
        "squirrel": "pointy", "hedgehog": "round", "horse": "pointy", "unicorn": "pointy", "elephant": "big",
        "dragon": "horns", "dinosaur": "spikes", "frog": "none"}
TAIL = {"cat": "curl", "fox": "bushy", "dog": "wag", "squirrel": "bushy", "lion": "curl", "tiger": "curl",
        "monkey": "curl", "horse": "wag", "unicorn": "wag", "dragon": "curl", "dinosaur": "curl", "mouse": "curl"}


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
    if not cast:
        kinds = [k for k in ARCHETYPE if re.search(rf"\b{k}s?\b", scene_text)]
        cast = [Cast(k, k, k) for k in kinds[:3]]
    if not cast:  # "customers enjoying coffee", "a person starting a busy morning": people, not characters
        words = set(re.findall(r"[a-z]+", scene_text))
        count = max((n for w, n in PEOPLE.items() if w in words), default=0)
        digest = hashlib.sha256(scene_text.encode()).digest()
        cast = [Cast(f"person {i + 1}", "person",
                     f"{HAIR[digest[i] % len(HAIR)]} hair, a {CLOTHES[digest[i + 4] % len(CLOTHES)]} shirt")
                for i in range(count)]
    order = [m.group(1).strip() for m in re.finditer(r"(?:^|; )(?:Reference pictures: )?(.+?) is <img>\d+</img>", references)]
    return Scene(words=set(re.findall(r"[a-z]+", scene_text)), text=scene_text, cast=cast, references=order)


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


# --- colour helpers ---------------------------------------------------------------

def mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(int(round(a[i] + (b[i] - a[i]) * t)) for i in range(3))  # type: ignore[return-value]


def shade(c: RGB, f: float) -> RGB:
    return mix(c, (0, 0, 0), 1 - f) if f < 1 else mix(c, (255, 255, 255), f - 1)


def tune(c: RGB, sat: float, light: float) -> RGB:
    hue, lightness, s = colorsys.rgb_to_hls(*(v / 255 for v in c))
    s = max(0.0, min(1.0, s * sat))
    lightness = max(0.0, min(1.0, lightness * light))
    return tuple(int(v * 255) for v in colorsys.hls_to_rgb(hue, lightness, s))  # type: ignore[return-value]


def colours_in(text: str) -> list[RGB]:
    return [COLOURS[w] for w in re.findall(r"[a-z]+", text) if w in COLOURS]


# --- the painter --------------------------------------------------------------------

@dataclass
class Look:
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB
    far: RGB
    light: float  # 1 = full daylight
    night: bool


def choose_look(s: Scene) -> Look:
    if s.has("underwater", "reef", "coral", "seaweed", "kelp", "sunken", "clam"):
        return Look((20, 70, 120), (60, 160, 190), (214, 196, 150), (30, 100, 130), 0.85, False)
    if s.phrase("among the stars", "rocket", "ringed", "above the sleeping earth", "asteroid", "launch pad") or s.has("space", "galaxy"):
        return Look((8, 10, 36), (40, 30, 90), (150, 150, 160), (60, 50, 110), 0.8, True)
    if s.has("night", "midnight", "moonlight", "moon", "asleep", "lights") and not s.has("morning", "afternoon"):
        return Look((14, 22, 64), (58, 70, 130), (40, 70, 60), (30, 44, 80), 0.62, True)
    if s.has("dusk", "lavender", "evening", "twilight"):
        return Look((70, 60, 130), (236, 160, 170), (70, 100, 80), (100, 80, 140), 0.8, False)
    if s.has("sunset"):
        return Look((90, 80, 160), (250, 170, 100), (90, 120, 70), (140, 90, 110), 0.88, False)
    if s.has("late") or s.has("afternoon"):
        return Look((110, 170, 230), (250, 220, 160), (110, 170, 80), (120, 150, 170), 0.97, False)
    return Look((100, 170, 240), (200, 230, 250), (110, 180, 90), (130, 170, 200), 1.0, False)


def ground_colour(s: Scene, look: Look) -> RGB:
    if s.has("snow", "snowy", "frozen", "ice", "arctic"):
        base: RGB = (236, 240, 250)
    elif s.has("beach", "sand", "dunes", "desert", "pier", "pools", "tide", "shore", "lighthouse", "seaside"):
        base = (232, 206, 150)
    elif s.phrase("dusty grey moon", "on the moon") or s.has("launch"):
        base = (170, 170, 178)
    elif s.has("street", "city", "bridge", "station", "rooftop", "hall", "stairs", "battlements", "drawbridge"):
        base = (150, 140, 135)
    elif s.has("living", "kitchen", "bedroom", "fireplace", "window", "basket", "blanket", "fort"):
        base = (170, 120, 80)
    elif s.has("sunken", "reef", "coral", "kelp", "clam"):
        base = look.ground
    else:
        base = look.ground
    return shade(base, 0.55 + 0.45 * look.light) if look.night else base


class Traced:
    """An ImageDraw that also paints every shape, opaque, into a mask: where a figure went."""

    def __init__(self, draw: ImageDraw.ImageDraw, mask: ImageDraw.ImageDraw) -> None:
        self._draw, self._mask = draw, mask

    def __getattr__(self, name: str) -> object:
        real, shadow = getattr(self._draw, name), getattr(self._mask, name)

        def both(*args: object, **kw: object) -> None:
            real(*args, **kw)
            fill = kw.get("fill")
            if isinstance(fill, tuple) and len(fill) == 4 and fill[3] < 128:
                return  # a faint glow or blush is not where the figure is
            shadow(*args, **{k: (255 if k in ("fill", "outline") and v is not None else v) for k, v in kw.items()})

        return both


class Painter:
    def __init__(self, scene: Scene, width: int, height: int, rng: random.Random) -> None:
        self.s = scene
        self.w, self.h = width * SS, height * SS
        self.rng = rng
        self.look = choose_look(scene)
        self.img = Image.new("RGB", (self.w, self.h))
        self.d = ImageDraw.Draw(self.img, "RGBA")
        self.unit = min(self.w, self.h)
        self.indoor = scene.has("living", "kitchen", "bedroom", "fireplace", "basket", "blanket", "fort", "hall") or scene.phrase("window seat")
        self.place_colour: RGB | None = None
        """A recurring place's accent (a shop's awning), from its reference picture."""
        self.boxes: dict[str, list[int]] = {}
        """Where each character was drawn: name -> [x0, y0, x1, y1] in output pixels."""
        portrait = self.h > self.w
        self.horizon = int(self.h * (rng.uniform(0.58, 0.68) if portrait else rng.uniform(0.56, 0.66)))

    # layers
    def sky(self) -> None:
        top, bottom = self.look.sky_top, self.look.sky_bottom
        y: float  # a pixel row: whole in the scan below, fractional where stars are placed
        for y in range(self.horizon + SS):
            self.d.line([(0, y), (self.w, y)], fill=mix(top, bottom, (y / max(1, self.horizon)) ** 1.2))
        rng = self.rng
        if self.look.night:
            for _ in range(int(120 * self.w * self.horizon / 2.5e6)):
                x, y = rng.uniform(0, self.w), rng.uniform(0, self.horizon * 0.9)
                r = rng.choice((1, 1, 1.5, 2, 3)) * SS
                self.d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 250, 230, rng.randint(120, 255)))
        if self.s.has("aurora") or self.s.phrase("northern lights"):
            for i in range(3):
                # Any length: RGBA here, RGB for the rainbow's bands below.
                col: tuple[int, ...] = ((80, 240, 170, 70), (120, 200, 250, 60), (190, 120, 240, 50))[i]
                pts = [(x, self.horizon * (0.25 + 0.1 * i) + math.sin(x / self.w * 6 + i) * self.h * 0.06)
                       for x in range(0, self.w + 40, 40)]
                self.d.line(pts, fill=col, width=int(self.unit * 0.05))
        cx = self.w * rng.uniform(0.12, 0.88)
        cy = self.horizon * rng.uniform(0.18, 0.42)
        if self.look.night or self.s.has("moon", "moonlight"):
            r = self.unit * 0.07
            for k in range(6, 0, -1):
                rr = r * (1 + k * 0.35)
                self.d.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=(255, 250, 220, 14))
            self.d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 246, 220))
            if self.s.has("crescent"):
                self.d.ellipse((cx - r * 0.5, cy - r * 1.1, cx + r * 1.5, cy + r * 0.9), fill=mix(self.look.sky_top, self.look.sky_bottom, cy / self.horizon))
        elif not self.s.has("rain", "clouds", "underwater", "reef", "coral", "kelp", "seaweed"):
            r = self.unit * (0.09 if self.s.has("sunset") else 0.065)
            sun = (250, 150, 80) if self.s.has("sunset", "dusk") else (255, 226, 120)
            if self.s.has("sunset", "dusk"):
                cy = self.horizon - r * 0.6
            for k in range(8, 0, -1):
                rr = r * (1 + k * 0.4)
                self.d.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=sun + (12,))
            self.d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=sun)
        if not self.look.night and not self.s.has("underwater", "reef", "coral", "kelp"):
            for _ in range(rng.randint(2, 5) + (4 if self.s.has("rain") else 0)):
                self.cloud(rng.uniform(0, self.w), rng.uniform(self.horizon * 0.08, self.horizon * 0.5),
                           self.unit * rng.uniform(0.06, 0.12), grey=self.s.has("rain", "storm", "stormy", "thunder")
                           or self.s.phrase("dark clouds"))
        if self.s.has("rainbow"):
            cx, cy, r = self.w * rng.uniform(0.3, 0.7), self.horizon * 1.05, self.w * 0.38
            for i, col in enumerate(((230, 60, 60), (245, 150, 50), (245, 220, 70), (90, 190, 90), (70, 130, 220), (130, 90, 200))):
                rr = r - i * self.unit * 0.018
                self.d.arc((cx - rr, cy - rr, cx + rr, cy + rr), 180, 360, fill=col + (150,), width=int(self.unit * 0.02))
        if self.s.has("planet", "ringed") or self.s.phrase("among the stars"):
            px, py, pr = self.w * rng.uniform(0.6, 0.85), self.horizon * rng.uniform(0.3, 0.6), self.unit * 0.12
            self.d.ellipse((px - pr, py - pr, px + pr, py + pr), fill=(170, 110, 200))
            self.d.ellipse((px - pr * 0.7, py - pr * 0.6, px + pr * 0.2, py - pr * 0.1), fill=(190, 140, 220))
            self.d.arc((px - pr * 1.8, py - pr * 0.45, px + pr * 1.8, py + pr * 0.45), 160, 380, fill=(230, 200, 140), width=int(pr * 0.12))

    def cloud(self, x: float, y: float, r: float, *, grey: bool = False) -> None:
        col = (150, 155, 170, 230) if grey else (255, 255, 255, 220)
        for dx, dy, k in ((0, 0, 1), (-1.1, 0.3, 0.75), (1.1, 0.3, 0.8), (0.5, -0.4, 0.8), (-0.5, -0.3, 0.7)):
            rr = r * k
            self.d.ellipse((x + dx * r - rr, y + dy * r - rr, x + dx * r + rr, y + dy * r + rr), fill=col)

    def far(self) -> None:
        s, rng, hz = self.s, self.rng, self.horizon
        far = shade(self.look.far, 0.9)
        if self.indoor:
            wall = shade((214, 190, 160), 0.6 + 0.4 * self.look.light)
            self.d.rectangle((0, 0, self.w, hz), fill=wall)
            wx0, wx1 = self.w * rng.uniform(0.15, 0.45), None
            wx1 = wx0 + self.w * 0.28
            wy0, wy1 = hz * 0.18, hz * 0.72
            y: float  # a pixel row: whole in this scan, fractional where things are placed below
            for y in range(int(wy0), int(wy1)):
                self.d.line([(wx0, y), (wx1, y)], fill=mix(self.look.sky_top, self.look.sky_bottom, (y - wy0) / (wy1 - wy0)))
            if self.look.night:
                mr = self.unit * 0.04
                mx, my = wx0 + (wx1 - wx0) * 0.7, wy0 + (wy1 - wy0) * 0.3
                self.d.ellipse((mx - mr, my - mr, mx + mr, my + mr), fill=(250, 246, 220))
                for _ in range(14):
                    x, y = rng.uniform(wx0, wx1), rng.uniform(wy0, wy1)
                    self.d.ellipse((x - 2 * SS, y - 2 * SS, x + 2 * SS, y + 2 * SS), fill=(255, 250, 230))
            frame = (120, 84, 60)
            self.d.rectangle((wx0, wy0, wx1, wy1), outline=frame, width=int(self.unit * 0.015))
            self.d.line([((wx0 + wx1) / 2, wy0), ((wx0 + wx1) / 2, wy1)], fill=frame, width=int(self.unit * 0.01))
            if s.has("fireplace", "crackling"):
                fx = self.w * 0.78
                self.d.rectangle((fx - self.unit * 0.14, hz - self.unit * 0.25, fx + self.unit * 0.14, hz), fill=(150, 90, 70))
                self.d.rectangle((fx - self.unit * 0.09, hz - self.unit * 0.16, fx + self.unit * 0.09, hz), fill=(40, 24, 20))
                for i in range(5):
                    fr = self.unit * (0.05 - i * 0.008)
                    self.d.ellipse((fx - fr, hz - fr * 2.2, fx + fr, hz), fill=((250, 120, 40), (250, 170, 60), (255, 220, 100), (255, 240, 160), (255, 255, 220))[i])
            lamp = (255, 214, 140, 40) if self.look.night else (255, 240, 200, 20)
            self.d.ellipse((-self.w * 0.2, -self.h * 0.2, self.w * 0.6, self.h * 0.9), fill=lamp)
            return
        if s.has("sea", "beach", "shore", "pier", "lighthouse", "tide", "rock", "pools") and not s.has("reef", "underwater"):
            sea = shade((60, 130, 190), 0.55 + 0.45 * self.look.light)
            self.d.rectangle((0, hz - self.h * 0.08, self.w, hz), fill=sea)
            for i in range(12):
                y = hz - self.h * 0.08 + i * self.h * 0.007
                self.d.line([(0, y), (self.w, y)], fill=(255, 255, 255, 30), width=SS)
            if s.has("lighthouse"):
                lx = self.w * rng.uniform(0.65, 0.9)
                lw, lh = self.unit * 0.06, self.unit * 0.36
                for i in range(6):
                    y0 = hz - lh + i * lh / 6
                    self.d.polygon([(lx - lw * (0.8 + i * 0.04), y0), (lx + lw * (0.8 + i * 0.04), y0),
                                    (lx + lw * (0.84 + i * 0.04), y0 + lh / 6), (lx - lw * (0.84 + i * 0.04), y0 + lh / 6)],
                                   fill=(220, 60, 50) if i % 2 == 0 else (246, 244, 240))
                self.d.rectangle((lx - lw * 0.7, hz - lh - lw * 1.2, lx + lw * 0.7, hz - lh), fill=(60, 60, 70))
                self.d.ellipse((lx - lw * 0.5, hz - lh - lw, lx + lw * 0.5, hz - lh - lw * 0.2), fill=(255, 230, 120))
            return
        if s.has("city", "street", "buildings", "rooftop", "bakery", "station", "bridge"):
            x = -rng.uniform(0, self.unit * 0.1)
            while x < self.w:
                bw, bh = self.unit * rng.uniform(0.12, 0.22), self.h * rng.uniform(0.18, 0.45)
                col = shade(rng.choice(((190, 120, 110), (160, 150, 190), (210, 180, 130), (140, 170, 170))), 0.5 + 0.5 * self.look.light)
                self.d.rectangle((x, hz - bh, x + bw, hz), fill=col)
                win = (255, 220, 130) if self.look.light < 0.9 else shade(col, 1.25)
                for wy in range(int(hz - bh + self.unit * 0.03), int(hz - self.unit * 0.04), int(self.unit * 0.06)):
                    for wx in range(int(x + self.unit * 0.025), int(x + bw - self.unit * 0.03), int(self.unit * 0.05)):
                        if rng.random() < 0.75:
                            self.d.rectangle((wx, wy, wx + self.unit * 0.022, wy + self.unit * 0.03), fill=win)
                x += bw + self.unit * rng.uniform(0.0, 0.03)
            return
        if s.has("castle", "drawbridge", "tower", "battlements", "royal"):
            cx, base = self.w * rng.uniform(0.55, 0.8), hz
            stone = shade((170, 165, 180), 0.55 + 0.45 * self.look.light)
            cw, chh = self.unit * 0.5, self.unit * 0.3
            self.d.rectangle((cx - cw / 2, base - chh, cx + cw / 2, base), fill=stone)
            for tx in (cx - cw / 2, cx + cw / 2 - self.unit * 0.1, cx - self.unit * 0.05):
                th = chh * (1.6 if tx == cx - self.unit * 0.05 else 1.3)
                self.d.rectangle((tx, base - th, tx + self.unit * 0.1, base), fill=shade(stone, 0.92))
                self.d.polygon([(tx - self.unit * 0.015, base - th), (tx + self.unit * 0.115, base - th),
                                (tx + self.unit * 0.05, base - th - self.unit * 0.12)], fill=(140, 70, 110))
            self.d.rounded_rectangle((cx - self.unit * 0.05, base - self.unit * 0.12, cx + self.unit * 0.05, base),
                                     radius=int(self.unit * 0.04), fill=(70, 50, 40))
            return
        # hills, with pines for forest and snow
        for layer in range(3):
            col = mix(far, self.look.ground, 0.25 + layer * 0.25)
            if self.s.has("snow", "snowy", "winter", "frozen"):
                col = mix((200, 210, 230), (236, 240, 250), layer / 3)
            base_y = hz - self.h * (0.12 - layer * 0.04)
            amp, freq, phase = self.h * rng.uniform(0.03, 0.07), rng.uniform(1.5, 3.5), rng.uniform(0, 6.28)
            pts = [(x, base_y - amp * math.sin(x / self.w * freq * math.pi + phase)) for x in range(0, self.w + 40, 40)]
            self.d.polygon(pts + [(self.w, hz + SS), (0, hz + SS)], fill=shade(col, 0.6 + 0.4 * self.look.light))
            if s.has("forest", "pine", "pines", "woods", "trees") or (layer == 2 and s.has("snow", "snowy")):
                for _ in range(int(self.w / self.unit * 6)):
                    x = rng.uniform(0, self.w)
                    y = base_y - amp * math.sin(x / self.w * freq * math.pi + phase) + self.h * 0.02
                    self.pine(x, y, self.unit * rng.uniform(0.08, 0.16) * (0.6 + layer * 0.2), shade(col, 0.75))
        if s.has("barn", "farm", "farmyard", "windmill"):
            bx, by = self.w * rng.uniform(0.6, 0.85), hz
            bw = self.unit * 0.22
            self.d.rectangle((bx - bw / 2, by - bw * 0.7, bx + bw / 2, by), fill=(180, 50, 40))
            self.d.polygon([(bx - bw * 0.6, by - bw * 0.7), (bx + bw * 0.6, by - bw * 0.7), (bx, by - bw * 1.15)], fill=(140, 40, 36))
            self.d.rectangle((bx - bw * 0.15, by - bw * 0.4, bx + bw * 0.15, by), fill=(240, 230, 210))

    def ground(self) -> None:
        col = ground_colour(self.s, self.look)
        if self.s.has("underwater", "reef", "coral", "kelp", "seaweed", "sunken", "clam"):
            col = (200, 180, 140)
        hz = self.horizon
        y: float  # a pixel row: whole in this scan, fractional where pebbles are placed below
        for y in range(hz, self.h):
            t = (y - hz) / max(1, self.h - hz)
            self.d.line([(0, y), (self.w, y)], fill=shade(col, 1.0 - 0.25 * t))
        if self.indoor:
            rug = (150, 60, 70) if not self.s.has("blue") else (70, 90, 160)
            self.d.ellipse((self.w * 0.15, hz + (self.h - hz) * 0.35, self.w * 0.85, self.h * 1.05), fill=shade(rug, 0.6 + 0.4 * self.look.light))
            return
        rng = self.rng
        if self.s.has("pond", "stream", "river", "lake", "lily", "puddles", "puddle"):
            px, py = self.w * rng.uniform(0.15, 0.85), hz + (self.h - hz) * rng.uniform(0.3, 0.55)
            pw, ph = self.unit * 0.45, self.unit * 0.09
            water = shade((90, 150, 210), 0.6 + 0.4 * self.look.light)
            if self.s.has("stream", "river"):
                pts = [(x, py + math.sin(x / self.w * 7) * ph * 0.5) for x in range(0, self.w + 40, 40)]
                self.d.line(pts, fill=water, width=int(ph * 1.1))
            else:
                self.d.ellipse((px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2), fill=water)
                self.d.ellipse((px - pw * 0.3, py - ph * 0.3, px + pw * 0.05, py - ph * 0.05), fill=(255, 255, 255, 60))
                if self.s.has("lily"):
                    for _ in range(4):
                        lx, ly = px + rng.uniform(-pw * 0.35, pw * 0.35), py + rng.uniform(-ph * 0.25, ph * 0.25)
                        self.d.ellipse((lx - ph * 0.3, ly - ph * 0.15, lx + ph * 0.3, ly + ph * 0.15), fill=(70, 150, 80))
        for _ in range(int(40 * self.w / self.unit)):
            x, y = rng.uniform(0, self.w), rng.uniform(hz, self.h)
            self.d.ellipse((x - 3 * SS, y - SS, x + 3 * SS, y + SS), fill=shade(col, 0.85) + (160,))

    def props(self) -> None:
        s, rng, hz = self.s, self.rng, self.horizon
        if self.indoor:
            if s.has("basket", "blanket", "bed", "asleep", "curl", "snuggled"):
                bx, by = self.w * 0.5, hz + (self.h - hz) * 0.72
                bw, bh = self.unit * 0.62, self.unit * 0.16
                self.d.ellipse((bx - bw / 2, by - bh, bx + bw / 2, by + bh * 0.6), fill=(170, 120, 60))
                self.d.ellipse((bx - bw * 0.45, by - bh * 1.05, bx + bw * 0.45, by - bh * 0.2), fill=(200, 150, 90))
            return
        if s.has("tree", "apple", "oak", "garden", "park", "meadow") or (s.has("forest") and not s.has("clearing")):
            for _ in range(rng.randint(1, 2)):
                x = rng.choice((rng.uniform(0.02, 0.22), rng.uniform(0.78, 0.98))) * self.w
                self.tree(x, hz + (self.h - hz) * rng.uniform(0.05, 0.2), self.unit * rng.uniform(0.35, 0.5), apples=s.has("apple"))
        if s.has("flower", "flowers", "garden", "meadow", "sunflowers", "rose"):
            for _ in range(int(26 * self.w / self.unit)):
                x, y = rng.uniform(0, self.w), rng.uniform(hz + (self.h - hz) * 0.05, self.h)
                r = self.unit * (0.02 if s.has("sunflowers") else rng.uniform(0.008, 0.014)) * (0.6 + (y - hz) / (self.h - hz))
                petal = (250, 200, 40) if s.has("sunflowers") else rng.choice(((240, 110, 140), (250, 220, 90), (255, 255, 255), (170, 120, 220)))
                self.d.line([(x, y), (x, y + r * 3)], fill=(70, 130, 60), width=max(1, int(r * 0.4)))
                for k in range(5):
                    a = k / 5 * math.tau
                    self.d.ellipse((x + math.cos(a) * r - r * 0.6, y + math.sin(a) * r - r * 0.6,
                                    x + math.cos(a) * r + r * 0.6, y + math.sin(a) * r + r * 0.6), fill=petal)
                self.d.ellipse((x - r * 0.5, y - r * 0.5, x + r * 0.5, y + r * 0.5), fill=(120, 70, 30))
        if s.has("mushroom", "mushrooms"):
            for _ in range(rng.randint(4, 7)):
                x, y = rng.uniform(0.05, 0.95) * self.w, rng.uniform(hz + (self.h - hz) * 0.15, self.h * 0.95)
                r = self.unit * rng.uniform(0.025, 0.05)
                glow = s.has("glowing")
                self.d.rectangle((x - r * 0.3, y - r, x + r * 0.3, y), fill=(240, 230, 210))
                self.d.pieslice((x - r, y - r * 1.9, x + r, y - r * 0.1), 180, 360, fill=(120, 220, 200) if glow else (210, 60, 50))
                if glow:
                    self.d.ellipse((x - r * 2.5, y - r * 3, x + r * 2.5, y + r), fill=(150, 255, 220, 40))
        if s.has("fireflies", "firefly", "lanterns"):
            for _ in range(rng.randint(18, 30)):
                x, y = rng.uniform(0, self.w), rng.uniform(self.horizon * 0.4, self.h * 0.9)
                r = self.unit * rng.uniform(0.004, 0.008)
                self.d.ellipse((x - r * 5, y - r * 5, x + r * 5, y + r * 5), fill=(255, 240, 150, 35))
                self.d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 250, 190))
        if s.has("seaweed", "kelp", "reef", "coral", "underwater"):
            for _ in range(int(12 * self.w / self.unit)):
                x = rng.uniform(0, self.w)
                hgt = self.unit * rng.uniform(0.15, 0.45)
                pts = [(x + math.sin(k / 3 + x) * self.unit * 0.02, self.h - k * hgt / 10) for k in range(11)]
                self.d.line(pts, fill=rng.choice(((60, 150, 90), (230, 110, 120), (240, 150, 80))), width=int(self.unit * 0.012))
            for _ in range(25):
                x, y, r = rng.uniform(0, self.w), rng.uniform(0, self.h), self.unit * rng.uniform(0.004, 0.012)
                self.d.ellipse((x - r, y - r, x + r, y + r), outline=(220, 240, 255, 160), width=SS)
        if s.has("rocket", "launch"):
            rx, ry = self.w * rng.uniform(0.7, 0.88), hz + (self.h - hz) * 0.2
            rw, rh = self.unit * 0.09, self.unit * 0.34
            self.d.rounded_rectangle((rx - rw / 2, ry - rh, rx + rw / 2, ry), radius=int(rw / 2), fill=(236, 236, 240))
            self.d.polygon([(rx - rw / 2, ry - rh * 0.75), (rx + rw / 2, ry - rh * 0.75), (rx, ry - rh * 1.1)], fill=(220, 60, 60))
            self.d.ellipse((rx - rw * 0.25, ry - rh * 0.62, rx + rw * 0.25, ry - rh * 0.45), fill=(90, 170, 230))
            self.d.polygon([(rx - rw / 2, ry - rh * 0.2), (rx - rw, ry), (rx - rw / 2, ry)], fill=(220, 60, 60))
            self.d.polygon([(rx + rw / 2, ry - rh * 0.2), (rx + rw, ry), (rx + rw / 2, ry)], fill=(220, 60, 60))
        if s.has("map", "chest", "treasure", "crown", "shell", "pearl", "star", "egg", "strawberry", "balloon", "cookie"):
            tx, ty = self.w * rng.uniform(0.4, 0.6), hz + (self.h - hz) * 0.75
            r = self.unit * 0.04
            if s.has("map"):
                self.d.polygon([(tx - r * 1.5, ty - r), (tx + r * 1.5, ty - r * 1.2), (tx + r * 1.4, ty + r), (tx - r * 1.6, ty + r * 0.8)], fill=(236, 214, 160))
                self.d.line([(tx - r, ty), (tx, ty - r * 0.4), (tx + r * 0.8, ty + r * 0.2)], fill=(170, 60, 50), width=SS * 2)
            else:
                self.d.ellipse((tx - r * 3, ty - r * 3, tx + r * 3, ty + r * 2), fill=(255, 230, 140, 50))
                self.d.ellipse((tx - r, ty - r, tx + r, ty + r), fill=(255, 214, 90))
        if s.has("rain"):
            for _ in range(int(260 * self.w / self.unit)):
                x, y = rng.uniform(0, self.w), rng.uniform(0, self.h)
                self.d.line([(x, y), (x - self.unit * 0.006, y + self.unit * 0.03)], fill=(200, 220, 255, 110), width=SS)
        if s.has("snow", "snowy", "winter") and not self.indoor:
            for _ in range(int(180 * self.w / self.unit)):
                x, y, r = rng.uniform(0, self.w), rng.uniform(0, self.h), self.unit * rng.uniform(0.002, 0.006)
                self.d.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 200))

    # subjects: what an ad, a documentary or a how-to is about, when the scene names it ----------
    def subjects(self) -> None:
        s, rng, hz = self.s, self.rng, self.horizon
        dim = 0.6 + 0.4 * self.look.light
        ground_y = hz + (self.h - hz) * 0.55
        if s.has("volcano", "volcanoes", "lava", "eruption", "erupting") and not self.indoor:
            vx, base, vw, vh = self.w * rng.uniform(0.35, 0.65), hz + self.unit * 0.02, self.unit * 0.9, self.unit * 0.5
            rock = shade((110, 90, 80), dim)
            self.d.polygon([(vx - vw / 2, base), (vx - vw * 0.08, base - vh), (vx + vw * 0.08, base - vh),
                            (vx + vw / 2, base)], fill=rock)
            for k in range(3):  # lava runs down from the crater
                x0 = vx + (k - 1) * vw * 0.05
                self.d.line([(x0, base - vh), (x0 + (k - 1) * vw * 0.12, base - vh * 0.45)], fill=(240, 90, 30),
                            width=int(self.unit * 0.02))
            self.d.ellipse((vx - vw * 0.09, base - vh - self.unit * 0.03, vx + vw * 0.09, base - vh + self.unit * 0.02),
                           fill=(250, 120, 40))
            for k in range(6):  # a plume of smoke
                r = self.unit * (0.05 + k * 0.02)
                cx, cy = vx + k * self.unit * 0.03, base - vh - self.unit * 0.08 - k * self.unit * 0.07
                self.d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(120, 115, 115, 170))
        if (s.has("shop", "cafe", "café", "bakery", "store", "storefront", "boutique", "restaurant", "diner")
                or s.phrase("front of")) and not self.indoor:
            self.shop_front(self.w * rng.uniform(0.3, 0.7), hz + self.unit * 0.02, dim)
        if s.has("bee", "bees", "honey", "hive", "beehive", "pollen", "nectar"):
            hx, hy = self.w * rng.choice((rng.uniform(0.12, 0.3), rng.uniform(0.7, 0.88))), ground_y
            r = self.unit * 0.12
            for k in range(4):  # a skep: stacked golden rings
                rr = r * (1 - k * 0.18)
                self.d.ellipse((hx - rr, hy - r * 0.5 - k * r * 0.42 - rr * 0.35, hx + rr, hy - r * 0.5 - k * r * 0.42 + rr * 0.35),
                               fill=shade((226, 170, 70), dim * (1 - k * 0.04)), outline=shade((160, 110, 40), dim),
                               width=max(1, int(r * 0.04)))
            self.d.ellipse((hx - r * 0.16, hy - r * 0.62, hx + r * 0.16, hy - r * 0.4), fill=(50, 35, 20))
            for _ in range(rng.randint(7, 12)):
                self.bee(rng.uniform(0.05, 0.95) * self.w, rng.uniform(hz * 0.45, ground_y), self.unit * 0.018)
            for _ in range(10):  # the flowers they visit
                x, y = rng.uniform(0, self.w), rng.uniform(ground_y, self.h * 0.97)
                fr = self.unit * 0.012
                for k in range(5):
                    a = k / 5 * math.tau
                    self.d.ellipse((x + math.cos(a) * fr - fr * 0.6, y + math.sin(a) * fr - fr * 0.6,
                                    x + math.cos(a) * fr + fr * 0.6, y + math.sin(a) * fr + fr * 0.6), fill=(250, 220, 90))
                self.d.ellipse((x - fr * 0.5, y - fr * 0.5, x + fr * 0.5, y + fr * 0.5), fill=(200, 90, 40))
        if s.has("bicycle", "bicycles", "bike", "bikes", "cycling", "cyclist"):
            self.bicycle(self.w * rng.uniform(0.25, 0.75), hz + (self.h - hz) * 0.75, self.unit * 0.09, dim)
        table = s.has("coffee", "cup", "cups", "latte", "mug", "espresso", "tea", "bread", "loaf", "cake", "cookies",
                      "baking", "table", "ingredients", "recipe", "breakfast")
        if table:
            tx, ty = self.w * rng.uniform(0.55, 0.8), hz + (self.h - hz) * 0.62
            tw = self.unit * 0.36
            wood = shade((150, 100, 60), dim)
            self.d.rectangle((tx - tw * 0.04, ty, tx + tw * 0.04, ty + self.unit * 0.2), fill=shade(wood, 0.8))
            self.d.rounded_rectangle((tx - tw / 2, ty - self.unit * 0.03, tx + tw / 2, ty), radius=int(self.unit * 0.01),
                                     fill=wood)
            if s.has("coffee", "cup", "cups", "latte", "mug", "espresso", "tea", "breakfast"):
                for cx in (tx - tw * 0.25, tx + tw * 0.2)[: 1 + int(s.has("customers", "cups", "friends"))]:
                    self.cup(cx, ty - self.unit * 0.03, self.unit * 0.045, dim)
            if s.has("bread", "loaf", "baking", "ingredients", "recipe"):
                bx, by, bw = tx + tw * 0.05, ty - self.unit * 0.03, self.unit * 0.12
                self.d.ellipse((bx - bw / 2, by - bw * 0.45, bx + bw / 2, by + bw * 0.05), fill=shade((200, 140, 70), dim))
                for k in range(3):
                    x = bx - bw * 0.25 + k * bw * 0.22
                    self.d.line([(x, by - bw * 0.35), (x + bw * 0.1, by - bw * 0.15)], fill=shade((240, 200, 140), dim),
                                width=max(1, int(bw * 0.04)))
            if s.has("cake", "cookies"):
                cx, cy, cw = tx - tw * 0.1, ty - self.unit * 0.03, self.unit * 0.09
                self.d.rectangle((cx - cw / 2, cy - cw * 0.6, cx + cw / 2, cy), fill=shade((240, 200, 210), dim))
                self.d.rectangle((cx - cw / 2, cy - cw * 0.68, cx + cw / 2, cy - cw * 0.55), fill=shade((250, 245, 240), dim))

    def shop_front(self, x: float, base: float, dim: float) -> None:
        """A shop or café: wall, striped awning, a lit window and a door (a sign, but no letters)."""
        rng, u = self.rng, self.unit
        w, h = u * 0.8, u * 0.5
        stripe = self.place_colour or PLACE_COLOURS[int(hashlib.sha256(self.s.text.encode()).hexdigest(), 16)
                                                    % len(PLACE_COLOURS)]
        self.d.rectangle((x - w / 2, base - h, x + w / 2, base), fill=shade((236, 222, 200), dim))
        self.d.rectangle((x - w / 2, base - h - u * 0.05, x + w / 2, base - h), fill=shade((120, 90, 70), dim))
        sign = (x - w * 0.3, base - h + u * 0.03, x + w * 0.3, base - h + u * 0.1)
        self.d.rounded_rectangle(sign, radius=int(u * 0.015), fill=shade(stripe, dim * 0.8))
        top, bottom = base - h + u * 0.13, base - h + u * 0.22
        n = 8
        for k in range(n):  # the awning, with a scalloped edge
            x0 = x - w / 2 - u * 0.02 + k * (w + u * 0.04) / n
            x1 = x0 + (w + u * 0.04) / n
            col = shade(stripe if k % 2 == 0 else (250, 246, 236), dim)
            self.d.polygon([(x0, top), (x1, top), (x1, bottom), (x0, bottom)], fill=col)
            self.d.chord((x0, bottom - u * 0.025, x1, bottom + u * 0.025), 0, 180, fill=col)
        glow = (255, 214, 140) if self.look.light < 0.9 else (250, 236, 200)
        win = (x - w * 0.42, bottom + u * 0.05, x + w * 0.12, base - u * 0.06)
        self.d.rectangle(win, fill=shade(glow, 0.85 + 0.15 * dim), outline=shade((90, 70, 60), dim), width=int(u * 0.01))
        self.d.line([((win[0] + win[2]) / 2, win[1]), ((win[0] + win[2]) / 2, win[3])], fill=shade((90, 70, 60), dim),
                    width=int(u * 0.008))
        door = (x + w * 0.2, bottom + u * 0.04, x + w * 0.38, base)
        self.d.rectangle(door, fill=shade(stripe, dim * 0.7))
        self.d.ellipse((door[2] - u * 0.03, (door[1] + door[3]) / 2 - u * 0.008, door[2] - u * 0.014,
                        (door[1] + door[3]) / 2 + u * 0.008), fill=(240, 210, 120))
        for k in range(2):  # a plant pot either side of the door
            px = door[0] - u * 0.03 if k == 0 else door[2] + u * 0.03
            self.d.rectangle((px - u * 0.015, base - u * 0.035, px + u * 0.015, base), fill=shade((170, 90, 60), dim))
            self.d.ellipse((px - u * 0.03, base - u * 0.08, px + u * 0.03, base - u * 0.03), fill=shade((70, 140, 70), dim))
        if rng.random() < 0.5:
            self.d.rectangle((x - w / 2, base - u * 0.01, x + w / 2, base), fill=shade((150, 140, 135), dim))

    def bee(self, x: float, y: float, r: float) -> None:
        self.d.ellipse((x - r * 0.9, y - r * 1.3, x + r * 0.1, y - r * 0.2), fill=(235, 240, 255, 170))
        self.d.ellipse((x - r * 0.1, y - r * 1.3, x + r * 0.9, y - r * 0.2), fill=(235, 240, 255, 170))
        self.d.ellipse((x - r * 1.2, y - r * 0.7, x + r * 1.2, y + r * 0.7), fill=(246, 200, 40))
        for k in (-0.35, 0.25):
            self.d.rectangle((x + k * r * 2 - r * 0.15, y - r * 0.65, x + k * r * 2 + r * 0.15, y + r * 0.65), fill=(40, 30, 20))

    def cup(self, x: float, y: float, r: float, dim: float) -> None:
        self.d.ellipse((x - r * 1.5, y - r * 0.25, x + r * 1.5, y + r * 0.25), fill=shade((240, 240, 236), dim))
        self.d.rounded_rectangle((x - r, y - r * 1.6, x + r, y - r * 0.05), radius=int(r * 0.4),
                                 fill=shade((246, 244, 240), dim))
        self.d.arc((x + r * 0.7, y - r * 1.3, x + r * 1.5, y - r * 0.5), 270, 90, fill=shade((246, 244, 240), dim),
                   width=max(1, int(r * 0.2)))
        self.d.ellipse((x - r * 0.9, y - r * 1.75, x + r * 0.9, y - r * 1.4), fill=shade((120, 70, 40), dim))
        for k in (-0.4, 0.3):  # steam
            pts = [(x + k * r + math.sin(t / 2) * r * 0.25, y - r * 1.9 - t * r * 0.3) for t in range(7)]
            self.d.line(pts, fill=(255, 255, 255, 150), width=max(1, int(r * 0.12)))

    def bicycle(self, x: float, y: float, r: float, dim: float) -> None:
        frame = shade((210, 60, 50), dim)
        for cx in (x - r * 1.3, x + r * 1.3):
            self.d.ellipse((cx - r, y - r, cx + r, y + r), outline=(40, 40, 45), width=max(2, int(r * 0.12)))
            for k in range(6):
                a = k / 6 * math.pi
                self.d.line([(cx - math.cos(a) * r, y - math.sin(a) * r), (cx + math.cos(a) * r, y + math.sin(a) * r)],
                            fill=(150, 150, 160), width=max(1, int(r * 0.03)))
        pts = [(x - r * 1.3, y), (x - r * 0.2, y - r * 1.1), (x + r * 0.9, y - r * 1.1), (x + r * 1.3, y), (x, y),
               (x - r * 0.2, y - r * 1.1)]
        self.d.line(pts, fill=frame, width=max(2, int(r * 0.14)))
        self.d.line([(x, y), (x + r * 0.9, y - r * 1.1)], fill=frame, width=max(2, int(r * 0.14)))
        self.d.line([(x - r * 0.2, y - r * 1.1), (x - r * 0.3, y - r * 1.35)], fill=(40, 40, 45), width=max(2, int(r * 0.1)))
        self.d.line([(x - r * 0.5, y - r * 1.4), (x - r * 0.05, y - r * 1.4)], fill=(40, 40, 45), width=max(2, int(r * 0.16)))
        self.d.line([(x + r * 0.9, y - r * 1.1), (x + r * 0.8, y - r * 1.5), (x + r * 1.1, y - r * 1.55)], fill=(40, 40, 45),
                    width=max(2, int(r * 0.1)))

    def pine(self, x: float, y: float, hgt: float, col: RGB) -> None:
        for k in range(3):
            w = hgt * (0.45 - k * 0.1)
            top = y - hgt * (0.45 + k * 0.25)
            self.d.polygon([(x - w, y - hgt * k * 0.25), (x + w, y - hgt * k * 0.25), (x, top)], fill=col)

    def tree(self, x: float, y: float, hgt: float, *, apples: bool) -> None:
        dim = 0.55 + 0.45 * self.look.light
        self.d.rectangle((x - hgt * 0.05, y - hgt * 0.55, x + hgt * 0.05, y), fill=shade((110, 75, 50), dim))
        leaf = shade((70, 150, 70), dim)
        for dx, dy, r in ((0, -0.7, 0.28), (-0.2, -0.55, 0.2), (0.2, -0.56, 0.21), (0, -0.9, 0.2)):
            self.d.ellipse((x + dx * hgt - r * hgt, y + dy * hgt - r * hgt, x + dx * hgt + r * hgt, y + dy * hgt + r * hgt), fill=leaf)
        if apples:
            for _ in range(7):
                ax, ay, r = x + self.rng.uniform(-0.3, 0.3) * hgt, y + self.rng.uniform(-0.95, -0.5) * hgt, hgt * 0.03
                self.d.ellipse((ax - r, ay - r, ax + r, ay + r), fill=shade((220, 50, 50), dim))

    # characters ----------------------------------------------------------------
    def characters(self) -> None:
        cast = self.s.cast[:4]
        if not cast:
            return
        n = len(cast)
        sleeping = self.s.has("asleep", "sleep", "sleeping", "snuggled", "curl", "curled")
        span = self.rng.uniform(0.45, 0.7)
        start = self.rng.uniform(0.1, 1 - span - 0.05) if n > 1 else self.rng.uniform(0.3, 0.6)
        for i, c in enumerate(cast):
            x = self.w * (start + (span * i / (n - 1) if n > 1 else span / 2))
            y = self.horizon + (self.h - self.horizon) * self.rng.uniform(0.5, 0.72)
            if self.indoor and sleeping:
                # together in the basket that props() drew
                x = self.w * (0.5 + (i - (n - 1) / 2) * 0.16)
                y = self.horizon + (self.h - self.horizon) * 0.68
            firefly = archetype(c.kind) == "firefly"
            size = self.unit * self.rng.uniform(0.27, 0.33) * (0.3 if firefly else 1.0) * shot_scale(self.s.text)
            if firefly:
                y = self.horizon * self.rng.uniform(0.6, 1.0)
            self.figure(c, x, y, size, facing=1 if i < n / 2 else -1, asleep=sleeping)

    def colours(self, c: Cast) -> tuple[RGB, RGB]:
        """Body and accent colour: the sheet's when there is one, else the look's words, else the species'.

        The accent is the colour of what the character wears ("a blue scarf"), when the look says."""
        cols = colours_in(c.look)
        body = c.body or (cols[0] if cols else SPECIES_DEFAULT.get(c.kind.split()[-1] if c.kind else "", (200, 160, 120)))
        worn = re.search(rf"\b({'|'.join(COLOURS)})\s+(?:[a-z-]+\s+)?(?:{'|'.join(WORN)})\b", c.look)
        accent = c.accent or (COLOURS[worn.group(1)] if worn else cols[1] if len(cols) > 1 else (220, 60, 60))
        return body, accent

    def figure(self, c: Cast, x: float, y: float, s: float, *, facing: int, asleep: bool, shadow: bool = True) -> None:
        """Draw one character, and note the box it covers (output pixels) in self.boxes."""
        body, accent = self.colours(c)
        dim = 0.6 + 0.4 * self.look.light
        body, accent = shade(body, dim), shade(accent, dim)
        if shadow:
            self.d.ellipse((x - s * 0.5, y - s * 0.06, x + s * 0.5, y + s * 0.08), fill=(0, 0, 0, 50))
        mask = Image.new("L", (self.w, self.h), 0)
        plain = self.d
        self.d = Traced(plain, ImageDraw.Draw(mask))  # type: ignore[assignment]
        try:
            kind = archetype(c.kind)
            species = c.kind.split()[-1] if c.kind else c.kind
            getattr(self, f"_{kind}")(Cast(c.name, species, c.look, c.body, c.accent), x, y, s, body, accent,
                                      facing, asleep)
        finally:
            self.d = plain
        box = mask.getbbox()
        if box:
            x0, y0, x1, y1 = (max(0, box[0] // SS), max(0, box[1] // SS),
                              min(self.w // SS, -(-box[2] // SS)), min(self.h // SS, -(-box[3] // SS)))
            if x1 > x0 and y1 > y0:
                self.boxes[c.name] = [x0, y0, x1, y1]

    def _eyes(self, x: float, y: float, s: float, spread: float, asleep: bool, big: bool = False) -> None:
        r = s * (0.07 if big else 0.045)
        for side in (-1, 1):
            ex = x + side * spread
            if asleep:
                self.d.arc((ex - r, y - r, ex + r, y + r), 20, 160, fill=(30, 30, 40), width=max(2, int(s * 0.02)))
            else:
                if big:
                    self.d.ellipse((ex - r * 1.5, y - r * 1.5, ex + r * 1.5, y + r * 1.5), fill=(255, 250, 230))
                self.d.ellipse((ex - r, y - r, ex + r, y + r), fill=(30, 30, 40))
                self.d.ellipse((ex - r * 0.2, y - r * 0.7, ex + r * 0.35, y - r * 0.15), fill=(255, 255, 255))

    def _quad(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d, light = self.d, shade(body, 1.35)
        ears, tail = EARS.get(c.kind, "round"), TAIL.get(c.kind, "wag")
        if asleep:  # curled loaf, head resting on the side
            d.ellipse((x - s * 0.55, y - s * 0.45, x + s * 0.55, y + s * 0.02), fill=body)
            hx, hy, hr = x + facing * s * 0.35, y - s * 0.28, s * 0.26
            if tail in ("curl", "bushy"):
                d.ellipse((x - facing * s * 0.3 - s * 0.35, y - s * 0.15, x - facing * s * 0.3 + s * 0.45, y + s * 0.04), fill=shade(body, 0.9))
            self._head(c, hx, hy, hr, body, light, ears, True)
            return
        if tail == "curl":
            d.arc((x + facing * s * 0.2 - s * 0.35, y - s * 0.6, x + facing * s * 0.2 + s * 0.35, y + s * 0.05),
                  270 if facing > 0 else 180, 90 if facing > 0 else 270, fill=body, width=int(s * 0.08))
        elif tail == "bushy":
            tx = x + facing * s * 0.5
            d.ellipse((tx - s * 0.22, y - s * 0.55, tx + s * 0.22, y), fill=body)
            d.ellipse((tx - s * 0.1, y - s * 0.6, tx + s * 0.1, y - s * 0.4), fill=(250, 250, 250))
        else:
            d.line([(x + facing * s * 0.3, y - s * 0.25), (x + facing * s * 0.55, y - s * 0.5)], fill=body, width=int(s * 0.08))
        d.ellipse((x - s * 0.36, y - s * 0.78, x + s * 0.36, y), fill=body)
        d.ellipse((x - s * 0.2, y - s * 0.6, x + s * 0.2, y - s * 0.05), fill=light)
        for side in (-1, 1):
            d.ellipse((x + side * s * 0.2 - s * 0.11, y - s * 0.1, x + side * s * 0.2 + s * 0.11, y + s * 0.02), fill=shade(body, 1.15))
        if c.kind in ("dragon", "dinosaur"):
            for k in range(4):
                px = x - s * 0.25 + k * s * 0.17
                d.polygon([(px - s * 0.06, y - s * 0.7), (px + s * 0.06, y - s * 0.7), (px, y - s * 0.86)], fill=accent)
        self._head(c, x, y - s * 0.92, s * 0.3, body, light, ears, False)
        d.rectangle((x - s * 0.22, y - s * 0.72, x + s * 0.22, y - s * 0.66), fill=accent)  # collar/scarf

    def _head(self, c: Cast, x: float, y: float, r: float, body: RGB, light: RGB, ears: str, asleep: bool) -> None:
        d = self.d
        if ears == "pointy":
            for side in (-1, 1):
                d.polygon([(x + side * r * 0.95, y - r * 0.2), (x + side * r * 0.25, y - r * 0.75), (x + side * r * 0.85, y - r * 1.25)], fill=body)
                d.polygon([(x + side * r * 0.8, y - r * 0.35), (x + side * r * 0.4, y - r * 0.7), (x + side * r * 0.78, y - r * 1.0)], fill=(240, 160, 170))
        elif ears == "long":
            for side in (-1, 1):
                d.ellipse((x + side * r * 0.45 - r * 0.22, y - r * 2.1, x + side * r * 0.45 + r * 0.22, y - r * 0.5), fill=body)
                d.ellipse((x + side * r * 0.45 - r * 0.1, y - r * 1.9, x + side * r * 0.45 + r * 0.1, y - r * 0.7), fill=(240, 170, 180))
        elif ears in ("round", "big"):
            er = r * (0.55 if ears == "big" else 0.32)
            for side in (-1, 1):
                d.ellipse((x + side * r * 0.75 - er, y - r * 0.8 - er, x + side * r * 0.75 + er, y - r * 0.8 + er), fill=body)
                d.ellipse((x + side * r * 0.75 - er * 0.55, y - r * 0.8 - er * 0.55, x + side * r * 0.75 + er * 0.55, y - r * 0.8 + er * 0.55), fill=(240, 170, 180))
        elif ears in ("horns", "spikes"):
            for side in (-1, 1):
                d.polygon([(x + side * r * 0.4, y - r * 0.8), (x + side * r * 0.7, y - r * 0.6), (x + side * r * 0.6, y - r * 1.3)], fill=(240, 220, 160))
        d.ellipse((x - r, y - r, x + r, y + r), fill=body)
        if ears == "floppy":
            for side in (-1, 1):
                d.ellipse((x + side * r * 0.95 - r * 0.3, y - r * 0.75, x + side * r * 0.95 + r * 0.3, y + r * 0.45), fill=shade(body, 0.75))
        if c.kind == "unicorn":
            d.polygon([(x - r * 0.15, y - r * 0.9), (x + r * 0.15, y - r * 0.9), (x, y - r * 1.8)], fill=(240, 200, 90))
        if c.kind == "panda":
            for side in (-1, 1):
                d.ellipse((x + side * r * 0.4 - r * 0.25, y - r * 0.35, x + side * r * 0.4 + r * 0.25, y + r * 0.15), fill=(40, 40, 48))
        d.ellipse((x - r * 0.45, y + r * 0.05, x + r * 0.45, y + r * 0.7), fill=light)  # muzzle
        self._eyes(x, y - r * 0.15, r * 2.2, r * 0.42, asleep)
        d.polygon([(x - r * 0.12, y + r * 0.15), (x + r * 0.12, y + r * 0.15), (x, y + r * 0.3)], fill=(60, 40, 40))
        d.arc((x - r * 0.2, y + r * 0.2, x, y + r * 0.45), 0, 160, fill=(60, 40, 40), width=max(2, int(r * 0.05)))
        d.arc((x, y + r * 0.2, x + r * 0.2, y + r * 0.45), 20, 180, fill=(60, 40, 40), width=max(2, int(r * 0.05)))
        if c.kind in ("cat", "mouse", "tiger", "lion"):
            for side in (-1, 1):
                for k in (-1, 0, 1):
                    d.line([(x + side * r * 0.3, y + r * 0.3), (x + side * r * 1.1, y + r * (0.2 + k * 0.15))], fill=(50, 40, 40, 180), width=max(1, int(r * 0.025)))
        if not asleep:
            for side in (-1, 1):
                d.ellipse((x + side * r * 0.62 - r * 0.14, y + r * 0.25 - r * 0.09, x + side * r * 0.62 + r * 0.14, y + r * 0.25 + r * 0.09), fill=(250, 150, 150, 120))

    def _bird(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        belly = (245, 245, 240) if c.kind in ("penguin", "owl") else shade(body, 1.35)
        d.ellipse((x - s * 0.33, y - s * 0.9, x + s * 0.33, y), fill=body)
        d.ellipse((x - s * 0.22, y - s * 0.6, x + s * 0.22, y - s * 0.05), fill=belly)
        for side in (-1, 1):
            d.ellipse((x + side * s * 0.32 - s * 0.1, y - s * 0.65, x + side * s * 0.32 + s * 0.1, y - s * 0.2), fill=shade(body, 0.8))
            d.polygon([(x + side * s * 0.12, y), (x + side * s * 0.05, y + s * 0.05), (x + side * s * 0.2, y + s * 0.05)], fill=(240, 150, 50))
        if c.kind == "owl":
            for side in (-1, 1):
                d.polygon([(x + side * s * 0.3, y - s * 0.82), (x + side * s * 0.12, y - s * 0.86), (x + side * s * 0.3, y - s * 1.02)], fill=body)
        self._eyes(x, y - s * 0.66, s, s * 0.11, asleep, big=c.kind == "owl")
        d.polygon([(x - s * 0.06, y - s * 0.56), (x + s * 0.06, y - s * 0.56), (x, y - s * 0.44)], fill=(245, 160, 40))
        if "scarf" in c.look or c.kind == "penguin":
            d.rectangle((x - s * 0.28, y - s * 0.52, x + s * 0.28, y - s * 0.45), fill=accent)

    def _person(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        skin = SKIN[int(hashlib.sha256(c.name.encode()).hexdigest(), 16) % len(SKIN)]
        cols = colours_in(c.look)
        hair = cols[0] if cols else (90, 60, 40)
        cloth = (240, 240, 245) if c.kind == "astronaut" else cols[1] if len(cols) > 1 else accent
        for side in (-1, 1):
            d.rectangle((x + side * s * 0.1 - s * 0.05, y - s * 0.35, x + side * s * 0.1 + s * 0.05, y), fill=(60, 60, 90))
        if c.kind == "princess":
            d.polygon([(x - s * 0.3, y - s * 0.05), (x + s * 0.3, y - s * 0.05), (x + s * 0.12, y - s * 0.7), (x - s * 0.12, y - s * 0.7)], fill=cloth)
        else:
            d.rounded_rectangle((x - s * 0.2, y - s * 0.75, x + s * 0.2, y - s * 0.3), radius=int(s * 0.08), fill=cloth)
        for side in (-1, 1):
            d.line([(x + side * s * 0.18, y - s * 0.68), (x + side * s * 0.32, y - s * 0.42)], fill=cloth, width=int(s * 0.08))
        hx, hy, hr = x, y - s * 0.95, s * 0.2
        if c.kind == "girl":
            d.ellipse((hx - hr * 1.25, hy - hr * 1.1, hx + hr * 1.25, hy + hr * 1.4), fill=hair)
        d.ellipse((hx - hr, hy - hr, hx + hr, hy + hr), fill=skin)
        d.chord((hx - hr * 1.05, hy - hr * 1.1, hx + hr * 1.05, hy + hr * 0.5), 180, 360, fill=hair)
        self._eyes(hx, hy + hr * 0.1, hr * 2, hr * 0.4, asleep)
        d.arc((hx - hr * 0.3, hy + hr * 0.2, hx + hr * 0.3, hy + hr * 0.6), 20, 160, fill=(120, 50, 50), width=max(2, int(hr * 0.08)))
        if c.kind == "astronaut":
            d.ellipse((hx - hr * 1.4, hy - hr * 1.4, hx + hr * 1.4, hy + hr * 1.4), outline=(230, 235, 245), width=int(hr * 0.25))
            d.ellipse((hx - hr * 1.2, hy - hr * 1.2, hx + hr * 1.2, hy + hr * 1.2), fill=(180, 220, 255, 50))
            d.rectangle((x - s * 0.2, y - s * 0.62, x + s * 0.2, y - s * 0.56), fill=(240, 140, 40))
        elif c.kind == "wizard":
            d.polygon([(hx - hr * 1.3, hy - hr * 0.6), (hx + hr * 1.3, hy - hr * 0.6), (hx + hr * 0.2, hy - hr * 3)], fill=(50, 60, 150))
        elif c.kind == "princess":
            d.polygon([(hx - hr * 0.5, hy - hr * 0.85), (hx - hr * 0.3, hy - hr * 1.3), (hx, hy - hr * 0.95), (hx + hr * 0.3, hy - hr * 1.3), (hx + hr * 0.5, hy - hr * 0.85)], fill=(230, 200, 90))
        elif c.kind == "knight":
            d.chord((hx - hr * 1.1, hy - hr * 1.2, hx + hr * 1.1, hy + hr * 0.3), 180, 360, fill=(190, 195, 205))
        elif c.kind == "pirate":
            d.chord((hx - hr * 1.1, hy - hr * 1.2, hx + hr * 1.1, hy + hr * 0.2), 180, 360, fill=(210, 50, 50))

    def _robot(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        metal, dark = body, shade(body, 0.7)
        for side in (-1, 1):
            d.rectangle((x + side * s * 0.12 - s * 0.06, y - s * 0.25, x + side * s * 0.12 + s * 0.06, y), fill=dark)
        d.rounded_rectangle((x - s * 0.28, y - s * 0.7, x + s * 0.28, y - s * 0.22), radius=int(s * 0.05), fill=metal)
        d.rounded_rectangle((x - s * 0.12, y - s * 0.58, x + s * 0.12, y - s * 0.38), radius=int(s * 0.03), fill=(60, 70, 90))
        d.rounded_rectangle((x - s * 0.24, y - s * 1.08, x + s * 0.24, y - s * 0.72), radius=int(s * 0.06), fill=metal)
        d.line([(x, y - s * 1.08), (x, y - s * 1.22)], fill=dark, width=int(s * 0.03))
        d.ellipse((x - s * 0.05, y - s * 1.28, x + s * 0.05, y - s * 1.18), fill=(90, 180, 255))
        d.ellipse((x - s * 0.12, y - s * 1.33, x + s * 0.12, y - s * 1.13), fill=(90, 180, 255, 60))
        for side in (-1, 1):
            ex, ey, r = x + side * s * 0.1, y - s * 0.92, s * 0.05
            if asleep:
                d.line([(ex - r, ey), (ex + r, ey)], fill=(40, 60, 90), width=int(s * 0.02))
            else:
                d.ellipse((ex - r, ey - r, ex + r, ey + r), fill=(120, 210, 255))
            d.line([(x + side * s * 0.28, y - s * 0.62), (x + side * s * 0.42, y - s * 0.35)], fill=dark, width=int(s * 0.06))

    def _turtle(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        d.ellipse((x + facing * s * 0.35 - s * 0.15, y - s * 0.42, x + facing * s * 0.35 + s * 0.15, y - s * 0.12), fill=(150, 190, 110))
        d.chord((x - s * 0.45, y - s * 0.6, x + s * 0.45, y + s * 0.1), 180, 360, fill=body)
        for k in range(3):
            d.ellipse((x - s * 0.3 + k * s * 0.2, y - s * 0.42, x - s * 0.16 + k * s * 0.2, y - s * 0.28), fill=shade(body, 0.75))
        self._eyes(x + facing * s * 0.38, y - s * 0.3, s * 0.4, s * 0.05, asleep)

    def _crab(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        for side in (-1, 1):
            d.ellipse((x + side * s * 0.45 - s * 0.1, y - s * 0.55, x + side * s * 0.45 + s * 0.1, y - s * 0.35), fill=body)
            for k in range(3):
                d.line([(x + side * s * 0.2, y - s * 0.15), (x + side * s * (0.35 + k * 0.05), y)], fill=body, width=int(s * 0.03))
        d.ellipse((x - s * 0.3, y - s * 0.4, x + s * 0.3, y - s * 0.05), fill=body)
        self._eyes(x, y - s * 0.45, s * 0.8, s * 0.08, asleep, big=True)

    def _fish(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        y -= s * 0.5
        d.polygon([(x - facing * s * 0.35, y), (x - facing * s * 0.6, y - s * 0.2), (x - facing * s * 0.6, y + s * 0.2)], fill=shade(body, 0.85))
        d.ellipse((x - s * 0.4, y - s * 0.25, x + s * 0.4, y + s * 0.25), fill=body)
        self._eyes(x + facing * s * 0.2, y - s * 0.05, s * 0.5, 0, asleep)

    def _firefly(self, c: Cast, x: float, y: float, s: float, body: RGB, accent: RGB, facing: int, asleep: bool) -> None:
        d = self.d
        for k in range(5, 0, -1):
            d.ellipse((x - s * k * 0.4, y - s * k * 0.4, x + s * k * 0.4, y + s * k * 0.4), fill=(255, 240, 150, 22))
        d.ellipse((x - s * 0.25, y - s * 0.18, x + s * 0.25, y + s * 0.18), fill=(255, 236, 120))
        for side in (-1, 1):
            d.ellipse((x + side * s * 0.2 - s * 0.18, y - s * 0.5, x + side * s * 0.2 + s * 0.18, y - s * 0.1), fill=(230, 240, 255, 150))

    def finish(self, style: str, *, vignette: bool = True) -> Image.Image:
        img = self.img
        w, h = self.w, self.h
        if vignette:
            mask = Image.new("L", (w // 8, h // 8), 0)
            ImageDraw.Draw(mask).ellipse((-w // 40, -h // 40, w // 8 + w // 40, h // 8 + h // 40), fill=255)
            mask = mask.filter(ImageFilter.GaussianBlur(w // 60)).resize((w, h))
            dark = Image.new("RGB", (w, h), shade(self.look.sky_top, 0.5))
            img = Image.composite(img, Image.blend(img, dark, 0.45), mask)
        if any(k in style for k in ("watercolour", "watercolor", "gouache", "soft")):
            img = img.filter(ImageFilter.GaussianBlur(SS * 1.2))
            # Seeded grain (PIL's effect_noise draws from C's unseeded rand(): a different picture every time).
            noise = np.random.default_rng(self.rng.getrandbits(64)).normal(128, 18, (h // 2, w // 2))
            grain = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8)).resize((w, h)).convert("RGB")
            img = ImageChops.multiply(img, Image.blend(Image.new("RGB", (w, h), (255, 255, 255)), grain, 0.08))
        if any(k in style for k in ("black-and-white", "noir", "ink")):
            img = img.convert("L").convert("RGB")
        sat = 0.7 if "pastel" in style or "muted" in style else 1.2 if any(k in style for k in ("saturated", "vibrant", "bold")) else 1.0
        if sat != 1.0:
            from PIL import ImageEnhance

            img = ImageEnhance.Color(img).enhance(sat)
        return img.resize((w // SS, h // SS), Image.Resampling.LANCZOS)


SHEET_BACKGROUND: RGB = (226, 226, 230)
"""PNG text chunks the painter writes: a sheet's figure (kind and colours), and where each character is."""


def sheet_spec(path: Path) -> dict[str, Any]:
    """What a reference sheet shows: its figure's kind and colours.

    A sheet this painter made says so in a PNG text chunk. Any other sheet (another
    backend's, or one a user drew) gives its dominant colour as the body. The values
    are JSON's (colours are lists of three ints), so they are typed Any.
    """
    import json

    with Image.open(path) as im:
        text = getattr(im, "text", {}) or {}
        if FIGURE_KEY in text:
            return dict(json.loads(text[FIGURE_KEY]))
        pixels = np.asarray(im.convert("RGB"))
    signature = figure_signature(pixels, None)
    return {"body": list(signature[0][0]) if signature else None, "accent": None, "kind": None}


def paint(prompt: str, *, width: int, height: int, seed: int, references: list[Path] | None = None) -> Image.Image:
    return compose(prompt, width=width, height=height, seed=seed, references=references)[0]


def compose(prompt: str, *, width: int, height: int, seed: int, references: list[Path] | None = None
            ) -> tuple[Image.Image, dict[str, str]]:
    """The picture and the PNG text chunks that go with it."""
    import json

    digest = hashlib.sha256(f"{seed}\x00{prompt}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    if prompt.split(". ", 1)[-1].startswith(SHEET):
        return paint_sheet(prompt, width=width, height=height, rng=rng)
    if PLACE_SHEET in prompt:
        return paint_place(prompt, width=width, height=height, rng=rng)
    scene = parse_prompt(prompt)
    place_colour: RGB | None = None
    for name, path in zip(scene.references, references or []):
        spec = sheet_spec(path)
        if spec.get("place"):  # a recurring place: its colours, and its shop front, come from its sheet
            place_colour = tuple(spec["accent"]) if spec.get("accent") else None
            scene.words |= set(spec.get("words") or [])
            continue
        for c in scene.cast:
            if c.name.lower() == name.lower():
                c.body = tuple(spec["body"]) if spec.get("body") else None
                c.accent = tuple(spec["accent"]) if spec.get("accent") else None
                c.kind = str(spec.get("kind") or c.kind)
    painter = Painter(scene, width, height, rng)
    painter.place_colour = place_colour
    painter.sky()
    painter.far()
    painter.ground()
    painter.props()
    painter.subjects()
    painter.characters()
    info = {BOXES_KEY: json.dumps(painter.boxes, sort_keys=True)} if painter.boxes else {}
    return painter.finish(style_of(prompt)), info


PLACE_SHEET = ". Reference picture of the place "
LANDMARK_WORDS = frozenset(("shop", "cafe", "bakery", "store", "lighthouse", "castle", "barn", "windmill", "street",
                            "sea", "beach", "shore"))


def paint_place(prompt: str, *, width: int, height: int, rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """A recurring place's reference picture: the place from its description, nobody in it. Its
    accent colour (a shop's awning) is chosen here, once, and every scene that names it takes it."""
    import json

    style, _, rest = prompt.partition(PLACE_SHEET)
    m = re.match(r"(.+?): (.+?)\.(?:\n|$)", rest)
    name, look = (m.group(1), m.group(2)) if m else ("the place", rest)
    scene = Scene(words=set(re.findall(r"[a-z]+", f"{style} {look}".lower())) - {"people", "person"},
                  text=f"{style}. {look}".lower())
    painter = Painter(scene, width, height, rng)
    painter.place_colour = PLACE_COLOURS[int(hashlib.sha256(name.lower().encode()).hexdigest(), 16) % len(PLACE_COLOURS)]
    painter.sky()
    painter.far()
    painter.ground()
    painter.props()
    painter.subjects()
    spec = {"place": True, "name": name, "accent": list(painter.place_colour),
            "words": sorted(scene.words & LANDMARK_WORDS)}  # what a scene naming it draws of it
    return painter.finish(style.lower()), {FIGURE_KEY: json.dumps(spec, sort_keys=True)}


def paint_sheet(prompt: str, *, width: int, height: int, rng: random.Random) -> tuple[Image.Image, dict[str, str]]:
    """A reference sheet: the character alone, standing, centred on a plain background."""
    import json

    style, _, rest = prompt.partition(". " + SHEET)
    m = re.match(r"(.+?), ([^:]+): (.+?)\.(?:\n|$)", rest)
    name, kind, look = (m.group(1), m.group(2).strip().lower(), m.group(3).strip().lower()) if m else ("figure", "cat", rest)
    cast = Cast(name, kind, look)
    scene = Scene(words=set(re.findall(r"[a-z]+", style.lower())), text=style.lower(), cast=[cast])
    painter = Painter(scene, width, height, rng)
    painter.d.rectangle((0, 0, painter.w, painter.h), fill=SHEET_BACKGROUND)
    size = painter.unit * 0.5
    painter.figure(cast, painter.w / 2, painter.h * 0.8, size, facing=1, asleep=False, shadow=False)
    body, accent = painter.colours(cast)
    spec = {"name": name, "kind": kind, "body": list(body), "accent": list(accent)}
    info = {FIGURE_KEY: json.dumps(spec, sort_keys=True), BOXES_KEY: json.dumps(painter.boxes, sort_keys=True)}
    return painter.finish(style.lower(), vignette=False), info


def save_png(image: Image.Image, info: dict[str, str], out: Path) -> None:
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    for key, value in info.items():
        meta.add_text(key, value)
    image.save(out, format="PNG", optimize=False, pnginfo=meta)




class LocalIllustrator:
    """Procedural illustrations; deterministic per (prompt, seed, references)."""

    name = "local"
    model = "procedural-illustrator-v2"

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path,
                     references: list[Path] | None = None) -> None:
        image, info = compose(prompt, width=width, height=height, seed=seed, references=references)
        save_png(image, info, out)
