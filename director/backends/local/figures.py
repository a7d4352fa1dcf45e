"""The offline painter's figures: the cast placed in the scene, each body drawn, and the box it covers.

Bodies: four-legged animals, birds, people, robots, turtles, crabs, fish and fireflies.
"""

from __future__ import annotations

import hashlib
import math
import random
import re

from PIL import Image, ImageChops, ImageDraw

from director.backends.local.canvas import SS, Canvas
from director.backends.local.palette import COLOURS, RGB, SKIN, SPECIES_DEFAULT, WORN, colours_in, shade
from director.backends.local.scene import Cast, archetype, shot_scale

EARS = {"cat": "pointy", "fox": "pointy", "tiger": "pointy", "lion": "round", "dog": "floppy", "bear": "round",
        "panda": "round", "mouse": "big", "rabbit": "long", "bunny": "long", "pig": "pointy", "monkey": "round",
        "squirrel": "pointy", "hedgehog": "round", "horse": "pointy", "unicorn": "pointy", "elephant": "big",
        "dragon": "horns", "dinosaur": "spikes", "frog": "none", "mole": "none", "otter": "round",
        "badger": "round", "wolf": "pointy", "deer": "pointy", "goat": "pointy", "sheep": "floppy",
        "lamb": "floppy", "cow": "floppy", "kangaroo": "long", "koala": "big", "hamster": "round", "bat": "big",
        "donkey": "long", "raccoon": "pointy", "porcupine": "round", "lizard": "none", "crocodile": "none",
        "alligator": "none", "toad": "none"}
TAIL = {"cat": "curl", "fox": "bushy", "dog": "wag", "squirrel": "bushy", "lion": "curl", "tiger": "curl",
        "monkey": "curl", "horse": "wag", "unicorn": "wag", "dragon": "curl", "dinosaur": "curl", "mouse": "curl",
        "wolf": "bushy", "raccoon": "bushy", "skunk": "bushy", "chipmunk": "bushy", "lizard": "curl",
        "crocodile": "curl", "alligator": "curl"}
SPINY = frozenset(("hedgehog", "porcupine", "echidna"))
COATS = {"spots": ("spotted", "spots", "spotty", "dalmatian", "dotted"),
         "stripes": ("striped", "stripes", "stripy", "tabby", "tiger-striped"),
         "patches": ("calico", "patches", "patched", "patchy", "tortoiseshell", "piebald")}
"""Coat patterns a look can name, and the words that name them."""
"""Kinds drawn with a coat of spines, so a hedgehog is never taken for a bear cub."""


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


class FigurePainter(Canvas):
    """Paints the characters, the last layer before the finish; a reference sheet is one figure alone."""

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
        patched = r"\b(?:calico|tortoiseshell|piebald)\b"
        cols = colours_in(re.sub(patched, "", c.look.lower()))
        if not cols and re.search(patched, c.look.lower()):
            cols = [(246, 240, 228)]  # a white coat, for its patches (figures.COATS) to sit on
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
            if c.kind in SPINY:  # curled up, the spines bristle all along its back
                self._spines(x, y - s * 0.2, body, count=13, base=(s * 0.5, s * 0.22), tip=(s * 0.68, s * 0.42),
                             spread=s * 0.06, arc=(0.05, 0.9))
            d.ellipse((x - s * 0.55, y - s * 0.45, x + s * 0.55, y + s * 0.02), fill=body)
            self._coat(c, (x - s * 0.55, y - s * 0.45, x + s * 0.55, y + s * 0.02), body)
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
        if c.kind in SPINY:  # a fan of spines behind the body, darker than it, from shoulder to rump
            self._spines(x, y - s * 0.39, body, count=11, base=(s * 0.36, s * 0.39), tip=(s * 0.58, s * 0.6),
                         spread=s * 0.07, arc=(0.08, 0.84))
        d.ellipse((x - s * 0.36, y - s * 0.78, x + s * 0.36, y), fill=body)
        self._coat(c, (x - s * 0.36, y - s * 0.78, x + s * 0.36, y), body)
        d.ellipse((x - s * 0.2, y - s * 0.6, x + s * 0.2, y - s * 0.05), fill=light)
        for side in (-1, 1):
            d.ellipse((x + side * s * 0.2 - s * 0.11, y - s * 0.1, x + side * s * 0.2 + s * 0.11, y + s * 0.02), fill=shade(body, 1.15))
        if c.kind in ("dragon", "dinosaur"):
            for k in range(4):
                px = x - s * 0.25 + k * s * 0.17
                d.polygon([(px - s * 0.06, y - s * 0.7), (px + s * 0.06, y - s * 0.7), (px, y - s * 0.86)], fill=accent)
        self._head(c, x, y - s * 0.92, s * 0.3, body, light, ears, False)
        d.rectangle((x - s * 0.22, y - s * 0.72, x + s * 0.22, y - s * 0.66), fill=accent)  # collar/scarf

    def _coat(self, c: Cast, box: tuple[float, float, float, float], body: RGB) -> None:
        """The coat's pattern the look names, inside the body's ellipse: spots, stripes, or a calico's patches."""
        look = c.look.lower()
        pattern = next((p for p, words in COATS.items() if any(re.search(rf"\b{w}\b", look) for w in words)), None)
        if pattern is None:
            return
        left, top = int(box[0]), int(box[1])
        w, h = int(box[2]) - left + 1, int(box[3]) - top + 1
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).ellipse((0, 0, w - 1, h - 1), fill=255)
        layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        rng = random.Random(c.name)
        dark = (40, 34, 32, 255) if sum(body) > 240 else (*shade(body, 0.55), 255)
        if pattern == "stripes":
            for k in range(5):
                yy = h * (0.18 + k * 0.15)
                draw.line([(0, yy), (w * 0.5, yy + h * 0.05), (w, yy)], fill=dark, width=max(1, int(h * 0.045)))
        else:
            colours = [dark, (226, 128, 44, 255)] if pattern == "patches" else [dark]
            size = 0.16 if pattern == "patches" else 0.09
            for k in range(9 if pattern == "spots" else 5):
                cx, cy = w * rng.uniform(0.15, 0.85), h * rng.uniform(0.15, 0.85)
                r = min(w, h) * size * rng.uniform(0.7, 1.3)
                draw.ellipse((cx - r, cy - r * 0.8, cx + r, cy + r * 0.8), fill=colours[k % len(colours)])
        self.img.paste(layer, (left, top), ImageChops.multiply(layer.getchannel("A"), mask))

    def _spines(self, x: float, y: float, body: RGB, *, count: int, base: tuple[float, float],
                tip: tuple[float, float], spread: float, arc: tuple[float, float]) -> None:
        """A fan of spines around (x, y), darker than the body: from the ellipse `base` out to the ellipse `tip`
        (radii across and up), over the arc's share of a half turn."""
        dark = shade(body, 0.6)
        for k in range(count):
            angle = math.pi * (arc[0] + arc[1] * k / (count - 1))
            bx, by = x - math.cos(angle) * base[0], y - math.sin(angle) * base[1]
            point = (x - math.cos(angle) * tip[0], y - math.sin(angle) * tip[1])
            self.d.polygon([(bx - spread * math.sin(angle), by + spread * math.cos(angle) * 0.3),
                            (bx + spread * math.sin(angle), by - spread * math.cos(angle) * 0.3), point], fill=dark)

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
