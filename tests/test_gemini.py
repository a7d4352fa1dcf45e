"""The real google-genai SDK (and httpx for Reve) against the loopback fake.

Nothing in the SDK is patched: the environment points it at the fake, which
records every request so these tests check what was really sent.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from director.tools import registry

from tests.conftest import TEST_KEY
from tests.fakes import rules, served
from tests.helpers import check_final, checkpoint_blobs, db_rows, parse_srt, run_cli


def make(capsys, ws: Path, *args: str):
    return run_cli(capsys, "make", "a 3-scene bedtime story about a cat and a dog", "--workspace", str(ws), *args)


def last_call_id(ws: Path) -> int:
    return db_rows(ws / "director.db", "SELECT COALESCE(MAX(id), 0) FROM tool_calls")[0][0]


def test_gemini_function_calls_drive_a_story_to_a_video(fake, capsys, workspace):
    # An API key alone: today's defaults, no --fallback (with a budget: three Omni clips pass the $2 default cap).
    result = make(capsys, workspace, "--backend", "gemini", "--budget", "5")
    assert result.code == 0, result.err
    assert "google-genai: gemini api (API key)" in result.err
    manifest = check_final(Path(result.last_line), cues=3, fps=24)  # the cut keeps Omni's 24 fps
    assert manifest["backends"]["motion"] == {"backend": "omni", "model": "gemini-omni-1.2-flash"}
    assert manifest["backends"]["music"] == {"backend": "lyria3", "model": "lyria-3.5"}
    assert manifest["backends"]["image"] == {"backend": "gemini", "model": "gemini-nano-banana-2.1"}
    assert manifest["backends"]["brain"] == {"backend": "gemini", "model": "gemini-3.8-flash"}
    assert manifest["backends"]["voice"] == {"backend": "gemini", "model": "gemini-3.8-flash-tts"}
    # Today's models only, each asked about (models.get, free) before the first request that costs money.
    assert {r.model for r in fake.requests if r.model} <= set(served.SERVED) and not fake.calls("not_found")
    first_paid = fake.requests.index(fake.billable()[0])
    assert {r.model for r in fake.requests[:first_paid] if r.kind == "model_get"} == {
        "gemini-3.8-flash", "gemini-nano-banana-2.1", "gemini-3.8-flash-tts", "gemini-omni-1.2-flash", "lyria-3.5"}

    brain = fake.calls("brain")
    assert all(r.path == "/v1beta/models/gemini-3.8-flash:generateContent" for r in brain)
    assert all(r.headers["x-goog-api-key"] == TEST_KEY for r in fake.requests)
    declared = {d["name"] for d in brain[0].body["tools"][0]["functionDeclarations"]}
    assert declared == {name for name, t in registry().items() if "story" in t.modes}  # no trailer tools
    assert "detect_scenes" not in declared and "write_story" in declared
    # Gemini 3 as Google's guide asks: no temperature, and a thinking level each role chose.
    for r in fake.calls():
        config = (r.body or {}).get("generationConfig") or {}
        assert not {"temperature", "topP", "topK"} & set(config), (r.kind, config)
    # (google-genai 3.x sends nested config keys in snake_case, which proto JSON accepts)
    assert {rules._field(r.body["generationConfig"]["thinkingConfig"], "thinkingLevel") for r in brain} == {"LOW"}
    assert "The run's goal: a 3-scene bedtime story" in brain[0].body["systemInstruction"]["parts"][0]["text"]
    # The reference sheets came first, in one turn; then one turn asked for all the stills, their
    # continuity checks and the narrations, and their answers went back in one turn.
    sheets_turn = [p["functionResponse"]["name"] for p in brain[2].body["contents"][-1]["parts"]]
    assert sheets_turn == ["draw_character"] * 3  # Pip, Rolo and the garden
    third_reply_parts = brain[3].body["contents"][-1]["parts"]
    responses = [p["functionResponse"] for p in third_reply_parts]
    assert sorted(r["name"] for r in responses) == ["check_continuity"] * 3 + ["create_image"] * 3 + ["narrate"] * 3
    assert all("output" in r["response"] and r["id"].startswith("fc-") for r in responses)
    calls_turn = brain[3].body["contents"][-2]
    assert calls_turn["role"] == "model" and len(calls_turn["parts"]) == 9

    [story] = fake.calls("story")
    config = story.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["properties"]) == {"title", "art_style", "narrator", "characters", "places",
                                                           "scenes"}
    scene_schema = config["responseSchema"]["properties"]["scenes"]["items"]
    assert {"image_prompt", "shot", "motion", "narration"} <= set(scene_schema["properties"])
    images = fake.calls("image")
    assert len(images) == 3 + 3  # three reference sheets (two characters, a place), three stills
    sheets = [r for r in images if "Character reference sheet of" in r.text or "Reference picture of the place" in r.text]
    stills = [r for r in images if r not in sheets]
    assert len(sheets) == 3 and all(r.body["generationConfig"]["imageConfig"]["aspectRatio"] == "1:1" for r in sheets)
    assert all(r.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9" for r in stills)
    # One narrative sentence with the shot, then only the scene's own cast: scene 3 is Rolo's alone.
    for r in stills:
        alone = "Rolo, scene 3" in r.text
        assert r.text.startswith(("Wide shot, eye level: ", "Medium shot, eye level: "))
        assert ("Pip (cat)" in r.text) != alone and "Rolo (dog)" in r.text
        assert "Painted as gouache picture-book illustration" in r.text
    tts = fake.calls("tts")
    # google-genai 3.x sends this nested config with snake_case keys, which proto-JSON accepts.
    single = [r for r in tts if "voice_config" in r.body["generationConfig"]["speechConfig"]]
    voices = {c["name"]: c["voice"] for c in manifest["characters"]}
    assert voices["Pip"] != voices["Rolo"] and "Kore" not in voices.values()  # the narrator's voice is its own
    narrations = [r for r in single if "This is scene" in r.body["contents"][0]["parts"][0]["text"]]
    assert len(narrations) == 3 and {r.body["generationConfig"]["speechConfig"]["voice_config"]
                                     ["prebuilt_voice_config"]["voice_name"] for r in narrations} == {"Kore"}
    assert all(r.body["contents"][0]["parts"][0]["text"] for r in tts)  # the words alone, read as written
    # The narrator's persona went to the voice as its style, never as words to read.
    assert {r.body["contents"][0]["parts"][0]["speechMetadata"]["style"] for r in narrations} == {
        "a warm grandparent, soft and unhurried, at bedtime"}
    # Rolo speaks alone in scene 3: one request in his voice, with no narrator's style on it.
    [rolo] = [r for r in single if r not in narrations]
    assert rolo.body["generationConfig"]["speechConfig"]["voice_config"]["prebuilt_voice_config"]["voice_name"] == \
        voices["Rolo"] and not rolo.body["contents"][0]["parts"][0].get("speechMetadata")
    # Pip and Rolo talk in scene 1: one request in the documented two-speaker form, a part per turn.
    [talk] = [r for r in tts if r not in single]
    pair = talk.body["generationConfig"]["speechConfig"]["multi_speaker_voice_config"]["speaker_voice_configs"]
    assert {c["speaker"]: c["voice_config"]["prebuilt_voice_config"]["voice_name"] for c in pair} == voices
    assert [(p["speechMetadata"]["speaker"], p["text"]) for p in talk.body["contents"][0]["parts"]] == [
        ("Pip", "Hello, Rolo! Shall we look for the frog?"), ("Rolo", "Yes please, Pip! I love frogs.")]
    said = parse_srt((Path(result.last_line).parent / "subtitles.srt").read_text())
    assert [t for _, _, t in said if ":" in t] == ["PIP: Hello, Rolo! Shall we look for the frog?",
                                                   "ROLO: Yes please, Pip! I love frogs.",
                                                   "ROLO: What a lovely day it has been."]
    # Each clip started from its still on Omni Flash (Interactions API, in the background), prompted the way
    # Google's video guide asks: the shot, the subject and its action, one camera move, the ambience and a sound
    # cue, the style kept; what must never appear as "Avoid:"; the sound asked to be ambience only.
    omni = fake.calls("omni")
    assert len(omni) == 3 and all(r.path == "/v1beta/interactions" for r in omni)
    for r in omni:
        blocks = r.body["input"][0]["content"]
        text = blocks[0]["text"]
        assert text.startswith(("Wide shot, eye level: Pip and Rolo", "Medium shot, eye level: "))
        assert "slow push in" in text and "a bee hums past" in text and "Style: gouache picture-book" in text
        assert "Avoid: on-screen text, captions, subtitles, watermarks" in text
        # A scene whose characters speak has them say their lines in the clip, quoted as Google's video guide
        # quotes dialogue; the others ask for ambience alone.
        quoted = re.findall(r'At about \d+ s, (\w+) says: "([^"]+)"', text)
        if "scene 1," in text:
            assert quoted == [("Pip", "Hello, Rolo! Shall we look for the frog?"),
                              ("Rolo", "Yes please, Pip! I love frogs.")] and "lips in sync" in text
        elif "scene 3," in text:
            assert quoted == [("Rolo", "What a lovely day it has been.")] and "lips in sync" in text
        else:
            assert quoted == [] and "no speech" in text
        assert [b["type"] for b in blocks] == ["text", "image"] and blocks[1]["mime_type"] == "image/png"
        fmt = r.body["response_format"]
        assert fmt["type"] == "video" and fmt["aspect_ratio"] == "16:9" and fmt["resolution"] == "720p"
        assert r.body["generation_config"]["video_config"]["task"] == "image_to_video" and r.body["background"]
    for scene in manifest["scenes"]:  # each clip as long as its scene (no frozen tail), its sound under the voice
        [ask] = [r for r in omni if f"scene {scene['index']}," in r.body["input"][0]["content"][0]["text"]]
        assert int(ask.body["response_format"]["duration"].rstrip("s")) >= scene["duration"] - 1e-6
        assert scene["clip_sound"] is True and scene["clip_note"] is None
    assert fake.calls("omni_poll") and fake.refusals == []
    # Lyria 3 composed the bed to the cut's length: genre, instruments and tempo named, instrumental said.
    [song] = fake.calls("lyria3")
    assert "Instrumental" in song.body["input"] and "BPM" in song.body["input"] and "no vocals" in song.body["input"]
    seconds = int(re.search(r"About (\d+) seconds", song.body["input"]).group(1))
    assert abs(seconds - sum(s["duration"] for s in manifest["scenes"])) < 3
    assert [c["cost_usd"] for c in manifest["calls"] if c["tool"] == "make_music"] == [pytest.approx(0.08)]
    billed = sum(c["cost_usd"] for c in manifest["calls"] if c["tool"] == "animate_image")
    assert billed == pytest.approx(0.1014 * sum(s["clip"]["duration"] for s in manifest["scenes"]), rel=0.02)
    # Images came back 1344x768 and were fitted; TTS PCM was wrapped into WAV with its real length.
    for scene in manifest["scenes"]:
        assert (scene["image"]["width"], scene["image"]["height"]) == (1280, 720)
        assert scene["audio"]["duration"] > 2.0
    assert manifest["totals"]["cost_usd"] > 0.1 and manifest["totals"]["input_tokens"] > 0


def test_vertex_express_with_veo(fake, capsys, workspace, fast, monkeypatch):
    monkeypatch.delenv("DIRECTOR_FPS")  # the cut's frame rate is the clips' own here
    result = make(capsys, workspace, "--backend", "vertex", "--aspect", "9:16", "--run-id", "veo", "--dialogue", "none")
    # Three Veo clips cost more than the default cap: the run quotes first and stops before any media.
    assert result.code == 0, result.err
    # The stills are 1080x1920, asked for at 2K (checked below), and quoted at 2K's price: 3 x $0.0504.
    assert "quote: about $9.90 for 3 scenes (draw_character $0.07, create_image $0.15" in result.err
    assert "cap $2.00 (DIRECTOR_DEFAULT_BUDGET_USD" in result.err
    assert "make_music $0.06" in result.err  # Lyria composes the bed on Vertex, at its price per track
    assert "paused before spending" in result.err and "past the $2.00 cap" in result.err
    assert not [r for r in fake.billable() if r.kind in ("image", "tts", "veo", "lyria")]  # no media paid for
    result = run_cli(capsys, "resume", "veo", "--budget", "20", "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert "vertex express (API key)" in result.err
    # Veo 3.1 at its own 1080p, and the cut at its clips' size and 24 fps: nothing resampled.
    manifest = check_final(Path(result.last_line), size=(1080, 1920), cues=3, fps=24)
    assert manifest["backends"]["motion"] == {"backend": "veo", "model": "veo-3.1-generate-001"}
    assert all((s["image"]["width"], s["image"]["height"]) == (1080, 1920) for s in manifest["scenes"])
    assert {r.body["generationConfig"]["imageConfig"]["imageSize"] for r in fake.calls("image")
            if r.body["generationConfig"]["imageConfig"]["aspectRatio"] == "9:16"} == {"2K"}
    prefix = "/v1beta1/publishers/google/models/"
    assert {r.path for r in fake.calls("image")} == {prefix + "gemini-nano-banana-2.1:generateContent"}
    starts = fake.calls("veo")
    assert len(starts) == 3 and all(r.path == prefix + "veo-3.1-generate-001:predictLongRunning" for r in starts)
    for r in starts:
        instance = r.body["instances"][0]
        assert instance["image"]["mimeType"] == "image/png" and len(instance["image"]["bytesBase64Encoded"]) > 1000
        params = r.body["parameters"]
        assert params["durationSeconds"] == 8 and params["resolution"] == "1080p"  # 1080p clips are 8 s
        assert params["aspectRatio"] == "9:16" and params["personGeneration"] == "allow_adult"
        assert params["generateAudio"] is False  # the narration replaces it: half the price
        assert params["negativePrompt"].startswith("on-screen text, captions") and 0 <= params["seed"] < 2**32
        assert instance["prompt"].startswith(("Wide shot, eye level: ", "Medium shot, eye level: "))
        assert "slow push in" in instance["prompt"] and "lastFrame" not in instance
    assert len(fake.calls("veo_poll")) == 3 * fake.veo_polls
    assert fake.refusals == []  # every image, Veo and poll request used only fields the API knows
    # Billed as requested: 8 s of 1080p video without sound at $0.20/s, whatever the scene's length inside it.
    assert {round(c["cost_usd"], 2) for c in manifest["calls"] if c["tool"] == "animate_image"} == {1.6}


def test_vertex_project_mode_with_service_account(fake, capsys, workspace, fast, monkeypatch, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    sa = tmp_path / "sa.json"
    sa.write_text(json.dumps({"type": "service_account", "project_id": "demo-project", "private_key_id": "k1",
                              "private_key": pem, "client_email": "director@demo-project.iam.gserviceaccount.com",
                              "client_id": "1", "token_uri": f"{fake.url}/token"}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(sa))
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "europe-west4")
    monkeypatch.delenv("GEMINI_API_KEY")
    result = run_cli(capsys, "make", "a fox in the snow", "--scenes", "1", "--dialogue", "none", "--workspace",
                     str(workspace))
    assert result.code == 0, result.err
    assert "backend vertex (GOOGLE_GENAI_USE_VERTEXAI is set)" in result.err
    assert fake.calls("token")
    model_calls = [r for r in fake.requests if r.model]
    # Each model at its own location: Gemini 3.x on the global endpoint, Veo and Lyria in the chosen region.
    where = {r.model: r.path.split("/publishers/")[0] for r in model_calls}
    base = "/v1beta1/projects/demo-project/locations/"
    assert where == {"gemini-3.8-flash": base + "global", "gemini-nano-banana-2.1": base + "global",
                     "gemini-3.8-flash-tts": base + "global", "veo-3.1-generate-001": base + "europe-west4",
                     "lyria-002": base + "europe-west4"}
    assert not fake.calls("not_found")
    assert all(r.headers.get("authorization") == "Bearer fake-access-token" for r in model_calls)


def test_429_waits_for_retry_delay_then_succeeds(fake, capsys, workspace, fast):
    fake.fail("story", 429, retry_delay="1s")
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    first, second = fake.calls("story")
    assert second.at - first.at >= 1.0
    assert "↻ write_story: attempt 1/5 failed" in result.err and "RESOURCE_EXHAUSTED" in result.err
    [(attempts, log)] = db_rows(workspace / "director.db",
                                "SELECT attempts, retry_log FROM tool_calls WHERE tool='write_story'")
    assert attempts == 2 and json.loads(log)[0]["wait_s"] >= 1.0


def test_a_burst_of_500s_is_retried(fake, capsys, workspace, fast):
    still = lambda r: "Reference picture of the place" not in r.text and "Character reference sheet" not in r.text  # noqa: E731
    fake.fail("image", 500, times=3, when=still)
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert len([r for r in fake.calls("image") if still(r)]) == 4
    [(attempts,)] = db_rows(workspace / "director.db", "SELECT attempts FROM tool_calls WHERE tool='create_image'")
    assert attempts == 4


def test_exhausted_retries_fail_clearly_and_resume_finishes(fake, capsys, workspace, fast, monkeypatch):
    monkeypatch.setenv("DIRECTOR_MAX_ATTEMPTS", "3")
    fake.fail("tts", 503, times=3, when=lambda r: "scene 2" in r.text)
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "2", "--backend", "gemini",
                     "--workspace", str(workspace), "--run-id", "flaky")
    assert result.code == 1
    assert "narrate scene 2: gemini-3.8-flash-tts: 503 UNAVAILABLE" in result.err
    assert "gave up after 3 attempts" in result.err
    assert "director resume flaky" in result.err
    mark = last_call_id(workspace)
    result = run_cli(capsys, "resume", "flaky", "--workspace", str(workspace))
    assert result.code == 0, result.err
    executed = db_rows(workspace / "director.db",
                       "SELECT tool, args_json FROM tool_calls WHERE run_id='flaky' AND reused=0 AND error IS NULL "
                       f"AND tool!='brain' AND id>{mark}")
    assert sorted(t for t, _ in executed) == ["animate_image", "assemble_video", "make_music", "narrate"]
    assert all(json.loads(a).get("scene", 2) == 2 for _, a in executed)
    check_final(Path(result.last_line), cues=2)


def test_safety_block_fails_one_scene_and_resume_redoes_only_it(fake, capsys, workspace, fast):
    fake.block("image", lambda r: "scene 2" in r.text)
    result = make(capsys, workspace, "--backend", "gemini", "--run-id", "safe", "--budget", "10")
    assert result.code == 1
    assert "create_image scene 2: image: output withheld (IMAGE_SAFETY)" in result.err
    state = json.loads((workspace / "runs" / "safe" / "manifest.json").read_text())
    by_index = {s["index"]: s for s in state["scenes"]}
    for i in (1, 3):
        assert by_index[i]["image"] and by_index[i]["audio"] and by_index[i]["clip"] and not by_index[i]["error"]
    assert by_index[2]["image"] is None and "IMAGE_SAFETY" in by_index[2]["error"]
    assert state["status"] == "failed" and state["final"] is None

    fake.unblock()
    mark = last_call_id(workspace)
    result = run_cli(capsys, "resume", "safe", "--workspace", str(workspace))
    assert result.code == 0, result.err
    redone = db_rows(workspace / "director.db",
                     f"SELECT tool, args_json, reused FROM tool_calls WHERE run_id='safe' AND tool!='brain' AND id>{mark}")
    executed = [(t, json.loads(a).get("scene")) for t, a, reused in redone if not reused]
    # The music bed comes once every scene has its clip, so it is made now too (it was never reached).
    assert sorted(executed, key=str) == sorted([("create_image", 2), ("check_continuity", 2), ("animate_image", 2),
                                                ("make_music", None), ("assemble_video", None)], key=str)
    check_final(Path(result.last_line), cues=3)


def test_budget_stops_before_the_call_that_would_exceed_it(fake, capsys, workspace, fast):
    result = make(capsys, workspace, "--backend", "gemini", "--budget", "0.06",
                  "--run-id", "thrifty")
    assert result.code == 3
    assert "would cost about $0.034" in result.err and "$0.06 budget" in result.err
    assert "director resume thrifty --budget <more>" in result.err
    spent = db_rows(workspace / "director.db", "SELECT SUM(cost_usd) FROM tool_calls WHERE run_id='thrifty'")[0][0]
    assert spent <= 0.06
    [(status,)] = db_rows(workspace / "director.db", "SELECT status FROM runs WHERE id='thrifty'")
    assert status == "stopped"
    done_before = {(t, a) for t, a in db_rows(workspace / "director.db",
                   "SELECT tool, args_json FROM tool_calls WHERE run_id='thrifty' AND reused=0 AND error IS NULL "
                   "AND tool!='brain'")}
    result = run_cli(capsys, "resume", "thrifty", "--workspace", str(workspace), "--budget", "3.00")
    assert result.code == 0, result.err
    rows = db_rows(workspace / "director.db",
                   "SELECT tool, args_json, reused FROM tool_calls WHERE run_id='thrifty' AND tool!='brain'")
    executed = [(t, a) for t, a, reused in rows if not reused]
    assert len(executed) == len(set(executed))  # nothing paid for twice
    assert done_before <= set(executed)
    check_final(Path(result.last_line), cues=3)
    listing = json.loads(run_cli(capsys, "runs", "--workspace", str(workspace), "--json").out)
    assert 0.06 < listing[0]["cost_usd"] <= 3.0 and listing[0]["budget_usd"] == 3.0


def test_the_api_key_never_leaks(fake, capsys, workspace, fast, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    fake.fail("image", 429, retry_delay="0.1s")
    result = run_cli(capsys, "-vv", "make", "a cat naps", "--scenes", "2", "--backend", "gemini",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert any(r.headers.get("x-goog-api-key") == TEST_KEY for r in fake.requests)  # it was used...
    haystacks = [result.out, result.err, caplog.text]
    for path in workspace.rglob("*"):
        if path.is_file() and path.suffix in (".db", ".json", ".srt", ".html", ".db-wal", ".txt", ""):
            haystacks.append(path.read_bytes().decode("latin-1"))
    blobs = checkpoint_blobs(workspace / "director.db")  # compressed in the file: look inside too
    assert len(blobs) > 10
    haystacks += [plain.decode("latin-1") for _, plain in blobs]
    assert not any(TEST_KEY in h for h in haystacks)  # ...and written nowhere


def test_model_mistakes_go_back_to_the_model(fake, capsys, workspace, fast):
    fake.signatures.add("c2lnLTE=")  # as if the model had signed its call
    fake.enqueue("brain", {"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"id": "bad-1", "name": "make_it_pop", "args": {"scene": 1}}, "thoughtSignature": "c2lnLTE="},
        {"functionCall": {"id": "bad-2", "name": "create_image", "args": {"scene": "two", "prompt": "x"}}},
    ]}, "finishReason": "STOP"}]})
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    echoed = fake.calls("brain")[1].body["contents"][-2]["parts"]
    assert echoed[0]["functionCall"]["id"] == "bad-1" and echoed[0]["thoughtSignature"] == "c2lnLTE="
    answer = fake.calls("brain")[1].body["contents"][-1]["parts"]
    errors = {p["functionResponse"]["name"]: p["functionResponse"]["response"]["error"] for p in answer}
    assert "unknown tool 'make_it_pop'" in errors["make_it_pop"]
    assert errors["create_image"].startswith("bad arguments for create_image:")
    assert "scene" in errors["create_image"] and "aspect" in errors["create_image"]


def test_a_blocked_brain_reply_is_retried_then_stops_resumable_with_its_reason(fake, capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_BRAIN_RETRIES", "2")
    fake.block("brain", lambda r: True, reason="SAFETY")
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace), "--run-id", "blocked")
    assert result.code == 1
    assert "the model gave no usable reply in 3 tries; the last was BLOCKED: output withheld (SAFETY)" in result.err
    brain = fake.calls("brain")
    assert len(brain) == 3
    # Each retry carries a corrective note as the last user text; the saved log does not keep it.
    assert "withheld by a safety filter" in brain[1].body["contents"][-1]["parts"][-1]["text"]
    fake.unblock()
    result = run_cli(capsys, "resume", "blocked", "--workspace", str(workspace))
    assert result.code == 0, result.err
    check_final(Path(result.last_line), cues=1)


def test_veo_needs_vertex_in_api_key_mode(fake, capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_MOTION_BACKEND", "veo")  # on an API key, motion is Omni unless Veo is asked for
    result = make(capsys, workspace, "--backend", "gemini")
    assert result.code == 2
    assert "Veo motion needs Vertex AI" in result.err and "GOOGLE_GENAI_USE_VERTEXAI=true" in result.err
    assert not fake.requests and not (workspace / "director.db").exists()


@pytest.mark.parametrize("name, value", [("DIRECTOR_IMAGE_BACKEND", "imagen"),
                                         ("DIRECTOR_IMAGEN_MODEL", "imagen-4.0-generate-001")])
def test_imagen_is_gone_with_one_line(fake, capsys, workspace, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    result = make(capsys, workspace, "--backend", "vertex", "--dialogue", "none")
    assert result.code == 2 and "Imagen is shut down" in result.err and "2026-08-17" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "gemini-nano-banana-2.1" in result.err
    assert not fake.requests and not (workspace / "director.db").exists()


def test_veo_404_says_billing(fake, capsys, workspace, fast):
    fake.fail("veo", 404, times=5)
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "vertex", "--dialogue", "none",
                     "--workspace", str(workspace))
    assert result.code == 1
    assert "no billing enabled for Veo" in result.err and "DIRECTOR_VIDEO_MODEL=veo-3.1-generate-001" in result.err


def test_reve_images_with_retry_after_and_credits(fake, capsys, workspace, fast, monkeypatch):
    monkeypatch.setenv("DIRECTOR_IMAGE_BACKEND", "reve")
    monkeypatch.setenv("REVE_API_KEY", "reve-secret-key")
    fake.fail("reve_create", 429, retry_after="1")
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "local", "--workspace", str(workspace),
                     "--run-id", "r1")
    assert result.code == 0, result.err
    creates = fake.calls("reve_create")  # the characters' sheets: the first was refused once, then made
    retried = [(a, b) for i, a in enumerate(creates) for b in creates[i + 1:] if a.body["prompt"] == b.body["prompt"]]
    first, second = next((a, b) for a, b in retried if b.at - a.at >= 1.0)  # Retry-After: 1 was obeyed
    assert second.headers["authorization"] == "Bearer reve-secret-key"
    assert second.body["aspect_ratio"] == "1:1" and "Character reference sheet" in second.body["prompt"]
    # The still is a remix with the sheet as its reference picture.
    remix = fake.calls("reve_remix")[0]
    assert remix.body["aspect_ratio"] == "16:9" and "Characters" in remix.body["prompt"]
    assert len(remix.body["reference_images"]) >= 1 and "<img>0</img>" in remix.body["prompt"]
    manifest = json.loads((workspace / "runs" / "r1" / "manifest.json").read_text())
    assert manifest["backends"]["image"]["backend"] == "reve"
    assert "reve-secret-key" not in (workspace / "director.db").read_bytes().decode("latin-1")

    fake.reve_credits = 0
    result = run_cli(capsys, "make", "a dog runs", "--scenes", "1", "--backend", "local", "--workspace", str(workspace),
                     "--run-id", "r2")
    assert result.code == 3
    assert "Reve credits are exhausted (402" in result.err and "director resume r2" in result.err


def test_rate_limits_come_from_config_and_env(tmp_path, monkeypatch):
    from director.config import load_settings

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[rate_limits]\n"gemini-3.8-flash" = 30\n"gemini-nano-banana-2.1" = 5\n'
                                      '[prices."gemini-3.8-flash"]\ninput_per_mtok = 1.0\n')
    monkeypatch.setenv("DIRECTOR_HOME", str(home))
    monkeypatch.setenv("GEMINI_RATE_LIMITS", '{"gemini-3.8-flash": 10}')
    monkeypatch.setenv("VEO_RATE_LIMITS", '{"veo-3.1-generate-001": 2}')
    settings = load_settings()
    assert settings.rate_limits() == {"gemini-3.8-flash": 10.0, "gemini-nano-banana-2.1": 5.0,
                                      "veo-3.1-generate-001": 2.0}
    from director.prices import Prices

    assert Prices(settings.file_config()["prices"]).tokens("gemini-3.8-flash", 1_000_000, 0) == 1.0


def test_rate_limit_spaces_requests():
    """600 per minute is one request every 0.1 s: no window holds more than the limit allows."""
    import time

    from director.errors import ProviderError
    from director.limits import Limits

    limits = Limits(rpm={"spacing-test": 600}, max_attempts=1, backoff_base_s=0, backoff_max_s=0)
    never = lambda exc: ProviderError(str(exc), provider="x")  # noqa: E731
    stamps: list[float] = []
    for _ in range(6):
        limits.call("spacing-test", lambda: stamps.append(time.monotonic()), classify=never)
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert min(gaps) >= 0.09, gaps  # paced, not a burst of six


def test_edit_and_remix_over_the_wire(fake, tmp_path, monkeypatch):
    """Gemini image edit/remix send inline images in <img>N</img> order; Reve gets base64 references."""
    import base64 as b64

    from PIL import Image as PILImage

    from director.backends.gemini import GeminiImageMaker, GoogleClient
    from director.backends.reve import ReveImageMaker
    from director.config import load_settings
    from director.errors import ToolArgumentError
    from director.limits import Limits

    monkeypatch.setenv("REVE_API_KEY", "reve-key")
    settings = load_settings()
    limits = Limits(rpm={}, max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.05)
    pics = []
    for i, colour in enumerate(("red", "blue")):
        pics.append(tmp_path / f"p{i}.png")
        PILImage.new("RGB", (64, 48), colour).save(pics[-1])
    gemini = GeminiImageMaker(GoogleClient(settings, vertex=False, limits=limits), settings.image_model)
    gemini.edit_image(pics[0], "make it a tilt-shift miniature", out=tmp_path / "e.png")
    gemini.remix_images(pics, "the fox of <img>1</img> in the field of <img>0</img>", width=1280, height=720,
                        out=tmp_path / "r.png")
    edit_req, remix_req = fake.calls("image")
    assert len(edit_req.inline_parts()) == 1 and "tilt-shift" in edit_req.text
    texts = [p.get("text") for p in remix_req.body["contents"][0]["parts"] if "text" in p]
    assert texts == ["the fox of image 1 in the field of image 0", "image 0:", "image 1:"]
    decoded = [b64.urlsafe_b64decode(p["data"] + "=" * (-len(p["data"]) % 4)) for p in remix_req.inline_parts()]
    assert [PILImage.open(io.BytesIO(d)).getpixel((0, 0)) for d in decoded] == [(255, 0, 0), (0, 0, 255)]
    assert remix_req.body["generationConfig"]["imageConfig"]["aspectRatio"] == "16:9"
    with pytest.raises(ToolArgumentError, match="refers to <img>2</img> but only 2 image"):
        gemini.remix_images(pics, "<img>2</img> and <img>0</img>", width=64, height=64, out=tmp_path / "x.png")

    reve = ReveImageMaker(settings, limits)
    reve.edit_image(pics[0], "warmer", out=tmp_path / "re.png")
    reve.remix_images(pics, "<img>0</img> meets <img>1</img>", width=720, height=1280, out=tmp_path / "rr.png")
    [edit], [remix] = fake.calls("reve_edit"), fake.calls("reve_remix")
    assert edit.body["edit_instruction"] == "warmer" and b64.b64decode(edit.body["reference_image"]) == pics[0].read_bytes()
    assert remix.body["aspect_ratio"] == "9:16" and len(remix.body["reference_images"]) == 2
    assert all(PILImage.open(p).format == "PNG" for p in (tmp_path / "re.png", tmp_path / "rr.png"))
