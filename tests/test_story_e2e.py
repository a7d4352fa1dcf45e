"""A real 3-scene local run, checked the way a user would check it."""

from __future__ import annotations

import json
from pathlib import Path

from director.api import Director
from tests.helpers import checkpoint_blobs, db_rows, faststart, ffprobe, narrator_cues, parse_srt, run_cli

MEDIA_MAGIC = (b"\x89PNG", b"RIFF", b"ftyp", b"\xff\xd8\xff")


def test_make_produces_a_valid_video(story_run):
    run, _events, _ws = story_run
    assert run.status == "done", run.error
    final = run.final
    assert final is not None and final.is_absolute() and final.is_file()
    probe = ffprobe(final)
    assert [v["codec"] for v in probe.video] == ["h264"]
    assert [a["codec"] for a in probe.audio] == ["aac"]
    assert probe.video[0]["pix_fmt"] == "yuv420p"
    assert (probe.video[0]["width"], probe.video[0]["height"]) == (1280, 720)
    assert [s["codec"] for s in probe.subtitle] == ["mov_text"]
    assert faststart(final)
    manifest = run.manifest()
    scene_total = sum(s["duration"] for s in manifest["scenes"])
    assert abs(probe.duration - scene_total) <= 0.2
    narration_total = sum(s["audio"]["duration"] for s in manifest["scenes"])
    assert scene_total > narration_total  # each scene holds its whole narration


def test_subtitles_follow_the_narration(story_run):
    run, _events, _ws = story_run
    cues = parse_srt((run.run_dir / "subtitles.srt").read_text())
    manifest = run.manifest()
    spoken = [(scene, part) for scene in manifest["scenes"] for part in scene["speech"] or
              [{"speaker": "narrator", "text": scene["narration"], "start": 0.0, "end": scene["audio"]["duration"]}]]
    assert len(narrator_cues(cues)) == 3 and len(cues) == len(spoken)
    previous_end = 0.0
    for (start, end, text), (scene, part) in zip(cues, spoken):
        assert previous_end <= start < end
        assert abs((end - start) - (part["end"] - part["start"])) < 0.01  # a cue lasts as long as its speech
        assert scene["start"] <= start and end <= scene["start"] + scene["duration"]
        said = " ".join(part["text"].split())
        assert text == (said if part["speaker"] == "narrator" else f"{part['speaker'].upper()}: {said}")
        previous_end = end
    assert " ".join(manifest["scenes"][0]["narration"].split()) == cues[0][2]


def test_storyboard_and_manifest_describe_the_run(story_run):
    run, _events, ws = story_run
    html = (run.run_dir / "storyboard.html").read_text()
    manifest = run.manifest()
    assert manifest["goal"]["text"] == "a 3-scene bedtime story about a cat and a dog"
    assert manifest["backends"]["image"] == {"backend": "local", "model": "procedural-illustrator-v3"}
    assert manifest["backends"]["voice"]["model"] == "piper:en_US-joe-medium"
    assert {c["kind"] for c in manifest["characters"]} >= {"cat", "dog"}
    for scene in manifest["scenes"]:
        for kind in ("image", "audio", "clip"):
            asset = scene[kind]
            assert len(asset["sha256"]) == 64 and (ws / asset["path"]).is_file()
        assert scene["narration"] in html
        assert Path(scene["image"]["path"]).name in html
        for character in manifest["characters"]:
            assert character["look"] in scene["full_image_prompt"]  # the cast rides along in every prompt
    tools = sorted(c["tool"] for c in manifest["calls"])
    sheets = len(manifest["characters"])
    assert tools == sorted(["write_story"] + ["draw_character"] * sheets + ["create_image"] * 3
                           + ["check_continuity"] * 3 + ["narrate"] * 3 + ["animate_image"] * 3
                           + ["make_music", "mix_sound", "assemble_video"])
    assert all(isinstance(c["ms"], int) for c in manifest["calls"])
    assert manifest["totals"]["executed"] == 13 + sheets + 3 and manifest["totals"]["reused"] == 0


