"""Local illustrator, Piper voice and Ken Burns motion produce real, varied media."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from PIL import Image

from director.backends.local.image import LocalIllustrator, paint
from director.backends.local.motion import KenBurns, camera
from director.backends.local.voice import PiperVoiceBackend
from director.errors import ToolArgumentError
from director.media import probe, scene_length
from director.prompting import render

SHEET = "Luna (cat): a ginger cat with green eyes; Biscuit (dog): a brown dog with a red bandana"


def prompt(scene: str, style: str = "warm picture-book illustration") -> str:
    return render("image.md", art_style=style, scene=scene, characters=SHEET, references=[], fix=None, shot="")


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float32)


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (1024, 1024)])
def test_illustration_has_the_requested_size(tmp_path, size):
    out = tmp_path / "a.png"
    LocalIllustrator().create_image(prompt("Luna and Biscuit in the garden, morning"), width=size[0], height=size[1],
                                    seed=0, out=out)
    with Image.open(out) as im:
        assert im.size == size and im.format == "PNG"


def test_illustration_is_deterministic_and_differs_per_scene():
    p1 = prompt("Luna and Biscuit play in the sunny garden, morning")
    p2 = prompt("Luna and Biscuit watch fireflies by the pond, night")
    a, b, c = (pixels(paint(p, width=640, height=360, seed=0)) for p in (p1, p1, p2))
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 20


def test_words_drive_the_picture():
    day = pixels(paint(prompt("Luna and Biscuit in the garden, midday"), width=640, height=360, seed=1))
    night = pixels(paint(prompt("Luna and Biscuit in the garden, night"), width=640, height=360, seed=1))
    assert night.mean() < day.mean() - 40  # night is measurably darker
    bw = pixels(paint(prompt("Luna in the garden", style="black-and-white ink noir"), width=640, height=360, seed=1))
    assert np.abs(bw[..., 0] - bw[..., 1]).max() < 2  # monochrome when the style asks for it


def test_the_cast_is_drawn_in_its_colours():
    # A ginger cat shows up as a patch of ginger pixels that the empty scene lacks.
    with_cat = pixels(paint(prompt("Luna sits in the snowy meadow, midday"), width=640, height=360, seed=3))
    empty = pixels(paint(render("image.md", art_style="warm picture-book illustration",
                                scene="the snowy meadow, midday", characters="", references=[], fix=None, shot=""),
                         width=640, height=360, seed=3))

    def ginger(a: np.ndarray) -> int:
        r, g, b = a[..., 0], a[..., 1], a[..., 2]
        return int(((r > 180) & (g > 90) & (g < 170) & (b < 100)).sum())

    assert ginger(with_cat) > 500 > ginger(empty)


def test_piper_speaks_and_length_follows_the_text(tmp_path):
    voice = PiperVoiceBackend(default_voice="en_US-joe-medium")
    short, long = tmp_path / "s.wav", tmp_path / "l.wav"
    voice.narrate("Hello there.", voice=None, out=short)
    voice.narrate("Once upon a time, a ginger cat and a brown dog played in the garden until the moon came up.",
                  voice=None, out=long)
    durations = []
    for path in (short, long):
        with wave.open(str(path)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            frames = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
            durations.append(w.getnframes() / w.getframerate())
            assert np.abs(frames).max() > 3000  # speech, not silence
    assert 0.4 < durations[0] < 2.5
    assert durations[1] > durations[0] * 3


def test_pace_changes_speed(tmp_path):
    voice = PiperVoiceBackend(default_voice="en_US-joe-medium")
    text = "The little fox ran all the way home."
    voice.narrate(text, voice=None, out=tmp_path / "n.wav")
    voice.narrate(text, voice=None, out=tmp_path / "f.wav", pace=1.5)
    with wave.open(str(tmp_path / "n.wav")) as n, wave.open(str(tmp_path / "f.wav")) as f:
        assert f.getnframes() < n.getnframes() * 0.85


def test_unknown_voice_is_a_tool_argument_error(tmp_path):
    with pytest.raises(ToolArgumentError, match="installed voices: en_US-joe-medium"):
        PiperVoiceBackend(default_voice="en_US-joe-medium").narrate("hi", voice="nope", out=tmp_path / "x.wav")


@pytest.mark.parametrize("motion", ["zoom_in", "pan_right"])
def test_ken_burns_clip_is_exact_and_moves(tmp_path, motion):
    still = tmp_path / "still.png"
    LocalIllustrator().create_image(prompt("Luna in the forest, morning"), width=640, height=360, seed=0, out=still)
    out = tmp_path / "clip.mp4"
    duration = scene_length(1.3, 30)
    KenBurns(crf=23, preset="ultrafast").animate(still, prompt="", duration=duration, motion=motion,
                                                 size=(640, 360), fps=30, out=out)
    p = probe(out)
    assert (p.width, p.height, p.video_codec, p.pix_fmt) == (640, 360, "h264", "yuv420p")
    assert p.frames == round(duration * 30)
    assert p.audio_codec is None
    import av

    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]
    assert np.abs(frames[0] - frames[-1]).mean() > 3  # the camera moved


def test_still_motion_holds_the_picture_for_whole_frames(tmp_path):
    import av

    from director.media import hold_still

    still = tmp_path / "still.png"
    LocalIllustrator().create_image(prompt("Luna in the forest, morning"), width=800, height=800, seed=0, out=still)
    out = tmp_path / "held.mp4"
    hold_still(still, out, size=(640, 360), duration=1.3, fps=30, crf=23, preset="ultrafast")
    p = probe(out)
    assert (p.width, p.height, p.fps, p.frames, p.audio_codec) == (640, 360, 30.0, 39, None)
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(np.float32) for f in c.decode(video=0)]
    assert np.abs(frames[0] - frames[-1]).mean() < 1.0  # no camera
    assert frames[0].std() > 10  # and it is the picture, not a blank


def test_camera_moves_stay_inside_the_picture():
    w, h = 1280, 720
    for motion in ("zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"):
        for p in (0.0, 0.5, 1.0):
            z, cx, cy = camera(motion, p, w, h)
            assert z >= 1.0
            assert cx - w / (2 * z) >= -1e-6 and cx + w / (2 * z) <= w + 1e-6
            assert cy - h / (2 * z) >= -1e-6 and cy + h / (2 * z) <= h + 1e-6


def test_ken_burns_planes_match_an_rgb_warp():
    """Warping the I420 planes (fast path) gives the picture an RGB warp would."""
    import cv2

    from director.backends.local.motion import kenburns_frames

    still = np.asarray(paint(prompt("Luna by the lake, sunset"), width=640, height=360, seed=3).convert("RGB"))
    h, w = still.shape[:2]
    for motion in ("zoom_in", "pan_left", "pan_down"):
        frames = [f.copy() for f in kenburns_frames(still, motion, 9)]
        for index in (0, 4, 8):
            z, cx, cy = camera(motion, index / 8, w, h)
            x0, y0 = cx - w / (2 * z), cy - h / (2 * z)
            rgb = cv2.warpAffine(still, np.array([[z, 0.0, -x0 * z], [0.0, z, -y0 * z]]), (w, h),
                                 flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            got = cv2.cvtColor(frames[index], cv2.COLOR_YUV2RGB_I420).astype(np.float32)
            assert np.abs(got - rgb.astype(np.float32)).mean() < 1.0, (motion, index)  # I420 round trip alone: ~0.5
        assert np.abs(frames[0].astype(np.float32) - frames[-1]).mean() > 3  # it moved


def test_the_painter_is_deterministic_with_film_grain():
    """A soft or watercolour style adds grain: it must come from the seed, not from C's rand()."""
    import numpy as np

    from director.backends.local.image import paint

    first = np.asarray(paint("soft daylight. a fox in a meadow", width=320, height=180, seed=3))
    again = np.asarray(paint("soft daylight. a fox in a meadow", width=320, height=180, seed=3))
    other = np.asarray(paint("soft daylight. a fox in a meadow", width=320, height=180, seed=4))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_a_slow_narrator_is_read_slower_and_the_writer_writes_fewer_words_for_it(tmp_path):
    """Piper reads no direction: a persona that asks for a slow reading (a bedtime storyteller) stretches its
    length_scale, and the offline writer fits fewer words to a length, so a bedtime story is not read at 190
    words a minute and still lasts what was asked (tests/test_story_goals.py renders one)."""
    from director.backends.local.story import NARRATORS, write_local_story
    from director.backends.local.voice import PiperVoiceBackend, reading_rate, stretch
    from director.media import probe

    voice = PiperVoiceBackend(default_voice="en_US-joe-medium", cache_dir=tmp_path / "cache")
    text = "The little fox curled up under the old oak tree. Above her, the stars came out one by one."
    plain, slow = tmp_path / "plain.wav", tmp_path / "slow.wav"
    voice.narrate(text, voice=None, out=plain)
    voice.narrate(text, voice=None, out=slow, style=NARRATORS["bedtime"])
    words = len(text.split())
    fast_wpm, slow_wpm = (words / probe(p).duration * 60 for p in (plain, slow))
    assert stretch(NARRATORS["bedtime"]) == 1.4 and stretch(NARRATORS["adventure"]) == stretch(None) == 1.0
    assert fast_wpm > 180 and 135 < slow_wpm < 165, (fast_wpm, slow_wpm)
    assert abs(probe(slow).duration / probe(plain).duration - 1 / reading_rate(NARRATORS["bedtime"])) < 0.08

    def written(goal: str) -> int:
        return sum(len(s.narration.split()) for s in write_local_story(goal, scenes=3, seed=1, seconds=30).scenes)

    assert written("a bedtime story about a fox and an owl") < written("an adventure story about a fox and an owl")


