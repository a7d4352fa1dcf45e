"""Replay and fork work from every checkpoint; a change is applied or refused out loud, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from director.api import Director
from tests.helpers import DRAFT, check_final, run_cli


@pytest.fixture(scope="module")
def approved_run(tmp_path_factory):
    ws = tmp_path_factory.mktemp("edges") / "ws"
    director = Director(workspace=ws, backend="local", fps=12, x264_preset="ultrafast", resolution="360p")
    for run_id in ("fox", "owl"):  # the same goal twice: the second is served from the memo
        director.submit("a 2-scene story about a fox and an owl", run_id=run_id, approve=True, motion="still")
        assert director.resume(run_id, approve="yes").status == "done"
    return ws


def checkpoints(capsys, ws: Path, run_id: str = "fox") -> list[dict]:
    return json.loads(run_cli(capsys, "history", run_id, "--workspace", str(ws), "--json").out)


def test_replay_from_every_checkpoint_finishes_and_asks_nothing_again(approved_run, capsys, fast):
    ws = approved_run
    rows = [r for r in checkpoints(capsys, ws) if r["node"] != "fork"]
    for row in rows:
        result = run_cli(capsys, "replay", "fox", "--from", row["checkpoint"], "--workspace", str(ws))
        if row["next"] == []:
            assert result.code == 2 and "is the end of run fox" in result.err
            continue
        assert result.code == 0, (row, result.err)
        assert "paused" not in result.err  # approved once: a replay does not stop at the gate again
        header = result.err.splitlines()[0]
        assert "· 2 scenes · 16:9" in header, header
        check_final(Path(result.last_line), cues=2)
    status = {r["id"]: r["status"] for r in json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)}
    assert status["fox"] == "done"


def test_fork_from_every_checkpoint_applies_or_refuses_the_change(approved_run, capsys, fast):
    ws = approved_run
    rows = [r for r in checkpoints(capsys, ws, "owl") if r["node"] != "fork"]
    outcomes = []
    for i, row in enumerate(rows):
        result = run_cli(capsys, "fork", "owl", "--from", row["checkpoint"], "--say", "now 9:16", "--run-id",
                         f"fork{i}", "--workspace", str(ws))
        assert result.code == 0, (row, result.err)  # a change of shape applies anywhere, before the story too
        assert "· 9:16" in result.err.splitlines()[0]  # the header shows the shape it is making
        if "paused for approval" in result.err:  # a fork from before the approval asks for its own
            result = run_cli(capsys, "resume", f"fork{i}", "--approve", "yes", "--workspace", str(ws))
            assert result.code == 0, (row, result.err)
        check_final(Path(result.last_line), size=DRAFT[::-1], cues=2)
        manifest = json.loads((ws / "runs" / f"fork{i}" / "manifest.json").read_text())
        assert manifest["aspect"] == "9:16"
        # Before the story, the goal itself changes; after it, a revision of the storyboard does.
        outcomes.append("goal" if manifest["goal"]["aspect"] == "9:16" else "revision")
    assert "goal" in outcomes and "revision" in outcomes  # both kinds of checkpoint were tried
    # A change to the story itself still needs one to change.
    result = run_cli(capsys, "fork", "owl", "--from", rows[-1]["checkpoint"], "--say", "make scene 2 at night",
                     "--run-id", "early-night", "--workspace", str(ws))
    assert result.code == 2 and "comes before the story exists: only the frame shape, voice, music" in result.err


def test_a_fork_without_a_change_from_the_very_first_checkpoint_runs_whole(approved_run, capsys, fast):
    ws = approved_run
    first = [r for r in checkpoints(capsys, ws, "owl") if r["node"] != "fork"][-1]
    result = run_cli(capsys, "fork", "owl", "--from", first["checkpoint"], "--run-id", "again", "--workspace",
                     str(ws))
    assert result.code == 0, result.err
    assert "paused for approval" in result.err  # a fork is a new run: it asks for its own approval


def test_an_unknown_voice_is_refused_at_say_and_the_run_stays_whole(approved_run, capsys):
    ws = approved_run
    result = run_cli(capsys, "say", "fox", "voice en_US-amy-medium", "--workspace", str(ws))
    assert result.code == 2
    assert "unknown voice 'en_US-amy-medium' for the local voice backend" in result.err
    status = {r["id"]: r["status"] for r in json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)}
    assert status["fox"] == "done"


def test_a_fork_without_a_change_finishes_from_every_checkpoint(approved_run, capsys, fast):
    ws = approved_run
    for i, row in enumerate(r for r in checkpoints(capsys, ws, "owl") if r["node"] != "fork"):
        result = run_cli(capsys, "fork", "owl", "--from", row["checkpoint"], "--run-id", f"plain{i}", "--workspace",
                         str(ws))
        if "paused for approval" in result.err:
            result = run_cli(capsys, "resume", f"plain{i}", "--approve", "yes", "--workspace", str(ws))
        assert result.code == 0, (row, result.err)  # a fork at the gate once lost its batch and ended with no video
        check_final(Path(result.last_line), cues=2)
