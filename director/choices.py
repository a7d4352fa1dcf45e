"""What a goal chooses from (frame shape, camera move, sound, resolution, tier, dialogue, transition), and the
frame sizes those choices make."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from director.state import Goal

Aspect = Literal["16:9", "9:16", "1:1"]
Motion = Literal["auto", "still", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]
"""Camera move of a clip: auto varies it by scene; still holds the picture."""
MOTION_CHOICES: tuple[str, ...] = get_args(Motion)

ASPECT_SIZES: dict[str, tuple[int, int]] = {
    "16:9": (1280, 720),
    "9:16": (720, 1280),
    "1:1": (1024, 1024),
}
AudioMode = Literal["narration", "source", "mix"]
Resolution = Literal["auto", "360p", "720p", "1080p", "4k"]
Tier = Literal["standard", "flex"]
ClipSound = Literal["auto", "keep", "off"]
Dialogue = Literal["none", "some", "lots"]
RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
FRAME_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "360p": {"16:9": (640, 360), "9:16": (360, 640), "1:1": (512, 512)},
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280), "1:1": (1024, 1024)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1440, 1440)},
    "4k": {"16:9": (3840, 2160), "9:16": (2160, 3840), "1:1": (2880, 2880)},
}
"""Frame size by resolution and aspect: the stills are drawn at the clips' size, and the cut keeps it. 360p is a
draft: a quarter of 720p's pixels, made quickly offline and at a third of 720p's price on Omni (Veo has no 360p)."""
Transition = Literal["cut", "crossfade", "fade", "slide"]
TRANSITIONS: tuple[str, ...] = get_args(Transition)


def frame_size(goal: Goal, aspect: str) -> tuple[int, int]:
    """The run's frame size: its resolution (720p until one is chosen) at this aspect."""
    return FRAME_SIZES.get(goal.resolution, FRAME_SIZES["720p"])[aspect]


SHEET_ASPECT = "1:1"


def sheet_inputs(goal: Goal) -> dict[str, object]:
    """A reference sheet's size as a tool's input. A sheet is a reference, not a frame: drawn at the square default
    whatever the resolution, but a draft (360p) draws it at its own smaller square, as it draws everything else."""
    size = frame_size(goal, SHEET_ASPECT)
    return {"size": list(size)} if size[0] < ASPECT_SIZES[SHEET_ASPECT][0] else {}


def input_size(inputs: object, default: tuple[int, int]) -> tuple[int, int]:
    """The frame size a call's inputs hold (size_inputs, sheet_inputs), else the default for its aspect."""
    size = inputs.get("size") if isinstance(inputs, Mapping) else None
    return (int(size[0]), int(size[1])) if size else default


def size_inputs(goal: Goal, aspect: str) -> dict[str, object]:
    """The frame size as a tool's input, only when it is not the 720p default: runs at 720p keep their memo keys."""
    size = frame_size(goal, aspect)
    return {"size": list(size)} if size != ASPECT_SIZES[aspect] else {}
