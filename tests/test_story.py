"""The local story writer: deterministic, goal-driven, honest about its cast."""

from __future__ import annotations

import pytest

from director.api import make_goal, scenes_from_goal
from director.backends.local.story import write_local_story
from director.errors import InputError


def test_same_goal_same_story():
    a = write_local_story("a bedtime story about a cat and a dog", scenes=5, seed=0)
    b = write_local_story("a bedtime story about a cat and a dog", scenes=5, seed=0)
    assert a == b


def test_different_goals_give_visibly_different_stories():
    goals = ["a bedtime story about a cat and a dog", "a treasure hunt in space with a robot",
             "two penguins become friends in the snow", "a dragon and a knight at the castle"]
    stories = [write_local_story(g, scenes=4, seed=0) for g in goals]
    assert len({s.title for s in stories}) == len(goals)
    prompts = [tuple(sc.image_prompt for sc in s.scenes) for s in stories]
    assert len(set(prompts)) == len(goals)
    narrations = [" ".join(sc.narration for sc in s.scenes) for s in stories]
    assert len(set(narrations)) == len(goals)


def test_seed_changes_the_details_not_the_shape():
    a = write_local_story("a story about a cat", scenes=3, seed=0)
    b = write_local_story("a story about a cat", scenes=3, seed=7)
    assert len(a.scenes) == len(b.scenes) == 3
    assert a.characters[0].kind == b.characters[0].kind == "cat"


def test_characters_named_in_the_goal_appear():
    story = write_local_story("a bedtime story about Miso the cat and a dog called Pickle", scenes=4, seed=0)
    names = {c.name for c in story.characters}
    assert {"Miso", "Pickle"} <= names
    text = " ".join(s.narration + " " + s.image_prompt for s in story.scenes)
    assert "Miso" in text and "Pickle" in text
    kinds = {c.name: c.kind for c in story.characters}
    assert kinds["Miso"] == "cat" and kinds["Pickle"] == "dog"


def test_species_in_goal_become_the_cast_with_looks():
    story = write_local_story("a cat and a dog play in the garden", scenes=3, seed=0)
    kinds = [c.kind for c in story.characters]
    assert kinds[:2] == ["cat", "dog"]
    assert all(len(c.look.split()) >= 4 for c in story.characters)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12, 50])
def test_exact_scene_count_with_one_or_two_sentences(n):
    story = write_local_story("an adventure about a fox", scenes=n, seed=0)
    assert len(story.scenes) == n
    for scene in story.scenes:
        sentences = [s for s in scene.narration.replace("!", ".").replace("?", ".").split(".") if s.strip(' "')]
        assert 1 <= len(sentences) <= 3, scene.narration
        assert len(scene.image_prompt.split()) <= 45


def test_scene_count_from_goal_text():
    assert scenes_from_goal("a 5-scene bedtime story") == 5
    assert scenes_from_goal("a story in three scenes") == 3
    assert scenes_from_goal("a story") is None
    assert make_goal("a 5-scene story", scenes=None, aspect="16:9", seed=0, voice=None, default_scenes=4).scenes == 5
    assert make_goal("a 5-scene story", scenes=2, aspect="16:9", seed=0, voice=None, default_scenes=4).scenes == 2


@pytest.mark.parametrize("kw,msg", [
    ({"text": "  ", "scenes": 3, "aspect": "16:9"}, "goal is empty"),
    ({"text": "x", "scenes": 0, "aspect": "16:9"}, "from 1 to 50"),
    ({"text": "x", "scenes": 51, "aspect": "16:9"}, "from 1 to 50"),
    ({"text": "a 60-scene story", "scenes": None, "aspect": "16:9"}, "from 1 to 50"),
    ({"text": "x", "scenes": 2, "aspect": "4:3"}, "unknown aspect"),
])
def test_goal_validation(kw, msg):
    with pytest.raises(InputError, match=msg):
        make_goal(kw["text"], scenes=kw["scenes"], aspect=kw["aspect"], seed=0, voice=None, default_scenes=4)


@pytest.mark.parametrize("goal, names", [
    ("Pip the hedgehog and Dot the mole dig a tunnel to the sea", ["Pip", "Dot"]),  # a kind with no looks is kept
    ("a birthday video for my grandma who loves gardening and her cat Mitzi", ["Grandma", "Mitzi"]),
    ("a fox called Fern and a badger called Bramble share a den", ["Fern", "Bramble"]),
])
def test_the_named_cast_survives_offline(goal, names):
    from director.backends.local.story import LocalStoryWriter

    draft = LocalStoryWriter().write_story(goal, scenes=3, seed=0)
    assert [c.name for c in draft.characters][:len(names)] == names
    told = " ".join(s.narration for s in draft.scenes)
    assert all(name in told for name in names), told


