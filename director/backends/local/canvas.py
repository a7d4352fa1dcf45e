"""The offline painter's canvas: the supersampling factor and what every part of the painter draws on."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from director.backends.local.palette import RGB, Look
from director.backends.local.scene import Scene

SS = 2  # supersampling factor: paint big, shrink with LANCZOS for clean edges


class Canvas:
    """The state the painter's parts share, set by Painter.__init__ (image.py): declared here so each part,
    a mixin in its own module, type-checks on its own."""

    s: Scene
    w: int
    h: int
    """The canvas in pixels: the output's size times SS."""
    rng: random.Random
    look: Look
    img: Image.Image
    d: ImageDraw.ImageDraw
    unit: int
    """The canvas's shorter side: what the parts measure their shapes in."""
    indoor: bool
    place_colour: RGB | None
    boxes: dict[str, list[int]]
    horizon: int
