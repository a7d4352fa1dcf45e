"""Lyria 2 composes the music bed on Vertex: the request Vertex documents, its price, its memo
key, and a fake that refuses what Lyria refuses."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from tests.fakes.rules import lyria_problem
from tests.helpers import check_final, run_cli

GOAL = "a 2-scene bedtime story about a cat and a dog"


def test_the_fake_refuses_what_lyria_refuses():
    ok = {"instances": [{"prompt": "calm piano", "negative_prompt": "vocals", "seed": 7}], "parameters": {}}
    assert lyria_problem(ok) is None
    assert lyria_problem({"instances": [{"prompt": "calm piano"}], "parameters": {"sample_count": 2}}) is None
    both = {"instances": [{"prompt": "calm piano", "seed": 7}], "parameters": {"sample_count": 2}}
    assert "cannot be used together" in lyria_problem(both)
    assert "negativePrompt" in lyria_problem({"instances": [{"prompt": "x", "negativePrompt": "vocals"}]})
    assert "prompt is required" in lyria_problem({"instances": [{"negative_prompt": "vocals"}]})
    assert "unsigned 32-bit" in lyria_problem({"instances": [{"prompt": "x", "seed": -1}]})
    assert "duration" in lyria_problem({"instances": [{"prompt": "x"}], "parameters": {"duration": 60}})


def test_on_vertex_the_bed_is_composed_by_lyria_once(fake, capsys, workspace, fast, monkeypatch):
    monkeypatch.setenv("DIRECTOR_MOTION_BACKEND", "local")
    args = ("--workspace", str(workspace))
    result = run_cli(capsys, "make", GOAL, "--backend", "vertex", "--motion", "still", "--run-id", "ly", *args)
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    assert manifest["backends"]["music"] == {"backend": "lyria", "model": "lyria-002"}
    calls = fake.calls("lyria")
    assert len(calls) == 1 and fake.refusals == []
    assert calls[0].path == "/v1beta1/publishers/google/models/lyria-002:predict"
    instance = calls[0].body["instances"][0]
    assert set(instance) == {"prompt", "negative_prompt", "seed"} and "sample_count" not in calls[0].body["parameters"]
    assert "vocals" in instance["negative_prompt"] and "Instrumental" in instance["prompt"]
    assert manifest["title"] in instance["prompt"]  # the prompt is written from the story
    # Billed per track, as quoted; the track is Lyria's 30 s of 48 kHz WAV, under the whole cut.
    music = [c for c in manifest["calls"] if c["tool"] == "make_music"]
    assert len(music) == 1 and music[0]["cost_usd"] == pytest.approx(0.06)
    bed = workspace / json.loads((workspace / "runs" / "ly" / "manifest.json").read_text())["music"]["path"]
    with wave.open(str(bed)) as w:
        assert w.getframerate() == 48_000 and w.getnframes() / w.getframerate() == pytest.approx(30.0)
    # Replaying the run reuses the track: Lyria is not asked (or paid) again.
    result = run_cli(capsys, "replay", "ly", *args)
    assert result.code == 0, result.err
    assert len(fake.calls("lyria")) == 1


def test_lyria_needs_vertex(fake, capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_MUSIC_BACKEND", "lyria")
    result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace", str(workspace))
    assert result.code == 2 and result.err.count("\n") == 1
    assert "Lyria music (DIRECTOR_MUSIC_BACKEND=lyria) needs Vertex AI" in result.err
    assert not fake.calls("lyria")
