"""The offline painter's sky: its gradient, stars, aurora, moon or sun, clouds, rainbow and planets."""

from __future__ import annotations

import math

from director.backends.local.canvas import SS, Canvas
from director.backends.local.palette import mix


class SkyPainter(Canvas):
    """Paints the sky above the horizon, the first layer."""

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