@pytest.mark.parametrize("place", ["sit side by side in a kelp forest watching", "swim past the coral reef",
                                   "play in the meadow", "wait by the lighthouse"])
def test_a_night_revision_is_darker_than_the_day_it_replaces(place):
    """'make scene 2 at night' under the sea once gave a brighter frame with a sun in it: every place is darker
    at night, its sky most of all."""
    from director.backends.local.image import paint

    def lum(light: str) -> tuple[float, float]:
        picture = np.asarray(paint(f"Pip and Dot {place}, {light}. Painted as soft watercolour.", width=320,
                                   height=180, seed=1).convert("L"), dtype=float)
        return picture.mean(), picture[:60].mean()

    (day, day_sky), (night, night_sky) = lum("morning"), lum("at night")
    assert night < 0.85 * day and night_sky < 0.7 * day_sky, (day, night, day_sky, night_sky)


def test_a_look_revision_recolours_the_character_and_keeps_the_layout():
    """'make Shelly's coat brown' once redrew every scene with a new layout and left her green: a scene's layout
    comes from the scene and the seed alone, and a sheet follows the new colour."""
    from director.backends.local.image import paint
    from director.backends.local.scene import CAST_LINE, SHEET

    scene = "Wide shot: Shelly the turtle rests by the pond in a quiet garden, morning. Painted as soft watercolour."

    def still(look: str) -> np.ndarray:
        return np.asarray(paint(f"{scene}\n{CAST_LINE} Shelly (turtle): {look}.", width=320, height=180, seed=1),
                          dtype=float)

    def sheet(look: str) -> np.ndarray:
        return np.asarray(paint(f"Painted as soft watercolour. {SHEET}Shelly the turtle: {look}.", width=320,
                                height=180, seed=1), dtype=float)

    green, brown = still("a small green turtle"), still("a small brown turtle")
    changed = np.abs(green - brown).sum(axis=2) > 30
    assert 0 < changed.mean() < 0.05  # only the turtle: the same composition around her
    assert np.abs(sheet("a small green turtle") - sheet("a small brown turtle")).mean() > 4.0  # visibly recoloured


