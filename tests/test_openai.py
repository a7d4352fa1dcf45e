"""The openai family: an OpenAI-compatible model server of the user's own writes the story and plans the calls
(and looks at pictures when its model sees), through the official client, against a fake that refuses what the
OpenAI API refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import openai
import pytest
from PIL import Image

from director.backends.openai_api import OpenAIChat, OpenAIServer, OpenAIVision, check_settings, own_server
from director.config import load_settings
from director.errors import ConfigError, ProviderError
from director.state import Message, ToolCall, ToolResult
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import check_final, run_cli


@pytest.fixture
def server(monkeypatch):
    fake = FakeOpenAI().start()
    monkeypatch.setenv("DIRECTOR_OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("DIRECTOR_OPENAI_MODEL", "llama3.2")
    yield fake
    fake.stop()


def client(fake: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.url, api_key="none", max_retries=0)


def test_a_whole_story_through_the_server(server, capsys, tmp_path, fast):
    ws = tmp_path / "ws"
    result = run_cli(capsys, "make", "a 2-scene story about a hedgehog and a mole", "--workspace", str(ws),
                     "--run-id", "served")
    assert result.code == 0, result.err
    assert "backend openai" in result.err and "DIRECTOR_OPENAI_BASE_URL names a model server" in result.err
    assert f"openai: llama3.2 at {server.url} (story, brain; your own server, priced at $0)" in result.err
    check_final(Path(result.last_line))
    assert server.refusals == []
    assert len(server.calls("story")) == 1
    assert len(server.calls("brain")) >= 5  # sheets, stills and narration, clips, the cut, and the last word
    story = server.calls("story")[0].body
    assert story["response_format"]["json_schema"]["strict"] is True
    assert story["response_format"]["json_schema"]["name"] == "StoryDraft"
    manifest = json.loads((ws / "runs" / "served" / "manifest.json").read_text())
    assert manifest["totals"]["cost_usd"] == 0 and manifest["totals"]["input_tokens"] > 0
    assert manifest["backends"]["story"] == {"backend": "openai", "model": "llama3.2"}
    assert manifest["backends"]["image"]["backend"] == "local"
    assert manifest["title"].startswith("The Fake Tale of")  # the server's story, not the offline writer's
    # The last brain request carried the whole conversation, in an order the fake (like OpenAI) accepts.
    last = server.calls("brain")[-1].body["messages"]
    roles = [m["role"] for m in last]
    assert roles[0] == "system" and roles.count("tool") >= 5
    tools = {t["function"]["name"] for t in server.calls("brain")[0].body["tools"]}
    assert {"write_story", "create_image", "narrate", "animate_image", "assemble_video"} <= tools
    # A rerun of every call comes from the memo: no request reaches the server for the same story again.
    before = len(server.requests)
    replay = run_cli(capsys, "replay", "served", "--workspace", str(ws))
    assert replay.code == 0, replay.err
    assert len(server.calls("story")) == 1 and len(server.requests) > before  # the brain is asked, the story is not


def test_the_fake_refuses_what_openai_refuses(server):
    c = client(server)
    base = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
    refusals = {
        "unknown field": (dict(base, extra_body={"sparkle": 1}), 400, "Unrecognized request argument supplied: sparkle"),
        "unknown model": (dict(base, model="gpt-9"), 404, "The model `gpt-9` does not exist"),
        "orphan tool": ({"model": "llama3.2", "messages": [
            {"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "call_1", "content": "{}"}]},
            400, "must be a response to a preceeding message with 'tool_calls'"),
        "unanswered call": ({"model": "llama3.2", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "user", "content": "and?"}]}, 400, "did not have response messages: call_1"),
        "wrong call id": ({"model": "llama3.2", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_2", "content": "{}"}]}, 400, "'call_2' not found in 'tool_calls'"),
        "bad tool name": (dict(base, tools=[{"type": "function", "function": {"name": "write story"}}]), 400,
                          "Invalid 'tools[0].function.name'"),
        "no tools": (dict(base, tools=[]), 400, "Invalid 'tools': empty array"),
        "strict default": (dict(base, response_format={"type": "json_schema", "json_schema": {
            "name": "S", "strict": True, "schema": {"type": "object", "additionalProperties": False,
                                                   "required": ["a"], "properties": {"a": {"type": "string",
                                                                                         "default": "x"}}}}}),
            400, "'default' is not permitted"),
        "strict open object": (dict(base, response_format={"type": "json_schema", "json_schema": {
            "name": "S", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                                                   "required": ["a"]}}}),
            400, "'additionalProperties' is required to be supplied and to be false"),
        "strict optional": (dict(base, response_format={"type": "json_schema", "json_schema": {
            "name": "S", "strict": True, "schema": {"type": "object", "additionalProperties": False,
                                                   "properties": {"a": {"type": "string"}}}}}),
            400, "Missing 'a'"),
        "json object without the word": (dict(base, response_format={"type": "json_object"}), 400,
                                         "must contain the word 'json'"),
        "unknown message key": ({"model": "llama3.2", "messages": [{"role": "user", "content": "hi", "mood": "x"}]},
                                400, "Unknown parameter: 'messages[0].mood'"),
    }
    for what, (request, status, words) in refusals.items():
        with pytest.raises(openai.APIStatusError) as caught:
            c.chat.completions.create(**request)
        assert caught.value.status_code == status, what
        assert words in caught.value.body["message"], (what, caught.value.body)
    good = c.chat.completions.create(**base)
    assert good.choices[0].message.content == "OK."


def test_a_log_with_gaps_is_sent_in_an_order_the_api_takes(server):
    """Calls a crash left unanswered, results of calls never asked, and words said at the gate."""
    call = ToolCall(id="g1.1", name="write_story", args={"goal": "x", "scenes": 2}, model_id="call_a")
    lost = ToolCall(id="g1.2", name="narrate", args={"scene": 1, "text": "hi"}, model_id="call_b")
    log = [Message(role="user", text="a 2-scene story", intent="goal"),
           Message(role="brain", calls=[call, lost]),
           Message(role="user", text="approved", intent="approval"),
           Message(role="tool", results=[ToolResult(call_id="g1.1", name="write_story", ok=True, output={"title": "T"}),
                                         ToolResult(call_id="zz", name="narrate", ok=True, output={})]),
           Message(role="brain", calls=[ToolCall(id="g2.1", name="create_image", args={"scene": 1})])]
    server.enqueue("brain", "Waiting for the stills.")  # the order of what is sent is the point, not the plan
    chat = OpenAIChat(OpenAIServer(load_settings()))
    turn = chat.turn(system="Scenes: 2", messages=log, declarations=[
        {"name": n, "description": n, "parameters_json_schema": {"type": "object", "properties": {}}}
        for n in ("write_story", "narrate", "create_image")])
    assert server.refusals == [] and turn.problem is None and turn.text == "Waiting for the stills."
    sent = server.calls("brain")[-1].body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool", "user", "assistant", "tool"]
    assert [m.get("tool_call_id") for m in sent if m["role"] == "tool"] == ["call_a", "call_b", "g2.1"]
    assert "not run" in json.loads(sent[4]["content"])["error"]


def test_bad_replies_are_named(server):
    from director.backends.openai_api import OpenAIStoryWriter

    writer = OpenAIStoryWriter(OpenAIServer(load_settings()))
    server.enqueue("story", {"title": "No scenes"})
    with pytest.raises(ProviderError, match="the story came back malformed"):
        writer.write_story("a story", scenes=2, seed=1)
    server.enqueue("brain", lambda req: {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [{"id": "call_x", "type": "function", "function": {
            "name": "narrate", "arguments": "{scene: 1"}}]}}], "id": "c", "object": "chat.completion",
        "created": 0, "model": "llama3.2"})
    turn = OpenAIChat(OpenAIServer(load_settings())).turn(system="s", messages=[Message(role="user", text="go")],
                                                          declarations=[{"name": "narrate", "parameters_json_schema": {
                                                              "type": "object", "properties": {}}}])
    assert turn.problem == "MALFORMED_FUNCTION_CALL" and "not JSON" in turn.detail


def test_vision_when_the_model_sees(server, tmp_path):
    still, sheet = tmp_path / "still.png", tmp_path / "pip.png"
    Image.new("RGB", (640, 360), (90, 140, 60)).save(still)
    Image.new("RGB", (512, 512), (200, 120, 40)).save(sheet)
    vision = OpenAIVision(OpenAIServer(load_settings()))
    assert vision.check_continuity(still, [("Pip", sheet)]) == {"Pip": (0.92, "")}
    sent = server.calls("continuity")[-1].body
    assert sent["response_format"]["json_schema"]["name"] == "ContinuityVerdict"
    images = [p for p in sent["messages"][0]["content"] if p["type"] == "image_url"]
    assert len(images) == 2 and images[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "diorama" in vision.describe(still, style="diorama", title="T", plot="", transcript="")
    assert server.refusals == []


def test_settings_refused_in_one_line(monkeypatch, capsys, tmp_path):
    assert own_server("http://localhost:11434/v1") and own_server("http://192.168.1.20:8080/v1")
    assert own_server("http://ollama:11434/v1") and own_server("http://gpu.lan/v1")
    assert not own_server("https://api.openai.com/v1") and not own_server("http://8.8.8.8/v1")
    monkeypatch.setenv("DIRECTOR_OPENAI_BASE_URL", "https://api.openai.com/v1")
    monkeypatch.setenv("DIRECTOR_OPENAI_MODEL", "gpt-5")
    with pytest.raises(ConfigError, match="keeps no prices for hosted APIs"):
        check_settings(load_settings())
    monkeypatch.setenv("DIRECTOR_OPENAI_OWN_SERVER", "true")
    assert check_settings(load_settings()) == ("https://api.openai.com/v1", "gpt-5")
    monkeypatch.delenv("DIRECTOR_OPENAI_BASE_URL")
    result = run_cli(capsys, "make", "a 1-scene story", "--backend", "openai", "--workspace", str(tmp_path / "ws"))
    assert result.code != 0
    assert result.err.strip().splitlines() == [
        "error: the openai backend needs a model server: set DIRECTOR_OPENAI_BASE_URL (for example "
        "http://localhost:11434/v1 for Ollama) and DIRECTOR_OPENAI_MODEL"]
    assert not (tmp_path / "ws" / "runs").exists() or not any((tmp_path / "ws" / "runs").iterdir())


@pytest.mark.live
def test_a_real_server_writes_a_story(capsys, tmp_path):
    """RUN_LIVE=1 DIRECTOR_OPENAI_BASE_URL=http://localhost:11434/v1 DIRECTOR_OPENAI_MODEL=llama3.2 pytest -k real_server"""
    if not os.environ.get("DIRECTOR_OPENAI_BASE_URL") or not os.environ.get("DIRECTOR_OPENAI_MODEL"):
        pytest.skip("set DIRECTOR_OPENAI_BASE_URL and DIRECTOR_OPENAI_MODEL for the live test")
    result = run_cli(capsys, "make", "a 2-scene story about a fox and an owl", "--backend", "openai",
                     "--workspace", str(tmp_path / "ws"))
    assert result.code == 0, result.err
    check_final(Path(result.last_line))
