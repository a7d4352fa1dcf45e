"""Against the real Gemini API: run with RUN_LIVE=1 and GEMINI_API_KEY (or GOOGLE_API_KEY) set.

    RUN_LIVE=1 GEMINI_API_KEY=... .venv/bin/python -m pytest -q tests/test_live.py

It makes a 2-scene story with the approval gate on, approves it, and checks the
video: the path a user with a key takes first, on today's default models
(gemini-3.8-flash, gemini-nano-banana-2.1, gemini-3.8-flash-tts, as director/models.toml
has them). It costs about ten US cents (sheets, two stills, two narrations, a few
brain turns; motion is local Ken Burns). Every model is asked about first (models.get),
so a default Google has shut down fails here in one line before anything is paid.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import check_final, run_cli

pytestmark = pytest.mark.live


@pytest.fixture
def live_key(monkeypatch):
    key = os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY")
    if not key:
        pytest.skip("set GEMINI_API_KEY (or GOOGLE_API_KEY) for the live test")
    for name in ("GOOGLE_GEMINI_BASE_URL", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    return key


def test_a_two_scene_story_through_the_gate(live_key, capsys, tmp_path):
    ws = tmp_path / "ws"
    result = run_cli(capsys, "make", "a 2-scene story about a fox and an owl", "--backend", "gemini",
                     "--fallback", "local", "--approve", "--run-id", "live", "--workspace", str(ws))
    assert result.code == 0, result.err
    assert "paused for approval" in result.err
    result = run_cli(capsys, "resume", "live", "--approve", "yes", "--workspace", str(ws))
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    assert live_key not in (ws / "director.db").read_bytes().decode("latin-1")
    from director.models import catalog

    assert manifest["backends"]["brain"]["model"] == catalog().defaults["brain"]
    assert 0 < manifest["totals"]["cost_usd"] < 1.0
