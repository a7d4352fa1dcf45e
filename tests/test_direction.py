"""The writer directs the camera and the voice, and the offline backends follow it too: each scene has a shot
and a motion line, the story a narrator; the painter frames by the shot, Ken Burns moves as the line says."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from director.backends.local.marks import boxes_of
from director.backends.local.story import CAMERA, NARRATORS, camera_move, write_local_story
from tests.helpers import db_rows


@pytest.mark.parametrize("goal, genre", [
    ("a 4-scene bedtime story about a fox and an owl", "bedtime"),
    ("a spooky 3-scene story about a lighthouse keeper and a black cat", "spooky"),
    ("a 30-second ad for Bean There, a coffee shop", "ad"),
])
def test_the_offline_writer_gives_every_scene_a_shot_a_motion_and_the_story_a_narrator(goal, genre):
    draft = write_local_story(goal, scenes=4, seed=3)
    assert draft.narrator == NARRATORS[genre]
    shots = [s.shot for s in draft.scenes]
    assert shots[0].startswith("wide shot") and shots[-1].startswith("wide shot")  # it opens and ends wide
    for scene in draft.scenes:
        move = camera_move(scene.motion)
        assert move is not None and CAMERA[move] in scene.motion  # one camera move a camera operator names
        assert scene.motion.count(";") == 3  # what moves; the camera; the ambience; a sound cue
    assert len({camera_move(s.motion) for s in draft.scenes}) == len(draft.scenes)  # varied scene to scene


def test_the_painter_frames_the_cast_by_the_shot(tmp_path):
    from director.backends.local.image import LocalIllustrator

    sizes = {}
    for shot in ("Close-up, slightly low angle", "Wide shot, eye level"):
        out = tmp_path / f"{shot[:4]}.png"
        LocalIllustrator().create_image(f"{shot}: Pip the cat in the garden at noon. Painted as gouache.\n"
                                        f"Characters, drawn the same way in every scene: Pip (cat): a ginger cat.",
                                        width=640, height=360, seed=1, out=out)
        with Image.open(out) as im:
            x0, y0, x1, y1 = boxes_of(im)["Pip"]
        sizes[shot] = (x1 - x0) * (y1 - y0)
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 360  # whole in frame either way
    assert sizes["Close-up, slightly low angle"] > 1.3 * sizes["Wide shot, eye level"]


def test_ken_burns_moves_as_the_scene_s_motion_line_says(tmp_path, fast):
    from director.api import Director

    run = Director(tmp_path / "ws", backend="local").submit("a 3-scene story about a fox and an owl", motion="auto")
    assert run.status == "done", run.error
    manifest = run.manifest()
    made = {json.loads(a)["scene"]: json.loads(r)["motion"] for a, r in db_rows(
        tmp_path / "ws" / "director.db", "SELECT args_json, result_json FROM tool_calls WHERE tool='animate_image'")}
    for scene in manifest["scenes"]:
        said = camera_move(scene["motion"])
        assert said is not None and made[scene["index"]] == said, (scene["motion"], made)
    assert len(made) == 3 and manifest["narrator"]