@pytest.mark.parametrize("kind, body", [("mole", "quad"), ("badger", "quad"), ("otter", "quad"), ("goose", "bird"),
                                        ("bee", "firefly"), ("dolphin", "fish"), ("lighthouse keeper", "person"),
                                        ("librarian", "person")])
def test_an_animal_the_goal_names_gets_an_animal_s_body(kind, body):
    """'Dot the mole' was drawn as a boy: an animal gets a body of its kind; only roles are people."""
    from director.backends.local.scene import archetype

    assert archetype(kind) == body


@pytest.mark.parametrize(("look", "plain"), [("a spotted white dog", "a white dog"),
                                             ("a calico cat", "a white cat"),
                                             ("a striped grey cat", "a grey cat")])
def test_a_coat_the_look_names_is_drawn(tmp_path, look, plain):
    """Spots, stripes and a calico's patches: dark marks on the body that the plain coat does not have."""
    import numpy as np
    from PIL import Image

    from director.backends.local.image import LocalIllustrator
    from director.backends.local.marks import boxes_of

    def dark_share(description: str) -> float:
        kind = description.split()[-1]
        out = tmp_path / f"{description}.png"
        LocalIllustrator().create_image(f"Rex in the meadow, midday.\nCharacters, drawn the same way in every scene: "
                                        f"Rex ({kind}): {description}", width=640, height=360, seed=4, out=out)
        with Image.open(out) as im:
            x0, y0, x1, y1 = boxes_of(im)["Rex"]
            body = np.asarray(im.convert("RGB"))[y0:y1, x0:x1].astype(int)
        return float((body.sum(axis=2) < 200).mean())

    assert dark_share(look) > dark_share(plain) + 0.01
