"""conversation(): any saved message log becomes a history the function-calling rules accept.

The rules are checked twice: directly on the turns, and by the test fake's own
validator on the JSON google-genai would send for them.
"""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from director.backends.gemini import to_contents
from director.brain.conversation import Call, Response, Text, conversation
from director.state import Message, ToolCall, ToolResult
from tests.fakes import rules

NAMES = ["write_story", "create_image", "narrate", "animate_image", "assemble_video"]


@st.composite
def logs(draw) -> list[Message]:
    """Message logs in any order a run could have saved, and some it never should."""
    messages: list[Message] = []
    made: list[ToolCall] = []
    for step in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["user", "brain_calls", "brain_text", "tool", "tool_partial", "tool_orphan"]))
        if kind == "user":
            intent = draw(st.sampled_from(["goal", "revision", "approval", "resume", ""]))
            text = draw(st.sampled_from(["a fox story", "approved", "cancelled", "make scene 2 at night", "",
                                         "Resume: finish the video"]))
            messages.append(Message(role="user", text=text, intent=intent))
        elif kind == "brain_calls":
            calls = []
            for i in range(draw(st.integers(1, 4))):
                model_id = draw(st.one_of(st.none(), st.just(f"fc-{step}-{i}")))
                signature = draw(st.one_of(st.none(), st.just(base64.b64encode(f"sig{step}.{i}".encode()).decode())))
                calls.append(ToolCall(id=f"g{step}.{i}", name=draw(st.sampled_from(NAMES)), args={"scene": i + 1},
                                      model_id=model_id, signature=signature))
            made.extend(calls)
            messages.append(Message(role="brain", text="Running.", calls=calls))
        elif kind == "brain_text":
            messages.append(Message(role="brain", text=draw(st.sampled_from(["Done.", ""]))))
        elif made:
            pool = made[-4:]
            if kind == "tool_partial":
                pool = pool[: draw(st.integers(0, len(pool)))]
            elif kind == "tool_orphan":
                pool = [ToolCall(id=f"ghost{step}", name="narrate")]
            results = [ToolResult(call_id=c.id, name=c.name, ok=draw(st.booleans()), output={"ok": 1},
                                  error="boom") for c in pool]
            messages.append(Message(role="tool", results=results))
    return messages


def check_rules(messages: list[Message]) -> None:
    turns = conversation(messages)
    assert turns and turns[0].role == "user" and turns[-1].role == "user"
    for a, b in zip(turns, turns[1:]):
        assert a.role != b.role, "turns alternate"
    for i, turn in enumerate(turns):
        assert turn.parts, "no empty turn"
        calls = turn.calls
        responses = [p for p in turn.parts if isinstance(p, Response)]
        if turn.role == "user":
            assert not calls
        else:
            assert not responses and not any(isinstance(p, Text) and not p.text for p in turn.parts)
        if calls:
            following = turns[i + 1]
            answers = [p for p in following.parts if isinstance(p, Response)]
            assert [a.call for a in answers] == calls, "same calls, same order"
            assert following.parts[: len(calls)] == answers, "the responses come first"
        if responses:
            assert i > 0 and [r.call for r in responses] == turns[i - 1].calls
    # Nothing the user said is lost, and it keeps its order.
    said = [m.text for m in messages if m.role == "user" and m.text.strip()]
    kept = [p.text for t in turns if t.role == "user" for p in t.parts if isinstance(p, Text)]
    assert [t for t in kept if t != "Continue."] == said
    # Every call the brain made is sent once, with its id and signature.
    sent = [p.call for t in turns for p in t.parts if isinstance(p, Call)]
    assert sent == [c for m in messages if m.role == "brain" for c in m.calls]
    # A result that was saved for a call is the one sent back.
    saved = {r.call_id: r for m in messages if m.role == "tool" for r in m.results}
    for t in turns:
        for p in t.parts:
            if not isinstance(p, Response):
                continue
            if p.call.id in saved:
                result = saved[p.call.id]
                assert (p.output, p.error) == ((result.output, None) if result.ok else (None, result.error))
            else:
                assert p.error and p.error.startswith("not run: ")


@settings(max_examples=400, deadline=None)
@given(logs())
def test_any_saved_log_gives_a_history_that_obeys_the_rules(messages):
    check_rules(messages)


@settings(max_examples=150, deadline=None)
@given(logs())
def test_the_contents_sent_pass_the_fakes_validator(messages):
    contents = [c.model_dump(mode="json", exclude_none=True) for c in to_contents(messages)]
    assert rules.turn_order(contents) is None


