"""Today's motion models through the loopback fake: Veo 3.1 on Vertex and Omni Flash on an API key.

Nothing paid twice: a long-running job's name is saved the moment it is known and polled on resume; a start
that was sent but never answered is not sent again without the user's word. A scene the safety filter
blocks becomes that scene's Ken Burns move, never a failed run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import check_final, db_rows, run_cli

GOAL = "a 2-scene bedtime story about a cat and a dog"


def make(capsys, ws: Path, *args: str):
    return run_cli(capsys, "make", GOAL, "--workspace", str(ws), "--budget", "20", *args)


def manifest_of(ws: Path, run: str) -> dict:
    return json.loads((ws / "runs" / run / "manifest.json").read_text())


def test_a_veo_start_whose_answer_never_came_is_not_sent_again(fake, capsys, workspace, fast, monkeypatch):
    monkeypatch.setenv("DIRECTOR_REQUEST_TIMEOUT_S", "1")
    fake.slow_s = 2.5
    fake.stalls["veo"] = 1  # Veo starts the first clip, but its answer comes after the client gave up
    result = make(capsys, workspace, "--backend", "vertex", "--run-id", "unsure", "--resolution", "720p",
                  "--dialogue", "none")  # one clip a scene: a line would lengthen a scene past one
    assert result.code == 1
    assert "it may be running and billed, so Director will not start another on its own" in result.err
    assert len(fake.calls("veo")) == 2  # one per scene: the unanswered one was not sent again
    # A resume does not send it again either: it says what happened and how to go on.
    result = run_cli(capsys, "resume", "unsure", "--workspace", str(workspace))
    assert result.code == 1 and "--retry-unsure" in result.err and len(fake.calls("veo")) == 2
    # The user's word: start it anew.
    result = run_cli(capsys, "resume", "unsure", "--retry-unsure", "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert len(fake.calls("veo")) == 3
    check_final(Path(result.last_line), cues=2)


def test_a_resume_polls_the_saved_operation_instead_of_starting_another(fake, capsys, workspace, fast,
                                                                       monkeypatch):
    monkeypatch.setenv("DIRECTOR_MAX_ATTEMPTS", "2")
    fake.fail("veo_poll", 503, times=4)  # both clips' polls give up: the scenes fail after their starts
    result = make(capsys, workspace, "--backend", "vertex", "--run-id", "polled", "--resolution", "720p",
                  "--dialogue", "none")  # one clip a scene: a line would lengthen a scene past one
    assert result.code == 1 and "503" in result.err
    started = {r.body["instances"][0]["prompt"] for r in fake.calls("veo")}
    saved = db_rows(workspace / "director.db", "SELECT name FROM jobs WHERE run_id='polled'")
    assert len(saved) == len(started) == 2 and all(name and "/operations/" in name for (name,) in saved)
    result = run_cli(capsys, "resume", "polled", "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert "polling the clip started before" in result.err or len(fake.calls("veo")) == 2
    assert len(fake.calls("veo")) == 2  # the same two operations were polled to their videos: nothing paid twice
    check_final(Path(result.last_line), cues=2)


@pytest.mark.parametrize("backend, kind", [("vertex", "veo"), ("gemini", "omni")])
def test_a_blocked_clip_becomes_that_scene_s_ken_burns_move(fake, capsys, workspace, fast, backend, kind):
    def second(r):
        return "scene 2," in json.dumps(r.body)

    fake.block(kind, second, reason="Third-party content")
    result = make(capsys, workspace, "--backend", backend, "--run-id", "blocked", "--resolution", "720p")
    assert result.code == 0, result.err
    assert "warning: animate_image scene 2:" in result.err and "would not make this clip" in result.err
    manifest = check_final(Path(result.last_line), cues=2)
    notes = {s["index"]: s["clip_note"] for s in manifest["scenes"]}
    assert notes[1] is None and "local" in notes[2] and "Third-party content" in notes[2]
    assert manifest["status"] == "done"


def story_with_a_long_first_scene(fake, words: int) -> None:
    long_line = "This is the first scene, and it goes on and on " + "with many more gentle words " * words + "."
    fake.enqueue("story", lambda req: {"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps({
        "title": "T", "art_style": "gouache", "narrator": "a calm voice", "characters": [], "places": [],
        "scenes": [{"image_prompt": "a meadow, scene 1,", "shot": "wide shot, eye level",
                    "motion": "grass sways; slow pan left; wind; a bird calls", "narration": long_line},
                   {"image_prompt": "a hill, scene 2,", "shot": "close-up, low angle",
                    "motion": "clouds drift; slow push in; a breeze; a bell", "narration": "A short one."}]})}]},
        "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 10}})


def test_veo_flows_into_the_next_scene_and_extends_a_long_scene(fake, capsys, workspace, fast, monkeypatch):
    story_with_a_long_first_scene(fake, 6)
    result = make(capsys, workspace, "--backend", "vertex", "--run-id", "flow", "--resolution", "720p", "--flow")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    starts = [r for r in fake.calls("veo") if "video" not in r.body["instances"][0]]
    extensions = [r for r in fake.calls("veo") if "video" in r.body["instances"][0]]
    by_scene = {1 if "scene 1" in r.body["instances"][0]["prompt"] else 2: r for r in starts}
    assert "lastFrame" in by_scene[1].body["instances"][0] and "lastFrame" not in by_scene[2].body["instances"][0]
    first = manifest["scenes"][0]
    assert first["duration"] > 8.5 and len(extensions) >= 1  # longer than Veo's longest clip: extended
    assert all(r.body["parameters"]["resolution"] == "720p" and r.body["parameters"]["durationSeconds"] == 8
               for r in extensions)
    assert first["clip"]["duration"] >= first["duration"] - 0.05  # no frozen tail
    assert fake.refusals == []


def test_flex_quotes_about_half_and_sends_only_what_can_wait(fake, capsys, workspace, fast):
    result = make(capsys, workspace, "--backend", "gemini", "--tier", "flex", "--run-id", "flex", "--motion", "still",
                  "--music", "none")
    assert result.code == 0, result.err
    quote = next(line for line in result.err.splitlines() if line.startswith("quote:"))
    flex, standard = (float(x) for x in __import__("re").findall(r"\$([0-9.]+)", quote)[:2])
    assert "on the flex tier" in quote and flex == pytest.approx(standard / 2, rel=0.1)
    tiered = {r.kind for r in fake.calls() if (r.body or {}).get("serviceTier") == "flex"}
    assert tiered == {"story", "image", "continuity"}  # the story, sheets, stills and checks; not the voice
    assert all("serviceTier" not in (r.body or {}) for r in fake.calls("tts") + fake.calls("brain"))
    manifest = manifest_of(workspace, "flex")
    [story] = [c for c in manifest["calls"] if c["tool"] == "write_story"]
    assert manifest["goal"]["tier"] == "flex" and story["cost_usd"] > 0


def test_omni_extends_a_scene_longer_than_its_longest_clip(fake, capsys, workspace, fast):
    story_with_a_long_first_scene(fake, 12)  # about 21 s of narration: past Omni's 15 s
    result = make(capsys, workspace, "--backend", "gemini", "--run-id", "long", "--resolution", "720p")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    first = manifest["scenes"][0]
    assert first["duration"] > 17
    def task(r):
        return r.body["generation_config"]["video_config"]["task"]

    starts = [r for r in fake.calls("omni") if task(r) == "image_to_video"]
    extensions = [r for r in fake.calls("omni") if task(r) == "extend"]
    assert len(starts) == 2 and len(extensions) == 1, [task(r) for r in fake.calls("omni")]
    [ext] = extensions
    blocks = ext.body["input"][0]["content"] if ext.body["input"][0].get("type") == "user_input" else ext.body["input"]
    assert [b["type"] for b in blocks] == ["text", "video"] and blocks[1]["mime_type"] == "video/mp4"
    assert 3 <= int(ext.body["response_format"]["duration"].rstrip("s")) <= 10
    assert first["clip"]["duration"] >= first["duration"] - 0.05  # no frozen tail
    assert fake.refusals == []
    # The bill is per delivered second of all of it, and the check before the call counted the extension.
    clips = sum(s["clip"]["duration"] for s in manifest["scenes"])
    billed = sum(r[0] for r in db_rows(workspace / "director.db",
                                       "SELECT cost_usd FROM tool_calls WHERE tool = 'animate_image'"))
    assert billed == pytest.approx(0.1014 * clips, rel=0.05)
    from director.tools import registry

    from director.prices import Prices

    estimate = registry()["animate_image"].estimate
    args = registry()["animate_image"].input(scene=1, aspect="16:9")
    inputs = {"length": 22.0}
    before = estimate(args, inputs, "gemini-omni-1.2-flash", Prices())
    assert before == pytest.approx(0.1014 * 22, rel=0.02)  # 15 s, then 7 s more: not just the 15 s clip
    assert estimate(args, inputs, "veo-3.1-generate-001", Prices()) == pytest.approx(0.20 * 8 + 0.20 * 8 * 2)


def test_veo_extends_a_clip_only_as_far_as_vertex_takes_it(tmp_path):
    # Vertex extends a video of 1 to 30 s by 7 s: a 60 s scene gets 8 + 4 x 7 = 36 s, never a 36 s input.
    from director.backends.vertex import VeoAnimator
    from tests.fakes.server import mp4

    sent: list[str] = []
    notes: list[str] = []

    class Counting(VeoAnimator):
        def run(self, source, config, job, report, *, what):
            sent.append(what)
            return mp4(1.0, 64, 36, audio=False)

    veo = Counting.__new__(Counting)
    veo.model, veo.poll_s, veo.timeout_s = "veo-3.1-generate-001", 0.0, 1.0
    still = tmp_path / "still.png"
    from PIL import Image

    Image.new("RGB", (64, 36), "navy").save(still)
    clip = veo.animate(still, prompt="a long walk", duration=60.0, motion="", size=(1280, 720), fps=24, out=tmp_path / "c.mp4",
                       report=notes.append, resolution="720p")
    assert sent == ["clip"] + ["extension"] * 4 and clip.seconds == 36.0
    assert any("longer than veo-3.1-generate-001 makes a clip (36 s with extensions): its last frame is held" in n
               for n in notes)
    sent.clear()
    assert veo.animate(still, prompt="a walk", duration=20.0, motion="", size=(1280, 720), fps=24, out=tmp_path / "d.mp4",
                       resolution="720p").seconds == 22.0 and sent == ["clip", "extension", "extension"]


def test_a_360p_draft_is_omni_s_own_at_its_price_and_veo_refuses_it_before_anything_is_paid(fake, capsys, workspace,
                                                                                             fast):
    result = make(capsys, workspace, "--backend", "vertex", "--run-id", "veo", "--resolution", "360p")
    assert result.code == 2 and result.err.strip().splitlines() == [
        "error: veo-3.1-generate-001 makes 720p, 1080p, 4k video, not 360p: choose one of those, or auto"]
    assert fake.billable() == [] and not (workspace / "runs" / "veo").exists()  # refused before a paid call or a row

    result = make(capsys, workspace, "--backend", "gemini", "--run-id", "draft", "--resolution", "360p",
                  "--dialogue", "none")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), size=(640, 360), cues=2)
    asked = [r.body["response_format"] for r in fake.calls("omni")]
    assert len(asked) == 2 and {fmt["resolution"] for fmt in asked} == {"360p"}
    delivered = sum(scene["clip"]["duration"] for scene in manifest["scenes"])  # Omni bills each delivered second
    paid = sum(c["cost_usd"] for c in manifest["calls"] if c["tool"] == "animate_image")
    assert paid == pytest.approx(delivered * 0.0338, abs=1e-4)  # 360p's rate, a third of 720p's
    assert fake.refusals == []
