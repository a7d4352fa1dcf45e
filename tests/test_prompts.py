"""Every prompt file renders; a missing variable is a clear error, not a blank."""

from __future__ import annotations

import pytest

from director.errors import ConfigError
from director.prompting import prompt_names, render

VARIABLES = {
    "goal": "a 3-scene bedtime story about a cat and a dog",
    "scenes": 3,
    "aspect": "16:9",
    "seconds_per_scene": 5,
    "dialogue": "some",
    "art_style": "soft watercolour",
    "scene": "Luna and Biscuit play in the garden",
    "characters": "Luna (cat): a ginger cat",
    "mode": "trailer",
    "style": "diorama",
    "audio": "mix",
    "music": "auto",
    "sources": [{"index": 1, "title": "Big Buck Bunny", "duration": 5.3, "plot": "A rabbit."}],
    "part": "model",
    "approve": True,
    "title": "Big Buck Bunny",
    "plot": "A rabbit wakes up.",
    "transcript": "Hello.",
    "subject": "a meadow",
    "lighting": "soft daylight",
    "palette": "green, sky blue",
    "mood": "calm",
    "duration": 30.0,
    "about": "a 3-scene bedtime story about a cat and a dog",
    "problem": "MALFORMED_FUNCTION_CALL",
    "detail": "no candidates",
    "character": "Luna",
    "place": "the lighthouse",
    "kind": "cat",
    "look": "a ginger cat with a blue scarf",
    "references": ["Luna", "Biscuit"],
    "fix": "Luna: her scarf is red, the sheet has blue",
    "count": 2,
    "shot": "wide shot, eye level",
    "motion": "Luna chases a leaf; slow push in; a quiet garden; a bird calls",
    "camera": "zoom in",
    "genre": "ambient lullaby",
    "instruments": "soft felt piano",
    "tempo": "slow, about 65 BPM",
    "seconds": 30,
}


def test_prompts_are_shipped():
    assert {"image.md", "story.md", "system.md"} <= set(prompt_names())


@pytest.mark.parametrize("name", prompt_names())
def test_every_prompt_renders(name):
    text = render(name, **VARIABLES)
    assert len(text) > 40
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("name", [n for n in prompt_names() if n.startswith("styles/")])
def test_every_style_has_a_local_part(name):
    local = render(name, **{**VARIABLES, "part": "local"})
    model = render(name, **VARIABLES)
    assert local != model and "a meadow" in local and "Big Buck Bunny" in model


def test_system_prompt_for_stories_and_trailers():
    story = render("system.md", **{**VARIABLES, "mode": "story"})
    trailer = render("system.md", **VARIABLES)
    assert "write_story" in story and "plan_trailer" not in story
    assert "make_music once" in story and "make_music" not in render("system.md", **{**VARIABLES, "music": "none"})
    assert "and seconds 30 (the length the user asked for)" in story
    assert "seconds" not in render("system.md", **{**VARIABLES, "mode": "story", "duration": None}).split("2.")[0]
    assert "plan_trailer" in trailer and '1. "Big Buck Bunny" (5 s; plot: A rabbit.)' in trailer


def test_image_prompt_is_one_narrative_sentence_then_the_scene_s_cast():
    """Google's image guide: describe the scene (shot, subject, setting, style, mood), don't list keywords."""
    text = render("image.md", art_style="soft watercolour", scene="Luna naps by the fire", shot="close-up, low angle",
                  characters="Luna (cat): a ginger cat", references=["Luna"], fix=None)
    first = text.splitlines()[0]
    assert first == ("Close-up, low angle: Luna naps by the fire. Painted as soft watercolour, with light and colour "
                     "that carry the moment's mood.")
    assert "Luna (cat): a ginger cat" in text and "Luna is <img>0</img>" in text
    assert text.endswith("No text, letters or typography anywhere in the image.")
    assert render("image.md", art_style="x", scene="a field", shot="", characters="", references=[],
                  fix=None).startswith("a field. Painted as x")


def test_missing_variable_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a variable"):
        render("image.md", art_style="x")


def test_unknown_prompt_is_a_config_error():
    with pytest.raises(ConfigError, match="not in the installed prompts"):
        render("nope.md")
