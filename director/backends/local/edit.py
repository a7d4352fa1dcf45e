"""Local image editing and remixing with OpenCV and PIL.

edit_image understands a fixed set of named operations and finds them in the
instruction's words; an instruction that names none of them is refused with
the list of what it can do. remix cuts the subject out of one image (GrabCut
seeded by a centred box) and places it on another, following <img>N</img>.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from director.errors import ToolArgumentError
from director.media import write_png

Array = np.ndarray

# Operation -> words that ask for it. Order of application is the order here.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "cartoon": ("cartoon", "anime", "comic", "toon", "cel"),
    "sketch": ("sketch", "pencil", "drawing", "drawn"),
    "black-and-white": ("black-and-white", "black and white", "monochrome", "grayscale", "greyscale", "noir", "b&w"),
    "warmer": ("warmer", "warm", "golden", "sunset"),
    "cooler": ("cooler", "cool", "icy", "blue hour", "colder"),
    "brighter": ("brighter", "bright", "sunny", "lighter"),
    "darker": ("darker", "dark", "night", "moody", "dim"),
    "tilt-shift miniature": ("tilt-shift", "tilt shift", "miniature", "diorama", "toy", "model village"),
}
CAN_DO = ", ".join(OPERATIONS)


def parse_operations(instruction: str) -> list[str]:
    """The named operations an instruction asks for, in application order; [] when none."""
    text = " " + re.sub(r"\s+", " ", instruction.lower()) + " "
    found = []
    for op, words in OPERATIONS.items():
        if any(re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", text) for w in words):
            found.append(op)
    if "warmer" in found and "cooler" in found:
        found.remove("cooler")
    if "brighter" in found and "darker" in found:
        found.remove("brighter")
    return found


def _rgb(path: Path) -> Array:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def tilt_shift(img: Array, *, band: float = 0.28, centre: float = 0.58, quick: bool = False) -> Array:
    """Fake miniature: a sharp horizontal band, blur growing away from it, punchier colour. quick blurs a
    quarter-size copy and scales it back (for every frame of a clip: the blur is wide, so it looks the same)."""
    import cv2

    h, w = img.shape[:2]
    sigma = max(2.0, min(w, h) / 90)
    if quick:
        return _tilt_shift_quick(img, band=band, centre=centre, sigma=sigma)
    blurred = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, sigmaY=sigma)
    heavy = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma * 2.2, sigmaY=sigma * 2.2)
    y = np.linspace(0, 1, h)[:, None]
    distance = np.clip((np.abs(y - centre) - band / 2) / (0.5 - band / 2), 0, 1)
    light = np.clip(distance * 2, 0, 1)[..., None]
    strong = np.clip(distance * 2 - 1, 0, 1)[..., None]
    out = img * (1 - light) + blurred * light
    out = out * (1 - strong) + heavy * strong
    hsv = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.35, 0, 255)
    hsv[..., 2] = np.clip((hsv[..., 2] - 128) * 1.12 + 134, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _tilt_shift_quick(img: Array, *, band: float, centre: float, sigma: float) -> Array:
    """tilt_shift for every frame of a clip (about 4x faster): the blurs from a quarter-size copy, the blend in
    float32, and the colour punch as one affine mix with the grey (saturation 1.35, contrast 1.12)."""
    import cv2

    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    blurred = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigmaX=sigma / 4), (w, h), interpolation=cv2.INTER_LINEAR)
    heavy = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigmaX=sigma * 2.2 / 4), (w, h),
                       interpolation=cv2.INTER_LINEAR)
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    distance = np.clip((np.abs(y - centre) - band / 2) / (0.5 - band / 2), 0, 1)
    light, strong = np.clip(distance * 2, 0, 1), np.clip(distance * 2 - 1, 0, 1)
    out: Array = img.astype(np.float32)
    out += (blurred.astype(np.float32) - out) * light
    out += (heavy.astype(np.float32) - out) * strong
    grey = cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[..., None]
    out = (out * 1.35 - grey * 0.35 - 128) * 1.12 + 134
    return np.clip(out, 0, 255).astype(np.uint8)


def cartoon(img: Array) -> Array:
    import cv2

    smooth = img
    for _ in range(4):
        smooth = cv2.bilateralFilter(smooth, 9, 60, 9)
    quantised = (smooth // 32) * 32 + 16
    grey = cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 7)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    return cv2.bitwise_and(quantised.astype(np.uint8), quantised.astype(np.uint8), mask=edges)


def sketch(img: Array) -> Array:
    import cv2

    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    blur = cv2.GaussianBlur(255 - grey, (0, 0), sigmaX=8)
    dodge = cv2.divide(grey, 255 - blur, scale=256)
    return cv2.cvtColor(dodge, cv2.COLOR_GRAY2RGB)


def _shift(img: Array, r: float, b: float) -> Array:
    out = img.astype(np.float32)
    out[..., 0] *= r
    out[..., 2] *= b
    return np.clip(out, 0, 255).astype(np.uint8)


def _gamma(img: Array, g: float) -> Array:
    return np.clip(255 * (img / 255.0) ** g, 0, 255).astype(np.uint8)


APPLY: dict[str, Callable[[Array], Array]] = {
    "cartoon": cartoon,
    "sketch": sketch,
    "black-and-white": lambda a: np.repeat((a @ np.array([0.299, 0.587, 0.114]))[..., None], 3, axis=2).astype(np.uint8),
    "warmer": lambda a: _shift(a, 1.12, 0.86),
    "cooler": lambda a: _shift(a, 0.88, 1.14),
    "brighter": lambda a: _gamma(a, 0.75),
    "darker": lambda a: _gamma(a, 1.45),
    "tilt-shift miniature": tilt_shift,
}


def edit(image: Path, instruction: str, out: Path) -> list[str]:
    """Apply the operations named in `instruction`; returns them. ToolArgumentError if none."""
    from PIL import Image

    ops = parse_operations(instruction)
    if not ops:
        raise ToolArgumentError(f"the local editor cannot do {instruction[:80]!r}; it can do: {CAN_DO}")
    img = _rgb(image)
    for op in ops:
        img = APPLY[op](img)
    write_png(Image.fromarray(img), out)
    return ops


BACKGROUND_WORDS = re.compile(r"(onto|into|in|on|over|background|backdrop|scene|setting|behind)\W+(?:\w+\W+){0,3}$", re.I)


def remix_roles(prompt: str, count: int) -> tuple[int, int]:
    """(subject, background) image numbers from the prompt's <img>N</img> references."""
    from director.backends.base import image_refs

    refs = [(int(m.group(1)), m.start()) for m in image_refs(prompt, count)]
    distinct = list(dict.fromkeys(n for n, _ in refs))
    if len(distinct) < 2:
        raise ToolArgumentError("a remix needs two different images: name them as <img>0</img> and <img>1</img>, "
                                "e.g. 'put the subject of <img>0</img> into the scene of <img>1</img>'")
    background = next((n for n, at in refs if BACKGROUND_WORDS.search(prompt[max(0, at - 40):at])), distinct[-1])
    subject = next(n for n in distinct if n != background)
    return subject, background


