"""Transitions: the joins are blends, only what a transition touches is encoded (every other
frame is copied packet for packet), and the sound, subtitles and timeline follow the overlap."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from director.media import SPEECH_LEAD, hold_still, probe
from director.transitions import Part, Piece, boundary, frames_of, join, overlap_frames, plan_join
from tests.helpers import module_director, narrator_cues, parse_srt, run_cli

FPS = 12  # the solid-colour clips
STORY_FPS = 24  # the story: a rate the EDL and FCP X XML adapters write
GOAL = "a 3-scene bedtime story about a cat and a dog"


def packets(path: Path) -> list[bytes]:
    """A video's packets in decode order, as bytes."""
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(video=0) if p.size]


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [np.asarray(f.to_image(), dtype=np.int16) for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def solid(tmp_path_factory):
    """Solid-colour clips made the way Director makes clips (keyframes every half second)."""
    from director.store import Workspace

    d = tmp_path_factory.mktemp("solid")
    ws = Workspace(d / "ws")

    def clip(name: str, rgb: tuple[int, int, int], seconds: float) -> Piece:
        still, out = d / f"{name}.png", d / f"{name}.mp4"
        Image.new("RGB", (160, 96), rgb).save(still)
        hold_still(still, out, size=(160, 96), duration=seconds, fps=FPS, crf=18, preset="ultrafast")
        return Piece(out, frames_of(out, FPS)[0])

    return ws, clip


def blend(ws, pieces: list[Piece], overlap: int, kind: str, out: Path) -> int:
    parts = [s[0] if len(s) == 1 else boundary(s, overlap, kind, ws, size=(160, 96), fps=FPS, crf=18,
                                                preset="ultrafast", jobs=1)
             for s in plan_join(pieces, overlap, FPS)]
    return join(parts, out, FPS)


def test_keyframes_every_half_second_and_a_join_plan_that_copies_all_but_the_joins(solid):
    ws, clip = solid
    red, green, blue = clip("red", (220, 30, 30), 2.0), clip("green", (30, 200, 30), 2.0), clip("blue", (30, 30, 220), 2.0)
    assert frames_of(red.path, FPS) == (24, (0, 6, 12, 18))
    steps = plan_join([red, green, blue], 6, FPS)
    assert steps == [
        [Part(red.path, 0, 18)],                              # copied
        [Part(red.path, 18, 24), Part(green.path, 0, 6)],     # encoded: red's tail, the blend, green's head
        [Part(green.path, 6, 18)],
        [Part(green.path, 18, 24), Part(blue.path, 0, 6)],
        [Part(blue.path, 6, 24)],
    ]
    # A cut copies every piece whole; a piece too short for a body of its own goes inside its boundary.
    assert plan_join([red, green], 0, FPS) == [[Part(red.path, 0, 24)], [Part(green.path, 0, 24)]]
    short = clip("short", (200, 200, 30), 1.0)
    assert plan_join([red, short, blue], 6, FPS)[1] == [Part(red.path, 18, 24), Part(short.path, 0, 12),
                                                         Part(blue.path, 0, 6)]
    # The overlap is whole, even frames, never more than half the shortest piece.
    assert overlap_frames(0.5, FPS, [24, 24]) == 6 and overlap_frames(0.45, FPS, [24, 24]) == 6
    assert overlap_frames(0.8, FPS, [24, 12]) == 6 and overlap_frames(0.5, FPS, [24]) == 0


@pytest.mark.parametrize("kind", ["crossfade", "fade", "slide"])
def test_each_transition_blends_at_the_join_and_copies_the_rest(solid, tmp_path, kind):
    ws, clip = solid
    red, blue = clip("red", (220, 30, 30), 2.0), clip("blue", (30, 30, 220), 2.0)
    out = tmp_path / f"{kind}.mp4"
    assert blend(ws, [red, blue], 6, kind, out) == 42  # 24 + 24 - 6
    assert probe(out).duration == pytest.approx(42 / FPS, abs=0.01)
    got = frames(out)
    a, b = got[10].mean(axis=(0, 1)), got[35].mean(axis=(0, 1))  # well inside red, well inside blue
    assert a[0] > 180 and b[2] > 180
    mid = got[18 + 3]  # halfway through the overlap (frames 18-23)
    if kind == "crossfade":  # a dissolve: every pixel is between the two colours
        assert np.abs(mid.mean(axis=(0, 1)) - (a + b) / 2).max() < 40
    elif kind == "fade":  # a dip through black
        assert mid.mean() < 0.35 * min(got[10].mean(), got[35].mean())
    else:  # a push: red leaving on the left, blue coming in on the right
        left, right = mid[:, :40].mean(axis=(0, 1)), mid[:, -40:].mean(axis=(0, 1))
        assert left[0] > 150 > left[2] and right[2] > 150 > right[0]
    # The frames outside the joins are the clips' own packets, byte for byte: nothing re-encoded.
    ours = packets(out)
    assert ours[:18] == packets(red.path)[:18] and ours[24:] == packets(blue.path)[6:]


def test_a_cut_joins_every_packet_as_it_was(solid, tmp_path):
    from director.store import Workspace

    _, clip = solid
    red, blue = clip("red", (220, 30, 30), 2.0), clip("blue", (30, 30, 220), 2.0)
    ws, out = Workspace(tmp_path / "ws"), tmp_path / "cut.mp4"
    assert blend(ws, [red, blue], 0, "crossfade", out) == 48
    assert packets(out) == packets(red.path) + packets(blue.path)
    assert not (ws.cache_dir / "transitions").exists()  # a cut encodes nothing


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """A local 3-scene story with 0.5 s crossfades; then scene 2 changed."""
    with module_director(tmp_path_factory, fps=STORY_FPS) as (director, ws):
        run = director.submit(GOAL, motion="still", music="none", transition="crossfade", run_id="x")
        assert run.status == "done", run.error
        yield director, run, ws


def timings_of(run) -> tuple[list[dict], float]:
    manifest = run.manifest()
    assert manifest["transition"]["kind"] == "crossfade"
    return manifest["scenes"], manifest["transition"]["seconds"]


def test_the_scenes_overlap_and_the_sound_and_subtitles_follow(story):
    _, run, _ = story
    scenes, overlap = timings_of(run)
    assert overlap == pytest.approx(0.5)
    for a, b in zip(scenes, scenes[1:]):  # each scene starts half a second before the last one ends
        assert b["start"] == pytest.approx(a["start"] + a["duration"] - overlap, abs=1e-3)
    final = probe(run.final)
    total = sum(s["duration"] for s in scenes) - overlap * (len(scenes) - 1)
    assert final.duration == pytest.approx(total, abs=1.5 / STORY_FPS)
    # The subtitles start where each scene's words do, in the overlapped cut.
    cues = narrator_cues(parse_srt((run.final.parent / "subtitles.srt").read_text(encoding="utf-8")))
    assert [round(c[0], 2) for c in cues] == [round(s["start"] + SPEECH_LEAD, 2) for s in scenes]
    # And the words are heard there: quiet just before each line, speech right after it starts.
    with av.open(str(run.final)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        sound = np.concatenate([f.to_ndarray().mean(axis=0) for f in container.decode(stream)])

    def level(a: float, b: float) -> float:
        chunk = sound[int(a * rate):int(b * rate)]
        return float(np.sqrt(np.mean(chunk ** 2)))

    for start, end, _ in cues[1:]:
        before, during = level(start - 0.3, start - 0.02), level(start, end)
        assert before < 0.1 * during, (start, before, during)


def test_a_join_is_a_blend_of_its_neighbours(story):
    _, run, _ = story
    scenes, overlap = timings_of(run)
    got = frames(run.final)
    d = round(overlap * STORY_FPS)
    for s in scenes[1:]:
        start = round(s["start"] * STORY_FPS)  # the overlap is frames [start, start + d)
        before, after, mid = got[start - 2], got[start + d + 2], got[start + d // 2]
        blend = (before + after) / 2
        assert np.abs(before - after).mean() > 10  # two different pictures
        assert np.abs(mid - blend).mean() < 0.35 * np.abs(before - after).mean()


def test_changing_one_scene_encodes_it_and_its_two_joins_only(story):
    director, run, ws = story
    first = packets(run.final)
    scenes, _ = timings_of(run)
    boundaries = set((ws / "cache" / "transitions").rglob("*.mp4"))
    assert len(boundaries) == 2
    clips_before = {s["clip"]["sha256"] for s in scenes}
    again = director.say(run.id, "make scene 2 at night")
    assert again.status == "done", again.error
    scenes2, _ = timings_of(again)
    assert {s["clip"]["sha256"] for s in scenes2} - clips_before == {scenes2[1]["clip"]["sha256"]}
    made = set((ws / "cache" / "transitions").rglob("*.mp4")) - boundaries
    assert len(made) == 2  # the joins either side of scene 2, and nothing else
    second = packets(again.final)
    # Scene 1 up to its join and scene 3 after its join are the same packets as before.
    head = round(scenes[1]["start"] * STORY_FPS) - STORY_FPS  # a second before scene 2 comes in
    assert second[:head] == first[:head]
    tail = len(first) - round((scenes[2]["start"] + 1.0) * STORY_FPS)
    assert second[-tail:] == first[-tail:]


def test_the_timeline_has_the_transitions(story):
    director, run, _ = story
    scenes, overlap = timings_of(run)
    timeline = otio.adapters.read_from_file(str(run.final.parent / "timeline.otio"))
    video = next(t for t in timeline.tracks if t.name == "Director")
    transitions = [item for item in video if isinstance(item, otio.schema.Transition)]
    assert len(transitions) == 2
    assert all(t.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve for t in transitions)
    assert all(t.in_offset.to_seconds() == pytest.approx(overlap / 2) for t in transitions)
    clips = list(video.find_clips())
    for clip, s in zip(clips[1:], scenes[1:]):  # each cut point is mid-blend
        assert clip.range_in_parent().start_time.to_seconds() == pytest.approx(s["start"] + overlap / 2,
                                                                              abs=1 / STORY_FPS)
    assert video.duration().to_seconds() == pytest.approx(probe(run.final).duration, abs=1.5 / STORY_FPS)
    # The EDL marks each join as a dissolve ("D" and its length in frames) and reads back.
    edl = director.export(run.id, "edl").read_text()
    assert edl.count(f" D {round(overlap * STORY_FPS):03d} ") == 2
    back = otio.adapters.read_from_string(edl, "cmx_3600", rate=STORY_FPS)
    assert len([t for t in back.tracks[0] if isinstance(t, otio.schema.Transition)]) == 2
    # The FCP X XML adapter writes the clips but leaves transitions out (its own limit; README says so).
    assert director.export(run.id, "fcpxml").read_text().count("<asset ") >= 3


def test_bad_transitions_are_one_line(tmp_path, capsys):
    ws = str(tmp_path / "ws")
    result = run_cli(capsys, "make", GOAL, "--backend", "local", "--workspace", ws, "--transition", "wipe")
    assert result.code == 2 and result.err.count("\n") == 1 and "unknown transition 'wipe'" in result.err
    result = run_cli(capsys, "make", GOAL, "--backend", "local", "--workspace", ws, "--transition", "fade",
                     "--transition-seconds", "2")
    assert result.code == 2 and result.err.count("\n") == 1 and "from 0.1 to 0.8" in result.err
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())