def test_images_differ_per_scene(story_run):
    run, _events, _ws = story_run
    hashes = [s["image"]["sha256"] for s in run.manifest()["scenes"]]
    assert len(set(hashes)) == 3


def test_progress_is_reported_per_tool_call(story_run):
    _run, events, _ws = story_run
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert len(finished) == 18  # 13, and two reference sheets and three continuity checks
    assert {e["label"] for e in finished} >= {"create_image scene 1", "narrate scene 3", "assemble_video"}
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"


def test_same_goal_again_executes_nothing(story_run, capsys):
    _run, _events, ws = story_run
    result = run_cli(capsys, "make", "a 3-scene bedtime story about a cat and a dog",
                     "--workspace", str(ws), "--backend", "local", "--run-id", "again")
    assert result.code == 0, result.err
    assert "18 tool calls, all reused from memo: nothing was executed" in result.err
    assert result.last_line == str(ws / "runs" / "again" / "final.mp4")
    rows = db_rows(ws / "director.db", "SELECT reused, COUNT(*) FROM tool_calls WHERE run_id='again' GROUP BY reused")
    assert rows == [(1, 18)]
    first = json.loads((ws / "runs" / "story" / "manifest.json").read_text())
    second = json.loads((ws / "runs" / "again" / "manifest.json").read_text())
    assert first["final"]["sha256"] == second["final"]["sha256"]


def test_history_has_a_checkpoint_per_super_step_and_no_media(story_run, capsys):
    run, _events, ws = story_run
    rows = Director(workspace=ws).history(run.id)
    nodes = [r["node"] for r in reversed(rows)]
    # brain, tools x4 batches (the story; the sheets and the voices; the stills and their checks; the clips
    # and the cut), brain, finish
    assert nodes.count("tools") == 4 and nodes.count("brain") == 5 and nodes[-1] == "finish"
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps, reverse=True) and len(set(steps)) == len(steps)
    assert "story “" in " ".join(r["change"] for r in rows)
    result = run_cli(capsys, "history", run.id, "--workspace", str(ws))
    assert result.code == 0 and rows[0]["checkpoint"] in result.out and "planned 2×draw_character, 3×narrate" in result.out

    blobs = db_rows(ws / "director.db", f"SELECT type, checkpoint FROM checkpoints WHERE thread_id='{run.id}'")
    assert len(blobs) >= len(rows)
    assert {t for t, _ in blobs} == {"msgpack+xz"}  # compressed, so look inside
    for _kind, plain in checkpoint_blobs(ws / "director.db", run.id):
        assert not any(m in plain for m in MEDIA_MAGIC)
    biggest = max(len(b) for _, b in blobs)
    per_step = sum(len(b) for _, b in blobs) / len(blobs)
    assert biggest < 12_000 and per_step < 6_000  # kilobytes per step, not image sizes


def test_runs_lists_the_run(story_run, capsys):
    run, _events, ws = story_run
    result = run_cli(capsys, "runs", "--workspace", str(ws), "--json")
    rows = {r["id"]: r for r in json.loads(result.out)}
    assert rows[run.id]["status"] == "done"
    assert rows[run.id]["final"] == str(run.final)
    table = run_cli(capsys, "runs", "--workspace", str(ws))
    assert run.id in table.out and "done" in table.out


def test_portrait_single_scene(tmp_path, capsys):
    result = run_cli(capsys, "make", "a fox explores the forest", "--scenes", "1", "--aspect", "9:16",
                     "--workspace", str(tmp_path / "ws"))
    assert result.code == 0, result.err
    assert "backend local (no GEMINI_API_KEY or GOOGLE_API_KEY is set)" in result.err
    probe = ffprobe(Path(result.last_line))
    assert (probe.video[0]["width"], probe.video[0]["height"]) == (720, 1280)
    assert len(narrator_cues(parse_srt((Path(result.last_line).parent / "subtitles.srt").read_text()))) == 1
