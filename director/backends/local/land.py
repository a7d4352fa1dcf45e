"""The offline painter's land: the far background on the horizon and the ground in front of it.

Far: a room's wall and window, the sea and a lighthouse, a city, a castle, hills with pines, a barn.
Ground: its colour, a rug indoors, a pond or a stream, pebbles.
"""

from __future__ import annotations

import math

from director.backends.local.canvas import SS, Canvas
from director.backends.local.palette import RGB, ground_colour, mix, shade


class LandPainter(Canvas):
    """Paints the layers between the sky and the props: what stands on the horizon, then the ground."""

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

    def pine(self, x: float, y: float, hgt: float, col: RGB) -> None:
        for k in range(3):
            w = hgt * (0.45 - k * 0.1)
            top = y - hgt * (0.45 + k * 0.25)
            self.d.polygon([(x - w, y - hgt * k * 0.25), (x + w, y - hgt * k * 0.25), (x, top)], fill=col)
