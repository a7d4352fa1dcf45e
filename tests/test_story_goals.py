"""The offline writer follows the goal: its genre, subject, brand, lead and length, and it says
in a warning line what it cannot do (facts, other languages, goals it does not understand)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter

import pytest

from director.backends.local.story import goal_notes, write_local_story
from director.goals import duration_from_goal, make_goal
from director.media import probe
from tests.helpers import module_director, run_cli

# goal, scenes (None: from the goal), words the narration must use, words the title must use,
# and the warning the writer must give (None: no warning at all).
GOALS = [
    ("a 6-scene documentary about how bees make honey", 6, ["bees", "honey"], [], "knows no facts"),
    ("a 30-second ad for a coffee shop", None, ["coffee shop", "coffee"], ["Coffee"], None),
    ("a 30-second ad for a coffee shop called Bean There", None, ["Bean There", "coffee"], ["Bean There"], None),
    ("a spooky story about a lighthouse keeper", 4, ["lighthouse keeper", "stormy"], ["Lighthouse Keeper"], None),
    ("a one-minute explainer on black holes", None, ["black holes"], ["Black Holes"], "knows no facts"),
    ("how to make pancakes", 5, ["pancakes", "Step one"], ["Pancakes"], "knows no facts"),
    ("a sci-fi story about robots on Mars", 4, ["robot", "Mars"], ["Robot"], None),
    ("a promo for handmade candles", 4, ["handmade candles"], ["Handmade Candles"], None),
    ("an ad for a bakery called Crumbs & Co", 4, ["Crumbs & Co", "bread"], ["Crumbs & Co"], None),
    ("a haunted house mystery for Halloween", 4, ["lantern"], [], None),
    ("a 3-scene bedtime story about a cat and a dog", None, ["cat", "dog", "sleep"], [], None),
    ("an adventure with a pirate and a parrot", 5, ["map", "Captain Patch"], [], None),
    ("a story about Pip the penguin", 3, ["Pip"], [], None),
    ("une histoire de chat et de chien pour dormir", 4, ["cat", "dog"], [], "reads as French"),
    ("un cuento de un gato y un perro en la playa", 4, ["cat", "dog"], [], "reads as Spanish"),
    ("eine Geschichte über einen Fuchs und eine Eule im Wald", 4, ["fox"], [], "reads as German"),
    ("🐱🐶🌙", 4, ["cat", "dog", "moon"], [], None),
    ("a documentary about the history of Paris", 5, ["history of Paris"], ["Paris"], "knows no facts"),
    ("a 45-second tutorial on tying a tie", None, ["tying a tie"], ["Tying a Tie"], "knows no facts"),
    ("a video", 3, [], [], "generic friendship story"),
    ("a ghost story on a snowy mountain", 4, ["lantern"], [], None),
    ("an explainer about why the sky is blue", 4, ["why the sky is blue"], [], "knows no facts"),
]


def story_for(goal: str, scenes: int | None):
    spec = make_goal(goal, scenes=scenes, aspect="16:9", seed=0, voice=None, default_scenes=4)
    return spec, write_local_story(spec.text, scenes=spec.scenes, seed=0, seconds=spec.duration)


@pytest.mark.parametrize("goal,scenes,words,title,warning", GOALS, ids=[g[0][:40] for g in GOALS])
def test_the_offline_story_follows_the_goal(goal, scenes, words, title, warning):
    spec, draft = story_for(goal, scenes)
    assert len(draft.scenes) == spec.scenes
    narration = " ".join(s.narration for s in draft.scenes)
    for word in words:
        assert word.lower() in narration.lower(), (word, narration)
    for word in title:
        assert word.lower() in draft.title.lower(), (word, draft.title)
    assert draft.title[:1].isupper() and all(s.narration[:1].isupper() for s in draft.scenes)
    notes = goal_notes(goal)
    if warning is None:
        assert notes == []
    else:
        assert len(notes) == 1 and warning in notes[0] and "\n" not in notes[0]


def test_an_english_goal_does_not_load_the_language_model():
    """The model takes 0.8 s to load; a plain English goal is known without it, at every make."""
    from director.backends.local.language import _identifier, language_of

    _identifier.cache_clear()
    assert language_of("a 3-scene bedtime story about a cat and a dog") == "en"
    assert goal_notes("a 30-second ad for a coffee shop") == []
    assert _identifier.cache_info().currsize == 0
    assert language_of("une histoire de chat et de chien pour dormir") == "fr"
    assert _identifier.cache_info().currsize == 1


def test_different_goals_never_share_their_narration():
    narrations = {goal: " ".join(s.narration for s in story_for(goal, scenes)[1].scenes)
                  for goal, scenes, *_ in GOALS}
    for (a, x), (b, y) in itertools.combinations(narrations.items(), 2):
        assert x != y, (a, b)
    # The goals the issue found telling one story word for word now tell four.
    same = [narrations[g] for g in ("a spooky story about a lighthouse keeper", "🐱🐶🌙",
                                    "une histoire de chat et de chien pour dormir",
                                    "un cuento de un gato y un perro en la playa")]
    assert len(set(same)) == 4


def test_a_length_in_the_goal_sets_the_scenes_and_the_words():
    assert duration_from_goal("a 30-second ad for a coffee shop") == 30
    assert duration_from_goal("a one-minute explainer on black holes") == 60
    assert duration_from_goal("a 3-scene story about a fox who runs 5 minutes late") is None
    ad = make_goal("a 30-second ad for a coffee shop", scenes=None, aspect="16:9", seed=0, voice=None,
                   default_scenes=4)
    assert ad.duration == 30 and ad.scenes == 5
    # The scene count the goal gives wins; the words per scene follow the length.
    short = write_local_story("a 3-scene bedtime story about a fox", scenes=3, seed=0, seconds=15, dialogue="none")
    long = write_local_story("a 3-scene bedtime story about a fox", scenes=3, seed=0, seconds=45, dialogue="none")
    count = lambda d: sum(len(s.narration.split()) for s in d.scenes)  # noqa: E731
    assert count(long) > 2 * count(short)


@pytest.fixture(scope="module")
def timed(tmp_path_factory):
    """Three local runs asked for a length, rendered for real (Piper reads the narration)."""
    with module_director(tmp_path_factory) as (director, ws):
        runs = {}
        for run_id, goal, extra in (("ad", "a 30-second ad for a coffee shop called Bean There", {}),
                                    ("doc", "a one-minute explainer on black holes", {}),
                                    ("fox", "a bedtime story about a fox and an owl", {"duration": 20})):
            runs[run_id] = director.submit(goal, run_id=run_id, motion="still", music="none", **extra)
            assert runs[run_id].status == "done", runs[run_id].error
        yield runs


@pytest.mark.parametrize("run_id,seconds", [("ad", 30), ("doc", 60), ("fox", 20)])
def test_the_video_lasts_what_was_asked_within_ten_percent(timed, run_id, seconds):
    run = timed[run_id]
    length = probe(run.final).duration
    assert abs(length - seconds) <= 0.1 * seconds, (run_id, length)
    manifest = json.loads((run.final.parent / "manifest.json").read_text())
    assert manifest["goal"]["duration"] == seconds


def test_the_cli_says_what_the_writer_cannot_do(tmp_path, capsys, fast):
    ws = str(tmp_path / "ws")
    result = run_cli(capsys, "make", "une histoire de chat et de chien pour dormir", "--scenes", "1",
                     "--backend", "local", "--motion", "still", "--music", "none", "--workspace", ws)
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "French" in warnings[0] and "English" in warnings[0]
    result = run_cli(capsys, "make", "a fox", "--duration", "2", "--workspace", ws)
    assert result.code == 2 and result.err.count("\n") == 1 and "duration must be from 5 to 600" in result.err
    result = run_cli(capsys, "make", "a fox", "--duration", "30", "--source", "x.mp4", "--workspace", ws)
    assert result.code == 2 and "--duration applies to stories" in result.err


@pytest.mark.parametrize("goal", [
    "a one-minute documentary about coral reefs", "a 90-second explainer on how volcanoes erupt",
    "a 2-minute documentary about honey bees", "a 60-second ad for a bakery called Crumbs",
    "a 3-minute documentary about the ocean", "a 2-minute bedtime story about a hedgehog and a mole",
])
def test_no_line_is_said_twice_when_the_writer_fills_a_length(goal):
    """Filling a length never repeats a sentence the film already says (a coral-reef film said two lines twice)."""
    seconds = duration_from_goal(goal)
    for scenes in (6, 9):
        draft = write_local_story(goal, scenes=scenes, seed=0, seconds=seconds)
        said = Counter(s.strip() for scene in draft.scenes for s in re.findall(r"[^.!?]+[.!?]+", scene.narration))
        assert [s for s, n in said.items() if n > 1] == [], (goal, scenes)


@pytest.mark.parametrize("goal, subject", [
    ("a short film about recycling plastic", "recycling plastic"),
    ("a video explaining photosynthesis for kids", "photosynthesis"),
    ("a little film on composting at home", "composting at home"),
])
def test_a_goal_about_a_subject_with_no_genre_word_is_a_film_about_it(goal, subject):
    """No genre word, no animal and no one to lead a story: the subject is the film's, never dropped for a
    friendship story about two animals."""
    draft = write_local_story(goal, scenes=4, seed=0)
    assert draft.characters == []  # no made-up animals
    assert subject.lower() in " ".join(s.narration for s in draft.scenes).lower()
    assert goal_notes(goal) and "knows no facts about" in goal_notes(goal)[0]  # said, not silent


@pytest.mark.parametrize("goal, spoken", [
    ("a 3-minute documentary about the ocean", "about the ocean?"),
    ("a documentary on the history of tea", "about the history of tea?"),
    ("a documentary about black holes", "about black holes?"),
])
def test_a_documentary_keeps_the_article_its_goal_gave_the_subject(goal, spoken):
    draft = write_local_story(goal, scenes=4, seed=0)
    assert spoken in draft.scenes[0].narration