def test_the_approval_gate_order_of_the_old_version_is_repaired():
    """brain calls, then the user's 'approved', then the results: the words go after the responses."""
    calls = [ToolCall(id="g3.1", name="narrate", args={"scene": 1}, model_id="fc-1", signature="c2ln"),
             ToolCall(id="g3.2", name="animate_image", args={"scene": 1}, model_id="fc-2")]
    messages = [
        Message(role="user", text="a fox story", intent="goal"),
        Message(role="brain", text="Running.", calls=calls),
        Message(role="user", text="approved", intent="approval"),
        Message(role="tool", results=[ToolResult(call_id="g3.1", name="narrate", ok=True, output={"seconds": 2}),
                                      ToolResult(call_id="g3.2", name="animate_image", ok=False, error="boom")]),
    ]
    turns = conversation(messages)
    assert [t.role for t in turns] == ["user", "model", "user"]
    assert turns[1].parts == [Call(calls[0]), Call(calls[1])]
    assert turns[2].parts == [Response(calls[0], output={"seconds": 2}), Response(calls[1], error="boom"),
                              Text("approved")]
    [model, answer] = [c.model_dump(mode="json", exclude_none=True) for c in to_contents(messages)[1:]]
    assert model["parts"][0]["thought_signature"] == "c2ln" and "thought_signature" not in model["parts"][1]
    assert [p["function_response"]["id"] for p in answer["parts"][:2]] == ["fc-1", "fc-2"]


def test_a_change_at_the_gate_answers_the_pending_calls_with_the_change():
    calls = [ToolCall(id="g3.1", name="narrate", args={"scene": 1})]
    messages = [
        Message(role="user", text="a fox story", intent="goal"),
        Message(role="brain", calls=calls),
        Message(role="user", text="make scene 1 at night", intent="revision"),
    ]
    turns = conversation(messages)
    assert turns[-1].parts == [
        Response(calls[0], error="not run: the user asked for a change instead: make scene 1 at night"),
        Text("make scene 1 at night")]


def test_the_validator_refuses_what_the_api_refuses():
    user = {"role": "user", "parts": [{"text": "hi"}]}
    call = {"role": "model", "parts": [{"functionCall": {"id": "a", "name": "narrate", "args": {}}}]}
    answer = {"role": "user", "parts": [{"functionResponse": {"id": "a", "name": "narrate", "response": {}}}]}
    assert rules.turn_order([user, call, answer]) is None
    assert rules.turn_order([user, call, user, answer]) == rules.PAIRING
    assert rules.turn_order([user, call]) == rules.PAIRING
    assert rules.turn_order([user, answer]) == rules.RESPONSE_AFTER_CALL
    assert rules.turn_order([call, answer]) == rules.CALL_AFTER_USER
    wrong_id = {"role": "user", "parts": [{"functionResponse": {"id": "b", "name": "narrate", "response": {}}}]}
    assert "does not match the function call id" in rules.turn_order([user, call, wrong_id])
    body = {"contents": [user], "generation_config": {"temperature": 0.2, "topK": 3}}
    assert rules.refuse(body, "gemini-2.5-flash", set()) is None  # both spellings are proto JSON
    body = {"contents": [{"role": "user", "parts": [{"text": "hi", "x": 1}]}]}
    assert rules.refuse(body, "gemini-2.5-flash", set()) == (
        "Invalid JSON payload received. Unknown name \"x\" at 'contents[0].parts[0]': Cannot find field.")
    body = {"contents": [user], "tools": [{"functionDeclarations": [
        {"name": "f", "parameters": {"type": "OBJECT", "additionalProperties": False}}]}]}
    assert "Unknown name \"additionalProperties\" at 'tools[0].function_declarations[0].parameters'" in \
        rules.refuse(body, "gemini-2.5-flash", set())
    assert rules.unknown_field({"instances": [{"prompt": "x", "anything": 1}], "parameters": {"sampleCount": 1}},
                               rules.PREDICT_REQUEST) is None  # Values: the API checks them itself
    assert "Unknown name \"instance\"" in rules.unknown_field({"instance": []}, rules.PREDICT_REQUEST)
    unsigned = {"contents": [user, call, answer]}
    assert "missing a thought_signature" in rules.refuse(unsigned, "gemini-3-pro-preview", set())
    signed = {"contents": [user, {"role": "model", "parts": [{**call["parts"][0], "thoughtSignature": "s1"}]}, answer]}
    assert rules.refuse(signed, "gemini-3-pro-preview", {"s1"}) is None
    assert rules.refuse(signed, "gemini-3-pro-preview", {"other"}) == "Corrupted thought signature."
