"""The local brain's revision grammar."""

from __future__ import annotations

import pytest

from director.errors import InputError
from director.revisions import parse
from director.state import Character, Scene, Storyboard


@pytest.fixture
def board() -> Storyboard:
    return Storyboard(title="T", art_style="s", characters=[Character(name="Bristle", kind="hedgehog", look="brown"),
                                                            Character(name="Flicker", kind="firefly", look="gold")],
                      scenes=[Scene(index=1, image_prompt="Bristle sits by the pond, morning",
                                    narration="Bristle sat. He waited."),
                              Scene(index=2, image_prompt="Bristle and Flicker watch the sunset",
                                    narration="They watched the sun go down.")])


@pytest.mark.parametrize("message,expected", [
    ("make scene 2 at night", {"updates": [{"scene": 2, "image_prompt": "Bristle and Flicker watch, at night"}]}),
    ("make scene 1 at dusk", {"updates": [{"scene": 1, "image_prompt": "Bristle sits by the pond, at dusk"}]}),
    ("Scene 1: Bristle wears a hat", {"updates": [{"scene": 1, "image_prompt": "Bristle sits by the pond, morning, Bristle wears a hat"}]}),
    ('scene 2 says "Goodnight, moon."', {"updates": [{"scene": 2, "narration": "Goodnight, moon."}]}),
    ("remove scene 1", {"remove": [1]}),
    ("now 9:16 for a phone", {"aspect": "9:16"}),
    ("make it square", {"aspect": "1:1"}),
    ("widescreen please", {"aspect": "16:9"}),
    ("voice en_US-joe-medium", {"voice": "en_US-joe-medium"}),
    ("faster narration", {"pace": 1.25}),
    ("shorter narration", {"updates": [{"scene": 1, "narration": "Bristle sat."}]}),
    ("no music", {"finish": {"music": "none"}}),
    ("calm music please", {"finish": {"music": "calm"}}),
    ("use crossfades", {"finish": {"transition": "crossfade"}}),
    ("fade to black between scenes", {"finish": {"transition": "fade"}}),
    ("hard cuts", {"finish": {"transition": "cut"}}),
    ("burn the captions", {"finish": {"captions": "burn"}}),
    ("karaoke captions", {"finish": {"captions": "burn", "caption_style": "karaoke"}}),
    ("add a title card", {"finish": {"title_card": True}}),
    ('end card: "Goodnight, Bristle!"', {"finish": {"end_card": "Goodnight, Bristle!"}}),
    ("no end card", {"finish": {"end_card": ""}}),
    ("cut scene 2", {"remove": [2]}),
    ("make Bristle's hat red", {"characters": [{"name": "Bristle", "look": "brown, with a red hat"}]}),
])
def test_grammar(board, message, expected):
    assert parse(message, board) == expected


@pytest.mark.parametrize("prompt", [
    "Luna and Biscuit play together in the sunny garden in golden late-afternoon light",
    "Luna chases Biscuit by the flower beds, leaves swirling in the warm sunset glow, sunset",
    "Luna and Biscuit discover an old map at the edge of the forest in bright morning sun, morning",
])
def test_a_new_time_of_day_replaces_the_old_one_and_the_sky_goes_dark(prompt):
    """'make scene 1 at night' used to leave 'afternoon' in the prompt, and the painter kept the sun up."""
    import numpy as np

    from director.backends.local.image import paint

    story = Storyboard(title="T", art_style="s", scenes=[Scene(index=1, image_prompt=prompt, narration="x")])
    [update] = parse("make scene 1 at night", story)["updates"]
    new = update["image_prompt"]
    assert new.endswith(", at night") and not any(w in new for w in ("afternoon", "sunset", "morning"))
    assert ("garden" in new) == ("garden" in prompt) and ("forest" in new) == ("forest" in prompt)  # the place stays

    def sky(p: str) -> float:
        return float(np.asarray(paint(p, width=320, height=180, seed=1).convert("L"))[:40].mean())

    assert sky(new) < 0.5 * sky(prompt)


