"""Every way of talking to a run, with the Gemini brain, against a fake that refuses what the API refuses.

The fake checks each brain request's turn order, field names and (for Gemini 3)
thought signatures, and answers 400 in Google's shape when one is wrong; every
test here ends by asserting it never had to.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.helpers import check_final, db_rows, run_cli

GEMINI = ("--backend", "gemini")


def cli(capsys, ws: Path, *args: str):
    return run_cli(capsys, *args, "--workspace", str(ws))


def no_refusals(fake, ws: Path | None = None) -> None:
    """The fake refused nothing, and every run that stopped short says why."""
    assert fake.refusals == [], fake.refusals
    assert all(r.kind != "brain" or "functionCall" not in json.dumps(r.body["contents"][:1]) for r in fake.requests)
    for run_id, status, error in db_rows(ws / "director.db", "SELECT id, status, error FROM runs") if ws else []:
        assert status in ("done", "paused") or (error or "").strip(), (run_id, status)


def executed(ws: Path, run: str) -> list[tuple[str, int | None]]:
    rows = db_rows(ws / "director.db", f"SELECT tool, args_json FROM tool_calls WHERE run_id='{run}' AND reused=0 "
                                       "AND error IS NULL AND tool!='brain' ORDER BY id")
    return [(t, json.loads(a).get("scene")) for t, a in rows]


@pytest.mark.parametrize("model", ["gemini-3.5-flash-lite", "gemini-4-argon"])
def test_approve_then_resume(fake, capsys, workspace, fast, monkeypatch, model):
    monkeypatch.setenv("DIRECTOR_BRAIN_MODEL", model)
    result = cli(capsys, workspace, "make", "a 2-scene story about a fox", *GEMINI, "--approve", "--run-id", "gated")
    assert result.code == 0, result.err
    assert "paused for approval" in result.err
    # The story, the reference sheets, the stills and their checks come before the gate; nothing gated.
    assert {t for t, _ in executed(workspace, "gated")} == {"write_story", "draw_character", "create_image",
                                                            "check_continuity"}
    assert sorted(s for t, s in executed(workspace, "gated") if t == "create_image") == [1, 2]
    result = cli(capsys, workspace, "resume", "gated", "--approve", "yes")
    assert result.code == 0, result.err
    check_final(Path(result.last_line), cues=2)
    no_refusals(fake, workspace)
    if model.startswith("gemini-3"):
        # Every call turn went back with the signature the fake gave its first call.
        last = fake.calls("brain")[-1].body["contents"]
        signed = [c["parts"][0] for c in last if c["role"] == "model" and "functionCall" in c["parts"][0]]
        from tests.fakes.rules import proto_bytes

        issued = {proto_bytes(s) for s in fake.signatures}
        assert signed and all(proto_bytes(p.get("thoughtSignature")) in issued for p in signed)


def test_a_change_typed_at_the_gate_answers_the_pending_calls(fake, capsys, workspace, fast):
    result = cli(capsys, workspace, "make", "a 2-scene story about a fox", *GEMINI, "--approve", "--run-id", "night")
    assert result.code == 0 and "paused for approval" in result.err
    result = cli(capsys, workspace, "resume", "night", "--approve", "make scene 2 at night")
    assert result.code == 0, result.err
    assert "paused for approval" in result.err  # the redone narration still costs money: asked again
    result = cli(capsys, workspace, "resume", "night", "--approve", "yes")
    assert result.code == 0, result.err
    check_final(Path(result.last_line), cues=2)
    no_refusals(fake, workspace)
    # The model read that its narration calls did not run, and why, right after making them.
    contents = fake.calls("brain")[-1].body["contents"]
    not_run = [p["functionResponse"] for c in contents for p in c["parts"]
               if "functionResponse" in p and "error" in p["functionResponse"]["response"]]
    assert not_run and all(r["response"]["error"] == "not run: the user asked for a change instead: "
                           "make scene 2 at night" for r in not_run)
    manifest = json.loads((workspace / "runs" / "night" / "manifest.json").read_text())
    assert manifest["scenes"][1]["image_prompt"] == "REVISED(night)"


def test_say_replay_and_fork(fake, capsys, workspace, fast):
    result = cli(capsys, workspace, "make", "a 2-scene story about a fox", *GEMINI, "--run-id", "fox")
    assert result.code == 0, result.err
    result = cli(capsys, workspace, "say", "fox", "make scene 1 at dawn")
    assert result.code == 0, result.err
    history = json.loads(cli(capsys, workspace, "history", "fox", "--json").out)
    first = [h for h in history if h["node"] == "brain"][-1]["checkpoint"]
    result = cli(capsys, workspace, "replay", "fox", "--from", first)
    assert result.code == 0, result.err
    result = cli(capsys, workspace, "fork", "fox", "--from", first, "--say", "now 9:16", "--run-id", "fox-phone")
    assert result.code == 0, result.err
    check_final(Path(result.last_line), size=(720, 1280), cues=2)
    no_refusals(fake, workspace)


@pytest.mark.parametrize("approve", [True, False])
def test_chat(fake, capsys, workspace, fast, monkeypatch, approve):
    # With approval on, the revision's paid steps (a new clip) are asked for again.
    lines = "a 2-scene story about an owl\n" + ("yes\n" if approve else "") + "make scene 1 at night\n" + \
        ("yes\n" if approve else "")
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    result = cli(capsys, workspace, "chat", *GEMINI, "--dialogue", "none", "--approve" if approve else "--no-approve")
    assert result.code == 0, result.err
    replies = [line for line in result.out.splitlines() if line.startswith("director: ")]
    done = [r for r in replies if r.startswith("director: done")]
    assert len(done) == 2, replies
    if approve:
        assert any("the storyboard is ready" in r for r in replies)
    no_refusals(fake, workspace)


def test_malformed_and_empty_replies_are_retried_with_a_note(fake, capsys, workspace, fast):
    fake.enqueue("brain", {"candidates": [{"finishReason": "MALFORMED_FUNCTION_CALL"}]})
    fake.enqueue("brain", {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "STOP"}]})
    result = cli(capsys, workspace, "make", "a fox", "--scenes", "1", *GEMINI)
    assert result.code == 0, result.err
    brain = fake.calls("brain")
    assert "malformed function call" in brain[1].body["contents"][-1]["parts"][-1]["text"]
    assert "was empty" in brain[2].body["contents"][-1]["parts"][-1]["text"]
    # The notes were for those requests only: later ones carry neither.
    assert "malformed" not in json.dumps(brain[-1].body["contents"])
    no_refusals(fake, workspace)


def test_a_400_from_the_brain_stops_the_run_with_the_apis_words(fake, capsys, workspace, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a fox\n"))
    fake.fail("brain", 400, times=1, message="Please ensure that the number of function response parts is equal")
    result = cli(capsys, workspace, "chat", *GEMINI)
    assert result.code == 0
    stop = [line for line in result.out.splitlines() if line.startswith("director: ") and "400" in line]
    assert stop and "Please ensure that the number of function response parts" in stop[0]
    [(status, error)] = db_rows(workspace / "director.db", "SELECT status, error FROM runs")
    assert status == "failed" and "400 INVALID_ARGUMENT" in error


def test_every_stop_through_the_python_api_names_its_reason(fake, workspace, fast):
    from director.api import Director
    from director.errors import DirectorError

    fake.fail("brain", 400, times=1, message="Please ensure that function response turn comes immediately after")
    events: list[dict] = []
    with pytest.raises(DirectorError, match="400 INVALID_ARGUMENT: Please ensure that function response turn"):
        Director(workspace=workspace, backend="gemini").submit("a fox", scenes=1,
                                                                                on_event=events.append)
    fake.block("brain", lambda r: True, reason="SAFETY")
    run = Director(workspace=workspace, backend="gemini").submit("an owl", scenes=1, run_id="owl")
    assert run.status == "failed" and "BLOCKED: output withheld (SAFETY)" in run.error
    no_refusals(fake, workspace)


def test_three_failed_batches_stop_the_model_but_a_resume_starts_afresh():
    from director.brain.model import MAX_FAILED_TURNS, _failed_turns
    from director.state import DirectorState, Goal, Message, ToolCall, ToolResult

    def batch(ok: bool) -> list[Message]:
        call = ToolCall(id="c", name="animate_image", args={"scene": 1})
        return [Message(role="brain", calls=[call]),
                Message(role="tool", results=[ToolResult(call_id="c", name="animate_image", ok=ok, error=None if ok else "x")])]

    goal = Goal(text="a fox", scenes=1)
    failing = [Message(role="user", text="a fox", intent="goal"), *batch(True), *(m for _ in range(3) for m in batch(False))]
    state = DirectorState(run_id="r", goal=goal, messages=failing)
    assert _failed_turns(state) == MAX_FAILED_TURNS == 3
    resumed = state.model_copy(update={"messages": [*failing, Message(role="user", text="Resume", intent="resume"),
                                                    *batch(False)]})
    assert _failed_turns(resumed) == 1
