"""What the offline painter leaves in its pictures and how a figure is read back: shared by the painter
(image.py), the continuity check (vision.py) and Ken Burns (motion.py), so none of them imports another."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

FIGURE_KEY, BOXES_KEY, SUBJECTS_KEY = "director:figure", "director:boxes", "director:subjects"
"""PNG text chunks: a sheet's figure (its colours and kind), where each character was drawn in a still, and
where each subject was (the coral, the shop, its sign)."""

Box = list[int]
Signature = list[tuple[tuple[int, int, int], float]]


def png_text(image: Image.Image) -> dict[str, str]:
    """The text chunks the painter wrote. They come before the pixels, so they are read from the header (`info`)
    without decoding the picture, as `PngImageFile.text` would to find chunks after the pixels."""
    return {k: v for k, v in image.info.items() if isinstance(k, str) and isinstance(v, str)}


def _noted(image: Image.Image, key: str) -> dict[str, list[int]]:
    text = png_text(image)
    try:
        return {str(k): [int(v) for v in box] for k, box in json.loads(text.get(key, "{}")).items()}
    except (ValueError, TypeError, AttributeError):
        return {}


def boxes_of(image: Image.Image) -> dict[str, list[int]]:
    """Where the painter drew each character in this picture (empty for any other picture)."""
    return _noted(image, BOXES_KEY)


def subjects_of(image: Image.Image) -> dict[str, list[int]]:
    """Where the painter drew each subject of an ad, documentary or how-to in this picture."""
    return _noted(image, SUBJECTS_KEY)


def figure_signature(pixels: np.ndarray, box: Box | None) -> Signature:
    """The main colours of a figure drawn on a plain background: (colour, share of the figure), at most 4.

    The background is the colour of the picture's border; the figure is what differs from it."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).astype(np.int32)
    background = np.median(border, axis=0)
    region = pixels if box is None else pixels[box[1]:box[3], box[0]:box[2]]
    flat = region.reshape(-1, 3).astype(np.int32)
    figure = flat[np.abs(flat - background).sum(axis=1) > 40]
    if len(figure) == 0:
        return []
    codes = (figure[:, 0] // 32) * 64 + (figure[:, 1] // 32) * 8 + figure[:, 2] // 32
    counts = np.bincount(codes, minlength=512)
    found: Signature = []
    for code in np.argsort(-counts)[:4]:
        share = counts[code] / len(figure)
        if share < 0.06:
            break
        mean = figure[codes == code].mean(axis=0)
        found.append(((int(mean[0]), int(mean[1]), int(mean[2])), float(share)))
    return found
