"""Burned-in captions: drawn only where captions go, at most two lines inside a phone's safe
area, one phrase at a time on the narration's own word timing, and a changed line re-encodes
only its own scene."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from director.captions import MAX_PHRASE_CHARS, SENTENCE_END, SLACK_CHARS, ass_document, phrases
from director.media import SPEECH_LEAD, probe
from tests.helpers import DRAFT, module_director, run_cli

GOAL = "a 2-scene bedtime story about a cat and a dog"


def frame_at(path: Path, seconds: float) -> np.ndarray:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return np.asarray(frame.to_image(), dtype=np.int16)
    raise AssertionError(f"no frame at {seconds} s in {path}")


def changed_box(a: np.ndarray, b: np.ndarray, threshold: int = 40) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the pixels that differ clearly, or None."""
    mask = np.abs(a - b).max(axis=2) > threshold
    if not mask.any():
        return None
    rows, cols = np.where(mask.any(axis=1))[0], np.where(mask.any(axis=0))[0]
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    """The same 9:16 story with soft captions, then burned (every clip reused), then karaoke."""
    with module_director(tmp_path_factory) as (director, ws):
        common = {"aspect": "9:16", "motion": "still", "music": "none"}
        runs = {name: director.submit(GOAL, run_id=name, **common, **extra) for name, extra in (
            ("soft", {}), ("burn", {"captions": "burn"}), ("both", {"captions": "both"}),
            ("karaoke", {"captions": "burn", "caption_style": "karaoke"}))}
        assert all(r.status == "done" for r in runs.values()), {k: r.error for k, r in runs.items()}
        yield director, runs, ws


def test_burned_captions_change_only_the_caption_area(portrait):
    _, runs, _ = portrait
    width, height = DRAFT[::-1]  # the portrait draft: every place below is a share of the frame
    cues = (runs["soft"].final.parent / "subtitles.srt").read_text(encoding="utf-8")
    assert "-->" in cues
    at = SPEECH_LEAD + 1.0  # a second into the first line
    soft, burnt = frame_at(runs["soft"].final, at), frame_at(runs["burn"].final, at)
    box = changed_box(soft, burnt)
    assert box is not None, "nothing was drawn"
    top, bottom, left, right = box
    font = round(width * 0.075)
    assert top > height * 0.5  # only the lower half changed: the picture above is untouched
    assert bottom < height * (1 - 0.16) + font * 0.5  # above the bottom 16%: clear of a phone's controls
    assert bottom - top < font * 2.8  # at most two lines
    assert left > width * 0.05 and right < width * 0.95  # inside the side margins
    assert (np.abs(soft - burnt).max(axis=2) > 40).mean() > 0.003  # and real text, not a speck


def test_soft_burn_and_both_carry_the_right_tracks(portrait):
    _, runs, _ = portrait
    assert probe(runs["soft"].final).subtitle_codecs == ("mov_text",)
    assert probe(runs["burn"].final).subtitle_codecs == ()
    assert probe(runs["both"].final).subtitle_codecs == ("mov_text",)
    # The burned cut is the soft cut's pictures and sound: only the captions were added.
    assert probe(runs["burn"].final).duration == pytest.approx(probe(runs["soft"].final).duration, abs=0.05)


def test_karaoke_lights_up_the_words_already_said(portrait):
    _, runs, _ = portrait
    frame = frame_at(runs["karaoke"].final, SPEECH_LEAD + 1.5)
    plain = frame_at(runs["burn"].final, SPEECH_LEAD + 1.5)
    lower = slice(int(frame.shape[0] * 0.5), None)
    r, g, b = (frame[lower][..., i] for i in range(3))
    yellow = (r > 200) & (g > 180) & (b < 90)
    r0, g0, b0 = (plain[lower][..., i] for i in range(3))
    before = (r0 > 200) & (g0 > 180) & (b0 < 90)  # yellow in the picture itself (a sun, flowers)
    assert (yellow & ~before).sum() > 200  # the words already said, lit up where plain captions are white


def test_phrases_are_short_and_follow_the_words():
    words = [(i * 0.3, i * 0.3 + 0.25, w) for i, w in enumerate(
        "Once upon a time, Miso the cat and Buster the dog spent a golden afternoon playing by the flowers.".split())]
    groups = phrases(words)
    assert len(groups) >= 3
    # within the limit, or a few characters past it to end with its sentence
    assert all(len(" ".join(w for _, _, w in g)) <= MAX_PHRASE_CHARS or
               len(" ".join(w for _, _, w in g)) <= MAX_PHRASE_CHARS + SLACK_CHARS and g[-1][2].endswith(".")
               for g in groups)
    assert [w for g in groups for w in g] == words  # every word, in order, once
    assert groups[0][-1][2] == "time,"  # a comma ends a phrase
    document = ass_document(words, offset=0.25, length=10.0, size=(720, 1280), karaoke=False)
    events = [line for line in document.splitlines() if line.startswith("Dialogue:")]
    assert len(events) == len(groups)
    assert events[0].split(",")[1] == "0:00:00.25"  # the first phrase comes with the first word


