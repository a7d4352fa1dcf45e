"""timeline.otio next to final.mp4, read back and checked against the cut itself, and the
other formats through OTIO's adapters (director export)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from director.api import Director
from director.media import probe
from tests.helpers import module_director, narrator_cues, parse_srt, run_cli

FPS = 24  # a rate every adapter writes (FCP X XML takes only the broadcast rates)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    with module_director(tmp_path_factory, fps=FPS) as (director, ws):
        run = director.submit("a 3-scene story about a fox and an owl", scenes=3, motion="still", run_id="tl")
        assert run.status == "done", run.error
        yield director, run, ws


def cuts(path: Path) -> list[int]:
    """Frame numbers where the picture changes at once: the scene boundaries, measured on the video."""
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(np.asarray(frame.to_image().resize((64, 36)), dtype=np.int16))
    diffs = [float(np.abs(a - b).mean()) for a, b in zip(frames, frames[1:])]
    return [i + 1 for i, d in enumerate(diffs) if d > 8.0]


def test_the_timeline_matches_the_cut_within_a_frame(made):
    director, run, ws = made
    path = run.final.parent / "timeline.otio"
    assert path.is_file() and run.manifest()["outputs"]["timeline.otio"]["path"] == "runs/tl/timeline.otio"
    timeline = otio.adapters.read_from_file(str(path))
    video = next(t for t in timeline.tracks if t.name == "Director")
    narration = next(t for t in timeline.tracks if t.name == "Narration")
    clips = list(video.find_clips())
    assert [c.name for c in clips] == ["Scene 1", "Scene 2", "Scene 3"]

    # The clips tile the whole cut, and each boundary is where the picture really changes.
    final = probe(run.final)
    end = video.range_of_child_at_index(len(video) - 1).end_time_exclusive()
    assert abs(end.to_seconds() - final.duration) <= 1 / FPS + 0.05  # the audio may run a few ms past the last frame
    starts = [round(c.range_in_parent().start_time.to_seconds() * FPS) for c in clips[1:]]
    measured = cuts(run.final)
    assert len(measured) == 2, measured
    assert all(abs(s - m) <= 1 for s, m in zip(starts, measured)), (starts, measured)

    # Each clip's media is the scene's own clip, long enough for the range the timeline takes of it.
    for clip in clips:
        media = Path(clip.media_reference.target_url.removeprefix("file://"))
        assert media.is_file() and media.is_relative_to(ws)
        assert clip.source_range.end_time_exclusive().to_seconds() <= probe(media).duration + 1 / FPS

    # The narration sits where the subtitles say the words are, and every cue is a marker. Each end is the cut's
    # nearest frame to it (the SRT's milliseconds aside), however many clips and gaps came before it on its track.
    half_frame = 0.5 / FPS + 0.002
    # Each character's line sits on the Dialogue track, where its cue is.
    cues = parse_srt((run.final.parent / "subtitles.srt").read_text(encoding="utf-8"))
    voices = list(narration.find_clips())
    said = next((list(t.find_clips()) for t in timeline.tracks if t.name == "Dialogue"), [])
    assert len(voices) == len(narrator_cues(cues)) == 3 and len(voices) + len(said) == len(cues)
    for voice, (start, stop, _) in zip(voices, narrator_cues(cues)):
        span = voice.range_in_parent()
        assert abs(span.start_time.to_seconds() - start) <= half_frame
        assert abs(span.end_time_exclusive().to_seconds() - stop) <= half_frame
    for line, (start, stop, text) in zip(said, [c for c in cues if c not in narrator_cues(cues)]):
        span = line.range_in_parent()
        assert text == f"{line.metadata['director']['speaker'].upper()}: {line.metadata['director']['line']}"
        assert abs(span.start_time.to_seconds() - start) <= half_frame
        assert abs(span.end_time_exclusive().to_seconds() - stop) <= half_frame
    music = next(t for t in timeline.tracks if t.name == "Music")  # the bed (--music auto), to the end
    assert abs(music.duration().to_seconds() - end.to_seconds()) <= 1 / FPS
    markers = timeline.tracks.markers
    assert [m.name for m in markers] == [text for _, _, text in cues]
    for marker, (start, stop, _) in zip(markers, cues):
        assert abs(marker.marked_range.start_time.to_seconds() - start) <= half_frame
        assert abs(marker.marked_range.end_time_exclusive().to_seconds() - stop) <= half_frame


def test_export_writes_fcpxml_and_edl_that_read_back(made, capsys):
    director, run, ws = made
    edl = director.export(run.id, "edl")
    back = otio.adapters.read_from_file(str(edl), rate=FPS)
    assert [c.name for c in back.find_clips()] == ["Scene 1", "Scene 2", "Scene 3"]
    fcpxml = director.export(run.id, "fcpxml", ws / "out" / "cut.fcpxml")
    text = fcpxml.read_text(encoding="utf-8")
    assert text.count("<asset ") >= 3 and "Scene 2" in text

    result = run_cli(capsys, "export", run.id, "--format", "aaf", "--workspace", str(ws))
    assert result.code == 2 and result.err.count("\n") == 1 and "use one of: otio, fcpxml, edl" in result.err
    result = run_cli(capsys, "export", "nope", "--workspace", str(ws))
    assert result.code == 2 and "unknown run" in result.err


def test_a_run_without_a_cut_has_no_timeline_to_export(tmp_path, fast, capsys):
    ws = tmp_path / "ws"
    run = Director(ws, backend="local").submit("a 1-scene story about a fox", scenes=1, approve=True, run_id="p")
    assert run.status == "paused" and not (ws / "runs" / "p" / "timeline.otio").exists()
    result = run_cli(capsys, "export", "p", "--workspace", str(ws))
    assert result.code == 2 and "has no final cut yet" in result.err
