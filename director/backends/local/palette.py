"""The offline painter's colours: named colours, colour arithmetic, and the light and colours a scene asks for."""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: scene.py imports this module's tables at run time
    from director.backends.local.scene import Scene

RGB = tuple[int, int, int]

COLOURS: dict[str, RGB] = {
    "ginger": (226, 132, 52), "orange": (240, 140, 40), "golden": (232, 184, 74), "gold": (232, 184, 74),
    "yellow": (246, 212, 70), "brown": (140, 94, 58), "chestnut": (150, 80, 45), "honey": (214, 160, 80),
    "grey": (150, 152, 160), "gray": (150, 152, 160), "silver": (196, 202, 212), "black": (52, 50, 58),
    "white": (242, 240, 234), "snowy": (246, 246, 250), "red": (214, 58, 52), "pink": (240, 160, 180),
    "blue": (70, 120, 210), "green": (80, 168, 90), "purple": (140, 90, 190), "calico": (230, 170, 110),
    "spotted": (236, 232, 224), "cream": (240, 226, 196), "lavender": (180, 160, 220),
}
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


# --- the look: sky, ground and light a scene asks for ----------------------------------

@dataclass
class Look:
    sky_top: RGB
    sky_bottom: RGB
    ground: RGB
    far: RGB
    light: float  # 1 = full daylight
    night: bool


NIGHT_SHADE = 0.3
"""How much of its daylight a place keeps at night when it has no night look of its own (under the sea)."""


def choose_look(s: Scene) -> Look:
    night = s.has("night", "midnight", "moonlight", "moon", "asleep", "lights") and not s.has("morning", "afternoon")
    if s.has("underwater", "reef", "coral", "seaweed", "kelp", "sunken", "clam"):
        sea = Look((20, 70, 120), (60, 160, 190), (214, 196, 150), (30, 100, 130), 0.85, False)
        if night:  # "make scene 2 at night" under the sea: the same water, darker, and no sun
            return Look(shade(sea.sky_top, NIGHT_SHADE), shade(sea.sky_bottom, NIGHT_SHADE),
                        shade(sea.ground, NIGHT_SHADE), shade(sea.far, NIGHT_SHADE), 0.55, True)
        return sea
    if s.phrase("among the stars", "rocket", "ringed", "above the sleeping earth", "asteroid", "launch pad") or s.has("space", "galaxy"):
        return Look((8, 10, 36), (40, 30, 90), (150, 150, 160), (60, 50, 110), 0.8, True)
    if night:
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