def test_a_changed_line_re_burns_only_its_scene(portrait):
    director, runs, ws = portrait
    burned_dir = ws / "cache" / "captions"
    before = set(burned_dir.rglob("*.mp4"))
    revised = director.say("burn", 'scene 2 says "Goodnight, moon. Goodnight, stars."')
    assert revised.status == "done"
    assert len(set(burned_dir.rglob("*.mp4")) - before) == 1


def test_bad_caption_options_are_one_line(tmp_path, capsys):
    result = run_cli(capsys, "make", GOAL, "--captions", "loud", "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and "unknown captions 'loud': use one of soft, burn, both" in result.err
    result = run_cli(capsys, "make", GOAL, "--caption-style", "neon", "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and "unknown caption style 'neon'" in result.err


def test_a_workspace_path_with_commas_quotes_and_colons_still_burns(tmp_path, fast, capsys):
    ws = tmp_path / "we ird, [dir]; it's: here"
    result = run_cli(capsys, "make", "a 1-scene story about a cat", "--captions", "burn", "--motion", "still",
                     "--music", "none", "--backend", "local", "--workspace", str(ws))
    assert result.code == 0, result.err
    assert list((ws / "cache" / "captions").rglob("*.mp4"))


def test_title_and_end_cards_frame_the_story(portrait):
    director, runs, ws = portrait
    carded = director.submit(GOAL, run_id="cards", aspect="9:16", motion="still", music="none", title_card=True,
                             end_card="Goodnight!")
    assert carded.status == "done", carded.error
    plain, framed = probe(runs["soft"].final), probe(carded.final)
    assert framed.duration == pytest.approx(plain.duration + 5.0, abs=0.1)  # two cards of 2.5 s
    soft_cues = (runs["soft"].final.parent / "subtitles.srt").read_text().split("\n")[1]
    card_cues = (carded.final.parent / "subtitles.srt").read_text().split("\n")[1]
    assert soft_cues.startswith("00:00:00,250") and card_cues.startswith("00:00:02,750")  # the words moved with it

    title, scene = frame_at(carded.final, 1.2), frame_at(runs["soft"].final, 0.2)
    h = title.shape[0]
    middle = title[int(h * 0.4):int(h * 0.6)]
    assert ((middle > 235).all(axis=2)).sum() > 300  # white title letters across the middle

    def sharpness(img: np.ndarray) -> float:
        grey = img.mean(axis=2)
        return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())

    # Away from the text (above and below it), the picture behind is blurred.
    around = np.concatenate([title[:int(h * 0.3)], title[int(h * 0.7):]])
    unblurred = np.concatenate([scene[:int(h * 0.3)], scene[int(h * 0.7):]])
    assert sharpness(around) < sharpness(unblurred) * 0.6
    ending = frame_at(carded.final, framed.duration - 1.0)
    assert ((ending[int(h * 0.4):int(h * 0.6)] > 235).all(axis=2)).sum() > 300

    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(carded.final.parent / "timeline.otio"))
    track = next(t for t in timeline.tracks if t.name == "Director")
    assert [item.name for item in track] == ["Title card", "Scene 1", "Scene 2", "End card"]
    assert track[1].range_in_parent().start_time.to_seconds() == pytest.approx(2.5, abs=1 / 12)
    assert track.duration().to_seconds() == pytest.approx(framed.duration, abs=0.1)

    cards = ws / "cache" / "cards"
    before = set(cards.rglob("*.mp4"))
    again = director.submit(GOAL, run_id="cards2", aspect="9:16", motion="still", music="none", title_card=True,
                            end_card="The end")
    assert again.status == "done"
    assert len(set(cards.rglob("*.mp4")) - before) == 1  # only the new end card was drawn


def test_an_empty_end_card_is_one_line(tmp_path, capsys):
    result = run_cli(capsys, "make", GOAL, "--end-card", "  ", "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and "the end card needs some text" in result.err


@pytest.mark.parametrize("text", [
    "The wind howled past the window. The lighthouse keeper lit the lamp, and the black cat watched the sea.",
    "Pip and Dot dug and dug until the tunnel opened onto a wide bright beach. They cheered! Then they rested.",
    "Is it time? Yes. The robot vacuum turns, maps the hall, and finds its way home to charge.",
    'Grandma smiled. "Happy birthday," said Mitzi\'s friend. The garden was full of roses and tulips.',
])
def test_a_burned_phrase_never_runs_from_one_sentence_into_the_next(text):
    words = [(i * 0.3, i * 0.3 + 0.25, w) for i, w in enumerate(text.split())]
    groups = phrases(words)
    assert [w for g in groups for w in g] == words
    for group in groups:  # a sentence may end only at a phrase's last word
        assert not any(SENTENCE_END.search(w) for _, _, w in group[:-1]), [w for _, _, w in group]
        assert len(" ".join(w for _, _, w in group)) <= MAX_PHRASE_CHARS + SLACK_CHARS
