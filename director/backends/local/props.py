"""The offline painter's props and objects: what a scene names, standing on its ground.

Props: a basket, trees, flowers, mushrooms, fireflies, seaweed, a rocket, treasure, and rain or snow.
Subjects, what an ad, a documentary or a how-to is about: a volcano, a shop front, a beehive, a bicycle, a table.
"""

from __future__ import annotations

import hashlib
import math

from director.backends.local.canvas import SS, Canvas
from director.backends.local.palette import PLACE_COLOURS, shade


class PropPainter(Canvas):
    """Paints what the scene names on the ground, after the land and before the characters."""

    subject_boxes: dict[str, list[int]]

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
    def noted(self, name: str, box: tuple[float, float, float, float]) -> None:
        """Where a subject was drawn, in output pixels (the frame tests read it back: marks.subjects_of)."""
        x0, y0, x1, y1 = (max(0, int(box[0] // SS)), max(0, int(box[1] // SS)), min(self.w // SS, int(-(-box[2] // SS))),
                          min(self.h // SS, int(-(-box[3] // SS))))
        if x1 > x0 and y1 > y0:
            self.subject_boxes[name] = [x0, y0, x1, y1]

    def subjects(self) -> None:
        s, rng, hz = self.s, self.rng, self.horizon
        dim = 0.6 + 0.4 * self.look.light
        ground_y = hz + (self.h - hz) * 0.55
        if s.has("reef", "reefs", "coral", "corals", "fish", "fishes", "underwater", "lagoon") and not self.indoor:
            self.reef(dim)
        if s.phrase("robot vacuum") or s.has("vacuum", "hoover", "roomba"):
            vx, vy, vr = self.w * rng.uniform(0.35, 0.65), hz + (self.h - hz) * 0.7, self.unit * 0.11
            self.d.ellipse((vx - vr, vy - vr * 0.38, vx + vr, vy + vr * 0.38), fill=shade((60, 62, 70), dim))
            self.d.ellipse((vx - vr * 0.96, vy - vr * 0.48, vx + vr * 0.96, vy + vr * 0.22), fill=shade((200, 204, 212), dim))
            self.d.ellipse((vx - vr * 0.22, vy - vr * 0.3, vx + vr * 0.22, vy - vr * 0.06), fill=shade((70, 130, 220), dim))
            self.d.arc((vx - vr * 0.9, vy - vr * 0.44, vx + vr * 0.9, vy + vr * 0.2), 200, 340,
                       fill=shade((40, 40, 46), dim), width=max(1, int(vr * 0.05)))
            self.noted("the robot vacuum", (vx - vr, vy - vr * 0.48, vx + vr, vy + vr * 0.38))
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
            x, base = self.w * rng.uniform(0.3, 0.7), hz + self.unit * 0.02
            self.shop_front(x, base, dim)
            self.noted("the shop", (x - self.unit * 0.42, base - self.unit * 0.55, x + self.unit * 0.42, base))
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

    def reef(self, dim: float) -> None:
        """A coral reef: branching and brain corals along the bottom, and a few fish swimming over it."""
        rng, u = self.rng, self.unit
        floor = self.h * 0.97
        colours = ((240, 120, 140), (250, 160, 80), (170, 110, 210), (250, 210, 90), (90, 200, 190))
        for k in range(int(7 * self.w / u) + 3):
            x = (k + rng.uniform(0.1, 0.9)) * self.w / (int(7 * self.w / u) + 3)
            colour = shade(rng.choice(colours), dim)
            if rng.random() < 0.5:  # branching coral
                self.branch(x, floor, u * rng.uniform(0.07, 0.11), math.pi / 2, 3, colour)
            else:  # a round brain coral
                r = u * rng.uniform(0.04, 0.07)
                self.d.chord((x - r, floor - r * 1.4, x + r, floor + r * 0.6), 180, 360, fill=colour)
                for ring in range(1, 3):
                    rr = r * (1 - ring * 0.3)
                    self.d.arc((x - rr, floor - r * 0.4 - rr, x + rr, floor - r * 0.4 + rr), 200, 340,
                               fill=shade(colour, 0.75), width=max(1, int(u * 0.004)))
        self.noted("the coral", (0, floor - u * 0.3, self.w, floor))
        top = self.horizon * 0.5 if not self.s.has("underwater", "reef", "coral", "lagoon") else self.h * 0.15
        spots = []
        for _ in range(rng.randint(4, 7)):
            fx, fy, fr = rng.uniform(0.1, 0.9) * self.w, rng.uniform(top, self.h * 0.75), u * rng.uniform(0.022, 0.04)
            colour = shade(rng.choice(((250, 140, 40), (255, 220, 60), (80, 160, 240), (240, 90, 120))), dim)
            facing = rng.choice((-1, 1))
            self.d.ellipse((fx - fr, fy - fr * 0.55, fx + fr, fy + fr * 0.55), fill=colour)
            tail = fx - facing * fr
            self.d.polygon([(tail, fy), (tail - facing * fr * 0.7, fy - fr * 0.5), (tail - facing * fr * 0.7, fy + fr * 0.5)],
                           fill=colour)
            self.d.ellipse((fx + facing * fr * 0.5 - fr * 0.12, fy - fr * 0.2, fx + facing * fr * 0.5 + fr * 0.12,
                            fy + fr * 0.04), fill=(20, 20, 30))
            spots.append((fx - fr * 1.7, fy - fr * 0.6, fx + fr * 1.7, fy + fr * 0.6))
        self.noted("the fish", (min(b[0] for b in spots), min(b[1] for b in spots), max(b[2] for b in spots),
                                max(b[3] for b in spots)))

    def branch(self, x0: float, y0: float, length: float, angle: float, depth: int,
               colour: tuple[int, int, int]) -> None:
        """A branching coral's limb, and its two limbs, down to `depth`."""
        x1, y1 = x0 + math.cos(angle) * length, y0 - math.sin(angle) * length
        self.d.line([(x0, y0), (x1, y1)], fill=colour, width=max(1, int(self.unit * 0.012 * (depth + 1) / 3)))
        if depth:
            for turn in (-0.45, 0.45):
                self.branch(x1, y1, length * 0.72, angle + turn + self.rng.uniform(-0.15, 0.15), depth - 1, colour)

    def shop_front(self, x: float, base: float, dim: float) -> None:
        """A shop or café: wall, striped awning, a lit window (loaves on shelves for a bakery) and a door, with
        the brand on its sign when the scene names one in quotes or capitals."""
        rng, u = self.rng, self.unit
        w, h = u * 0.8, u * 0.5
        stripe = self.place_colour or PLACE_COLOURS[int(hashlib.sha256(self.s.text.encode()).hexdigest(), 16)
                                                    % len(PLACE_COLOURS)]
        self.d.rectangle((x - w / 2, base - h, x + w / 2, base), fill=shade((236, 222, 200), dim))
        self.d.rectangle((x - w / 2, base - h - u * 0.05, x + w / 2, base - h), fill=shade((120, 90, 70), dim))
        sign = (x - w * 0.3, base - h + u * 0.03, x + w * 0.3, base - h + u * 0.1)
        self.d.rounded_rectangle(sign, radius=int(u * 0.015), fill=shade(stripe, dim * 0.8))
        brand = self.s.brand
        if brand:
            from PIL import ImageFont

            from director.captions import font_file

            size = int((sign[3] - sign[1]) * 0.7)
            font = ImageFont.truetype(str(font_file()), size)
            while size > 8 and font.getlength(brand) > (sign[2] - sign[0]) * 0.92:
                size -= 2
                font = ImageFont.truetype(str(font_file()), size)
            self.d.text(((sign[0] + sign[2]) / 2, (sign[1] + sign[3]) / 2), brand, font=font, anchor="mm",
                        fill=(252, 248, 240))
            self.noted("the sign", sign)
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
        if self.s.has("bakery", "bread", "loaf", "loaves", "sourdough", "baguette", "baguettes", "bakers", "baker"):
            for shelf in (0.45, 0.85):  # loaves on two shelves behind the glass
                sy = win[1] + (win[3] - win[1]) * shelf
                self.d.line([(win[0], sy), (win[2], sy)], fill=shade((120, 85, 55), dim), width=max(1, int(u * 0.008)))
                lw = (win[2] - win[0]) / 4.6
                for k in range(4):
                    lx = win[0] + lw * (0.35 + k * 1.1)
                    self.d.ellipse((lx, sy - lw * 0.5, lx + lw, sy), fill=shade((196, 132, 64), dim))
                    self.d.line([(lx + lw * 0.3, sy - lw * 0.4), (lx + lw * 0.45, sy - lw * 0.15)],
                                fill=shade((236, 196, 136), dim), width=max(1, int(lw * 0.06)))
            self.noted("the loaves", win)
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
