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
    "art_style": "soft watercolour",
    "scene": "Luna and Biscuit play in the garden",
    "characters": "Luna (cat): a ginger cat",
}


def test_prompts_are_shipped():
    assert {"image.md", "story.md", "system.md"} <= set(prompt_names())


@pytest.mark.parametrize("name", prompt_names())
def test_every_prompt_renders(name):
    text = render(name, **VARIABLES)
    assert len(text) > 40
    assert "{{" not in text and "{%" not in text


def test_image_prompt_carries_style_and_cast():
    text = render("image.md", art_style="soft watercolour", scene="Luna naps", characters="Luna (cat): a ginger cat")
    assert text.startswith("soft watercolour. Luna naps")
    assert "Luna (cat): a ginger cat" in text
    assert "No text" in text


def test_missing_variable_is_a_config_error():
    with pytest.raises(ConfigError, match="needs a variable"):
        render("image.md", art_style="x")


def test_unknown_prompt_is_a_config_error():
    with pytest.raises(ConfigError, match="not in the installed prompts"):
        render("nope.md")