def cut_out(img: Array) -> Array:
    """A soft foreground mask (0..1) for the main subject, by GrabCut from a centred box."""
    import cv2

    h, w = img.shape[:2]
    scale = 512 / max(h, w) if max(h, w) > 512 else 1.0
    small = cv2.resize(img, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else img
    sh, sw = small.shape[:2]
    mask = np.zeros((sh, sw), np.uint8)
    rect = (int(sw * 0.08), int(sh * 0.06), int(sw * 0.84), int(sh * 0.9))
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, rect, bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)
    # Typed as a plain Array: cv2.resize's stub widens the dtype the float32 mask keeps at run time.
    fg: Array = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    fg = cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(fg, (0, 0), sigmaX=max(1.0, min(w, h) / 300))


def remix(images: list[Path], prompt: str, *, size: tuple[int, int], out: Path) -> tuple[int, int]:
    """Composite the subject of one image onto another at `size`; returns (subject, background)."""
    import cv2
    from PIL import Image

    from director.media import cover

    subject_n, background_n = remix_roles(prompt, len(images))
    background = cover(_rgb(images[background_n]), size).astype(np.float32)
    subject = _rgb(images[subject_n])
    mask = cut_out(subject)
    ys, xs = np.nonzero(mask > 0.5)
    if len(ys) < 50:
        raise ToolArgumentError(f"no clear subject found in image {subject_n} to cut out")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    subject, mask = subject[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    w, h = size
    scale = min(h * 0.62 / subject.shape[0], w * 0.5 / subject.shape[1])
    nw, nh = max(1, int(subject.shape[1] * scale)), max(1, int(subject.shape[0] * scale))
    subject = cv2.resize(subject, (nw, nh), interpolation=cv2.INTER_AREA).astype(np.float32)
    mask = cv2.resize(mask, (nw, nh), interpolation=cv2.INTER_LINEAR)[..., None]
    left, top = (w - nw) // 2, h - nh - int(h * 0.06)
    region = background[top:top + nh, left:left + nw]
    background[top:top + nh, left:left + nw] = region * (1 - mask) + subject * mask
    write_png(Image.fromarray(np.clip(background, 0, 255).astype(np.uint8)), out)
    return subject_n, background_n


class LocalEditor:
    """Named edits and subject remixes, offline."""

    name = "local"
    model = "opencv-edit-v1"

    def edit_image(self, image: Path, instruction: str, *, out: Path, size: tuple[int, int] | None = None) -> None:
        edit(image, instruction, out)

    def remix_images(self, images: list[Path], prompt: str, *, width: int, height: int, out: Path) -> None:
        remix(images, prompt, size=(width, height), out=out)
