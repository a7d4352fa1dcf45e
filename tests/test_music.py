"""The music bed: offline tracks by mood, the user's own file, ducking under the voice,
EBU R 128 loudness, and a picture change that re-mixes nothing.

Levels are measured on the decoded sound of final.mp4, with the speech windows taken from
the SRT (timed from the real narration) and the gaps between them.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from director.api import Director
from director.backends.local.music import mood_of
from director.media import loudness, probe, run_ffmpeg
from tests.helpers import module_director, parse_srt, run_cli

RATE = 48_000
GOAL = "a 3-scene bedtime story about a cat and a dog"


def samples(path: Path) -> np.ndarray:
    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().ravel())
    return np.concatenate(chunks)


def db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-9))


def band(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """The signal with everything outside [low, high] Hz taken out (over the whole track, so the
    level of any window of it is a true level)."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    spectrum[(freqs < low) | (freqs > high)] = 0
    return np.fft.irfft(spectrum, len(x))


def speech_and_gaps(run_dir: Path) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Sample ranges inside the words (the middle of each cue) and between them (a pause of 0.3 s or more)."""
    cues = parse_srt((run_dir / "subtitles.srt").read_text(encoding="utf-8"))
    speech = [(int((a + (b - a) * 0.25) * RATE), int((b - (b - a) * 0.25) * RATE)) for a, b, _ in cues]
    gaps, previous = [], 0.0
    for a, b, _ in cues:
        if (a - 0.05) - (previous + 0.2) >= 0.3:
            gaps.append((int((previous + 0.2) * RATE), int((a - 0.05) * RATE)))
        previous = b
    assert len(speech) >= 3 and len(gaps) >= 2, (cues, gaps)  # a cue per scene, and one per character line
    return speech, gaps


@pytest.fixture(scope="module")
def auto(tmp_path_factory):
    with module_director(tmp_path_factory) as (director, ws):
        run = director.submit(GOAL, motion="still", run_id="auto")
        assert run.status == "done", run.error
        yield director, run, ws


def test_auto_music_plays_under_the_whole_video_below_the_voice(auto):
    director, run, ws = auto
    manifest = run.manifest()
    assert manifest["goal"]["music"] == "auto"
    assert manifest["backends"]["music"] == {"backend": "local", "model": "immich-memories-music"}
    music_calls = [c for c in manifest["calls"] if c["tool"] == "make_music"]
    assert len(music_calls) == 1 and music_calls[0]["error"] is None

    x = samples(run.final)
    half = RATE // 2
    levels = [db(x[i:i + half]) for i in range(0, len(x) - half, half)]
    assert min(levels[1:-1]) > -45, levels  # no silent stretch anywhere between the fades
    speech, gaps = speech_and_gaps(run.final.parent)
    under_voice = np.mean([db(x[a:b]) for a, b in speech])
    between = np.mean([db(x[a:b]) for a, b in gaps])
    assert between > -45  # the bed is there in the pauses ...
    assert between < under_voice - 4, (between, under_voice)  # ... and never as loud as the voice


def test_the_mix_meets_the_loudness_targets(auto):
    _, run, _ = auto
    integrated, peak = loudness(run.final)
    assert -17.0 <= integrated <= -15.0, integrated
    assert peak <= -1.0, peak


def test_no_music_is_todays_sound(tmp_path, fast):
    run = Director(tmp_path / "ws", backend="local").submit(GOAL, motion="still", music="none")
    assert run.status == "done"
    assert not [c for c in run.manifest()["calls"] if c["tool"] == "make_music"]
    x = samples(run.final)
    speech, gaps = speech_and_gaps(run.final.parent)
    assert all(db(x[a:b]) < -60 for a, b in gaps), [db(x[a:b]) for a, b in gaps]  # pauses are silence
    assert all(db(x[a:b]) > -40 for a, b in speech)
    # The sound track's cache key is today's: no music in it.
    cached = list((tmp_path / "ws" / "cache" / "sound").rglob("*.m4a"))
    assert len(cached) == 1


def test_your_own_file_loops_and_ducks_under_the_voice(tmp_path, fast):
    hum_file = tmp_path / "hum.wav"  # 50 Hz sits under the voice's own range: it can be measured through it
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=50:sample_rate={RATE}:duration=6", "-ac", "2", str(hum_file)],
               what="make a test hum")
    run = Director(tmp_path / "ws", backend="local").submit(GOAL, motion="still", music=str(hum_file))
    assert run.status == "done", run.error
    assert probe(run.final).duration > 12  # longer than the 6 s file: it was looped
    x = samples(run.final)
    speech, gaps = speech_and_gaps(run.final.parent)
    hum = band(x, 45, 55)
    hum_under_voice = np.mean([db(hum[a:b]) for a, b in speech])
    hum_between = np.mean([db(hum[a:b]) for a, b in gaps])
    assert hum_between - hum_under_voice >= 6, (hum_between, hum_under_voice)  # ducked by 6 dB or more
    first, last = gaps[0], gaps[-1]
    assert last[0] > 6 * RATE  # a pause after the end of the 6 s file ...
    assert abs(db(hum[last[0]:last[1]]) - db(hum[first[0]:first[1]])) < 3  # ... has the hum as loud: it looped
    assert run.manifest()["goal"]["music"] == str(hum_file.resolve())


def test_a_new_picture_re_mixes_nothing(auto):
    director, run, ws = auto
    sound = ws / "cache" / "sound"
    before = sorted(p.name for p in sound.rglob("*.m4a"))
    revised = director.say(run.id, "make scene 2 at night")
    assert revised.status == "done"
    assert sorted(p.name for p in sound.rglob("*.m4a")) == before
    assert len([c for c in revised.manifest()["calls"] if c["tool"] == "make_music"]) == 1  # the first, kept


def test_a_bad_music_choice_is_one_line(tmp_path, capsys):
    ws = str(tmp_path / "ws")
    result = run_cli(capsys, "make", GOAL, "--music", "jazz", "--workspace", ws)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "music 'jazz' is not auto, none, a mood (calm, energetic, happy, nostalgic, tender)" in result.err
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    result = run_cli(capsys, "make", GOAL, "--music", str(text), "--workspace", ws)
    assert result.code == 2 and "has no audio stream ffmpeg can read" in result.err
    assert not (tmp_path / "ws" / "director.db").exists()


@pytest.mark.parametrize(("words", "mood"), [
    ("a bedtime story about a sleepy owl under the moon", "calm"),
    ("a birthday party for two friends at the beach", "happy"),
    ("a space adventure with a brave rocket pilot", "energetic"),
    ("grandma remembers her old home", "nostalgic"),
    ("a story about a cat", "tender"),
])
def test_auto_reads_the_mood_from_the_story(words, mood):
    assert mood_of(words) == mood


@pytest.mark.parametrize("goal, story, mood", [
    # The user's own words of feeling choose, whatever the writer's lines are about.
    ("a warm and cosy story about a bear and a rabbit having a picnic", "a sunny picnic full of fun", "tender"),
    ("a spooky 4-scene story about a lighthouse keeper and a black cat", "grandma remembers the old days", "calm"),
    ("an exciting race between two snails", "they rested in the quiet garden at night", "energetic"),
    # Without one, the goal's words count three times the story's.
    ("a product teaser for a new electric bike", "a friend smiles in the sunny park", "energetic"),
    ("a birthday video for my grandma who loves gardening", "a party in her garden", "happy"),
])
def test_the_mood_follows_the_goal_s_own_words(goal, story, mood):
    assert mood_of(story, goal=goal) == mood