@pytest.mark.parametrize("goal, subject", [
    ("explain how a robot vacuum finds its way around a flat", "how a robot vacuum finds its way around a flat"),
    ("please describe the water cycle in 3 scenes", "the water cycle"),
    ("show me how the heart of a whale works", "how the heart of a whale works"),
])
def test_a_goal_put_as_a_request_is_told_not_pasted(goal, subject):
    from director.backends.local.story import LocalStoryWriter
    from director.backends.local.subjects import subject_of

    assert subject_of(goal) == subject
    told = " ".join(s.narration for s in LocalStoryWriter().write_story(goal, scenes=3, seed=0).scenes).lower()
    assert not any(word in told for word in ("explain", "describe", "show me")), told


@pytest.mark.parametrize("goal, thing", [("a product teaser for a new electric bike", "electric bike"),
                                         ("a product video for the Zephyr 2 headphones", "Zephyr 2 headphones")])
def test_a_product_teaser_shows_the_product_not_two_animals(goal, thing):
    from director.backends.local.story import LocalStoryWriter

    draft = LocalStoryWriter().write_story(goal, scenes=4, seed=0)
    assert draft.characters == []  # no fox and firefly
    assert all(thing in s.image_prompt for s in draft.scenes)
    assert thing.split()[-1] in " ".join(s.narration for s in draft.scenes)


def test_a_spooky_lead_keeps_the_animal_the_goal_gives_them():
    from director.backends.local.story import LocalStoryWriter

    draft = LocalStoryWriter().write_story("a spooky 4-scene story about a lighthouse keeper and a black cat",
                                           scenes=4, seed=0)
    keeper, cat = draft.characters
    assert keeper.name == "the lighthouse keeper" and cat.kind == "cat" and "black" in cat.look
    told = " ".join(s.narration for s in draft.scenes)
    assert f"{cat.name} the cat" in told and sum(cat.name in s.image_prompt for s in draft.scenes) >= 2


def test_a_birthday_video_is_for_the_person_and_what_they_love():
    from director.backends.local.story import LocalStoryWriter

    goal = "a birthday video for my grandma who loves gardening and her cat Mitzi"
    draft = LocalStoryWriter().write_story(goal, scenes=4, seed=0)
    assert [c.name for c in draft.characters] == ["Grandma", "Mitzi"]
    told = " ".join(s.narration for s in draft.scenes)
    assert "Happy birthday, Grandma!" in told and "gardening" in told and "Mitzi the cat" in told
    assert "garden" in " ".join(s.image_prompt for s in draft.scenes)


@pytest.mark.parametrize(("goal", "seed"), [("a 2-scene story about two penguins in the snow", 7),
                                            ("a 2-scene story about two penguins in the snow", 3),
                                            ("a 1-scene story about a sleepy owl", 0),
                                            ("a story about Max the dog and Max the cat", 0)])
def test_every_character_has_a_name_of_their_own(goal, seed):
    """Sheets, voices and lines are kept by name: two penguins both called Pip looped a run to its step limit."""
    names = [c.name.lower() for c in write_local_story(goal, scenes=2, seed=seed).characters]
    assert len(names) == len(set(names)) >= 2, names


def test_a_model_story_with_one_name_twice_is_asked_for_again():
    from types import SimpleNamespace

    from director.tools.write_story import WriteStoryInput, write_story

    from director.errors import ProviderError
    from director.state import Character

    draft = write_local_story("a 2-scene story about a fox and an owl", scenes=2, seed=0)
    twins = draft.model_copy(update={"characters": [Character(name="Pip", kind="fox", look="a red fox"),
                                                    Character(name="pip", kind="owl", look="a brown owl")]})
    story = SimpleNamespace(name="gemini", model="gemini-3-flash", write_story=lambda *a, **k: twins)
    ctx = SimpleNamespace(inputs={}, seed=0, backends=SimpleNamespace(story=story), warn=lambda m: None)
    with pytest.raises(ProviderError, match="two characters the name 'pip'") as caught:
        write_story.fn(WriteStoryInput(goal="a fox and an owl", scenes=2), ctx)
    assert caught.value.retryable