def test_add_a_scene_names_the_cast(board):
    [new] = parse("add a scene where they nap", board)["add"]
    assert new == {"after": 2, "image_prompt": "Bristle and Flicker nap", "narration": "Then Bristle and Flicker nap."}
    [early] = parse("add a scene after scene 1 showing a storm rolls in", board)["add"]
    assert early["after"] == 1 and early["narration"] == "Then a storm rolls in."
    assert early["image_prompt"] == "a storm rolls in, morning"


def test_what_it_cannot_do(board):
    assert parse("make it pop", board) is None
    with pytest.raises(InputError, match="there is no scene 9; the story has scenes 1..2"):
        parse("make scene 9 at night", board)
    with pytest.raises(InputError, match="there is no scene 3"):
        parse("add a scene after scene 3 with a picnic", board)


def test_finishing_changes_redo_only_the_cut(tmp_path, capsys, fast):
    """'use crossfades' re-joins the clips; 'calm music' makes a new bed and re-mixes; 'no music' drops it.
    No still, voice or clip is made again."""
    import json

    from tests.helpers import db_rows, run_cli

    ws = tmp_path / "ws"

    def say(message: str) -> dict:
        mark = db_rows(ws / "director.db", "SELECT COALESCE(MAX(id), 0) FROM tool_calls")[0][0]
        result = run_cli(capsys, "say", "r", message, "--workspace", str(ws))
        assert result.code == 0, result.err
        made = db_rows(ws / "director.db", f"SELECT tool FROM tool_calls WHERE run_id='r' AND reused=0 AND "
                                           f"error IS NULL AND tool!='brain' AND id>{mark}")
        manifest = json.loads((ws / "runs" / "r" / "manifest.json").read_text())
        return {"made": sorted(t for (t,) in made), "manifest": manifest}

    result = run_cli(capsys, "make", "a 2-scene story about a fox", "--backend", "local", "--motion", "still",
                     "--workspace", str(ws), "--run-id", "r")
    assert result.code == 0, result.err
    first = json.loads((ws / "runs" / "r" / "manifest.json").read_text())
    assert first["music"] is not None and first["transition"]["kind"] == "cut"
    after = say("use crossfades")  # the scenes now overlap, so the sound is placed again too
    assert after["made"] == ["assemble_video", "mix_sound", "revise_storyboard"]
    assert after["manifest"]["transition"]["kind"] == "crossfade"
    after = say("calm music")
    assert after["made"] == ["assemble_video", "make_music", "mix_sound", "revise_storyboard"]
    assert after["manifest"]["music"]["sha256"] != first["music"]["sha256"]
    after = say("no music")
    assert after["made"] == ["assemble_video", "mix_sound", "revise_storyboard"]
    assert after["manifest"]["music"] is None and after["manifest"]["transition"]["kind"] == "crossfade"
    assert [s["image"] for s in after["manifest"]["scenes"]] == [s["image"] for s in first["scenes"]]


@pytest.mark.parametrize("message", ["make Dot's coat brown", "give Dot a red hat", "Dot's scarf is red",
                                     "please make Dot's hat blue"])
def test_a_look_change_for_someone_not_in_the_story_names_them_and_the_cast(board, message):
    b = board
    cast = ", ".join(c.name for c in b.characters)
    with pytest.raises(InputError, match=f"^there is no Dot in this story: its characters are {cast}$"):
        parse(message, b)
    first = b.characters[0].name
    assert parse(f"make {first}'s coat brown", b) is not None  # a cast member's look is still changed


@pytest.mark.parametrize("message, look", [
    ("make Bristle's coat grey", "grey"),  # the body's own colour changes: nothing is worn over it
    ("make Bristle's fur black", "black"),
])
def test_a_body_colour_change_recolours_the_character(board, message, look):
    [change] = parse(message, board)["characters"]
    assert change["look"] == look and "coat" not in change["look"] and "fur" not in change["look"]
