"""The MCP face (director.assistants) with real clients: the SDK's own client over stdio (`director mcp`) and over
streamable HTTP (/mcp on `director serve`), and the MCP Inspector's CLI. An assistant can make, follow, approve and
read a video; it cannot spend past the user's cap or approve a paid run on its own."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp_types import ElicitResult

from director.api import Director
from director.assistant_arguments import make_arguments
from director.assistants import Assistants
from director.options import MakeOptions
from tests.helpers import FAST
from tests.servers import serve_director

TOKEN = "mcp-test-token-0123456789abcdef"
MCP_TOKEN = "assistant-only-token-fedcba9876543210"


class Progress:
    """A client's progress callback: every notification's message, in order, and its numbers."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.values: list[float] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.values.append(progress)
        self.messages.append(message or "")


def data(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error(result) -> str:
    assert result.is_error, result.content[0].text
    return result.content[0].text.removeprefix("Error executing tool ").split(": ", 1)[1]


async def to_the_end(client, progress: Progress, *, goal: str = "a 2-scene story about a fox and a crow") -> str:
    """make (approve: stop at the gate), follow it there with progress, approve, follow it to the end: the run id."""
    made = data(await client.call_tool("make", {"goal": goal, "scenes": 2, "approve": True, "dialogue": "none",
                                               "wait_seconds": 240}, progress_callback=progress))
    run_id = made["run_id"]
    assert made["status"] == "paused" and made["pending"]["quote_usd"] == 0.0, made
    assert progress.messages[0] == f"run {run_id} started"
    assert any(m.startswith("made ") for m in progress.messages) and progress.messages[-1] == f"run {run_id} paused"
    assert progress.values == sorted(set(progress.values))  # progress only goes up
    assert data(await client.call_tool("approve", {"run_id": run_id}))["status"] in ("running", "queued", "done")
    done = data(await client.call_tool("wait", {"run_id": run_id, "wait_seconds": 300}, progress_callback=progress))
    assert done["status"] == "done", done
    assert progress.messages[-1] == f"run {run_id} done"
    return run_id


async def final_resources(client, run_id: str) -> None:
    browsed = {str(r.uri): r for r in (await client.list_resources()).resources}  # the newest runs' outputs
    assert browsed[f"director://runs/{run_id}/final.mp4"].mime_type == "video/mp4"
    listed = await client.list_resource_templates()
    assert {t.uri_template for t in listed.resource_templates} >= {
        "director://runs/{run_id}/final.mp4", "director://runs/{run_id}/manifest.json",
        "director://runs/{run_id}/storyboard.html"}
    status = await client.call_tool("status", {"run_id": run_id})
    links = {block.uri: block for block in status.content[1:]}
    assert f"director://runs/{run_id}/final.mp4" in {str(u) for u in links}
    video = (await client.read_resource(f"director://runs/{run_id}/final.mp4")).contents[0]
    raw = base64.b64decode(video.blob)
    assert video.mime_type == "video/mp4" and raw[4:8] == b"ftyp" and len(raw) > 50_000
    manifest = json.loads((await client.read_resource(f"director://runs/{run_id}/manifest.json")).contents[0].text)
    assert manifest["run_id"] == run_id and manifest["status"] == "done"
    html = (await client.read_resource(f"director://runs/{run_id}/storyboard.html")).contents[0].text
    assert "<html" in html.lower()


@pytest.mark.slow  # makes videos, or starts a process: make test, not make check
def test_an_assistant_on_stdio_makes_a_story_to_its_final_video(tmp_path):
    env = {**os.environ, **FAST, "LANGGRAPH_STRICT_MSGPACK": "true"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "director", "mcp", "--workspace",
                                                                 str(tmp_path / "ws")], env=env)

    async def session() -> None:
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"make", "wait", "status", "approve", "revise", "cancel", "resume", "fork", "replay",
                                  "list_runs", "history", "export_timeline"}
            schema = tools["make"].input_schema
            assert schema["additionalProperties"] is False and schema["required"] == ["goal"]
            assert schema["properties"]["scenes"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 50}
            progress = Progress()
            run_id = await to_the_end(client, progress)
            await final_resources(client, run_id)
            runs = data(await client.call_tool("list_runs", {}))["runs"]
            assert [r["id"] for r in runs] == [run_id] and runs[0]["status"] == "done"
            assert data(await client.call_tool("history", {"run_id": run_id}))["checkpoints"]
            exported = data(await client.call_tool("export_timeline", {"run_id": run_id, "format": "otio"}))
            assert json.loads(Path(exported["path"]).read_text())["OTIO_SCHEMA"].startswith("Timeline")
            assert error(await client.call_tool("export_timeline", {"run_id": run_id, "format": "edl"})).startswith(
                "an EDL's SMPTE timecode takes rates such as")  # this cut is 12 fps
            # the one-line refusals, before anything is written
            assert error(await client.call_tool("make", {"goal": "a fox", "scenes": 99})) == \
                "scenes must be a whole number from 1 to 50 (got 99)"
            assert error(await client.call_tool("make", {"goal": "a fox", "scenes": "3"})) == \
                "scenes must be a whole number from 1 to 50 (got '3')"  # JSON's types as they are, as over HTTP
            assert error(await client.call_tool("revise", {"run_id": run_id, "text": "OK"})).startswith(
                "'OK' answers run")  # a yes is approve's, the user's: never a revision's
            assert error(await client.call_tool("make", {"goal": "a fox", "colour": "red"})).startswith(
                "unknown argument 'colour': the arguments are goal, scenes, aspect")
            assert error(await client.call_tool("status", {"run_id": "nope"})).startswith("unknown run id 'nope'")
            assert error(await client.call_tool("status", {"run_id": "../x"})) == "run id '../x' must be 1-64 letters, digits, '.', '_' or '-'"
        async with Client(params, mode="legacy") as client:  # the initialize handshake of the 2025 revisions
            assert data(await client.call_tool("status", {"run_id": run_id}))["status"] == "done"

    anyio.run(session)


@pytest.mark.slow  # makes videos, or starts a process: make test, not make check
def test_an_assistant_over_http_goes_through_the_servers_guard(tmp_path):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    env = {**os.environ, **FAST, "LANGGRAPH_STRICT_MSGPACK": "true", "DIRECTOR_TOKEN": TOKEN,
           "DIRECTOR_MCP_TOKEN": MCP_TOKEN}
    proc, base = serve_director(tmp_path / "ws", env)
    try:
        # the assistants' token opens /mcp and nothing else: not the HTTP API's batches or runs around the gate
        assistant = {"Authorization": f"Bearer {MCP_TOKEN}"}
        assert httpx.get(f"{base}/api/runs", headers=assistant).status_code == 401
        assert httpx.post(f"{base}/api/batches", json={"rows": [{"goal": "a fox"}]},
                          headers={**assistant, "Origin": base}).status_code == 401
        hello = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        accept = {"Accept": "application/json, text/event-stream"}
        bearer = {"Authorization": f"Bearer {TOKEN}", **accept}
        assert httpx.post(f"{base}/mcp", json=hello, headers=accept).status_code == 401
        crossed = httpx.post(f"{base}/mcp", json=hello, headers={**bearer, "Origin": "http://evil.example"})
        assert crossed.status_code == 403 and "another origin" in crossed.json()["error"]
        rebound = httpx.post(f"{base}/mcp", json=hello, headers={**bearer, "Host": "evil.example"})
        assert rebound.status_code == 421
        assert httpx.post(f"{base}/mcp", content="x", headers={**bearer, "Content-Type": "text/plain"}).status_code == 415

        async def session() -> None:
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {MCP_TOKEN}"},
                                      timeout=httpx2.Timeout(30, read=330))
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                progress = Progress()
                run_id = await to_the_end(client, progress, goal="a 2-scene story about an otter who paints")
                await final_resources(client, run_id)
                status = await client.call_tool("status", {"run_id": run_id})
                text = status.content[0].text
                assert str(tmp_path) not in text  # the server's paths stay its own: outputs are resources
                assert data(status)["outputs"]["final.mp4"] == f"director://runs/{run_id}/final.mp4"
                for name in ("manifest.json", "timeline.otio", "storyboard.html"):  # nor in what it reads
                    text = (await client.read_resource(f"director://runs/{run_id}/{name}")).contents[0].text
                    assert str(tmp_path) not in text, (name, [x for x in text.splitlines() if str(tmp_path) in x][:3])
                    assert name != "timeline.otio" or "file://<workspace>/assets/" in text
                # files are upload ids over HTTP, never a path the server can read
                bad = error(await client.call_tool("make", {"goal": "a trailer", "sources": ["/etc/passwd"]}))
                assert "upload" in bad and "/etc/passwd" not in bad.replace("'/etc/passwd'", "")

        anyio.run(session)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def paid_client(director: Director, **kwargs):
    return Client(Assistants(director).server, **kwargs)


@pytest.mark.usefixtures("fast")
def test_a_paid_run_stops_at_the_gate_and_only_the_user_approves_it(tmp_path, monkeypatch, fake):
    director = Director(tmp_path / "ws")
    asked: list[str] = []
    answers = iter([ElicitResult(action="decline"), ElicitResult(action="accept", content={"approve": False}),
                    ElicitResult(action="accept", content={"approve": True})])

    async def elicit(context, params):
        asked.append(params.message)
        return next(answers)

    async def session() -> None:
        async with paid_client(director) as client:  # no elicitation: the approve call is the user's own step
            made = data(await client.call_tool("make", {"goal": "a 2-scene story about a fox", "scenes": 2,
                                                        "wait_seconds": 120}))
            run_id = made["run_id"]
            # the assistant did not ask for the gate, and there is no cap for assistants: the gate asks
            assert made["status"] == "paused" and made["budget_usd"] == 2.0, made
            quote = made["pending"]["quote_usd"]
            assert quote > 0.5 and f"${quote:.2f}" in made["pending"]["ask"]
            assert error(await client.call_tool("make", {"goal": "a fox", "budget": 5})).startswith(
                "a budget of $5.00 is past $2.00, the default cap")
            assert error(await client.call_tool("resume", {"run_id": run_id, "budget": 50})).startswith(
                "a budget of $50.00 is past $2.00")
            refused = error(await client.call_tool("approve", {"run_id": run_id}))
            assert f"${quote:.2f}" in refused and f"quote_usd={quote:.2f}" in refused
            wrong = error(await client.call_tool("approve", {"run_id": run_id, "quote_usd": 0.01}))
            assert wrong.startswith(f"run {run_id} waits on a quote of ${quote:.2f}, not $0.01")
            assert data(await client.call_tool("status", {"run_id": run_id}))["status"] == "paused"
            spent = data(await client.call_tool("status", {"run_id": run_id}))["cost_usd"]
        async with paid_client(director, elicitation_callback=elicit) as client:  # the client asks the user
            assert error(await client.call_tool("approve", {"run_id": run_id})).startswith("the user declined")
            assert error(await client.call_tool("approve", {"run_id": run_id, "quote_usd": quote})).startswith(
                "the user did not approve")  # the assistant's quote is no yes: the user's answer is
            assert data(await client.call_tool("status", {"run_id": run_id}))["cost_usd"] == spent  # nothing spent
            assert data(await client.call_tool("approve", {"run_id": run_id}))["status"] != "paused"
            done = data(await client.call_tool("wait", {"run_id": run_id, "wait_seconds": 300}))
            assert done["status"] == "done" and done["cost_usd"] > spent
            assert done["cost_usd"] <= director.lifecycle._catalog().require_run(run_id).budget_usd
        # A change cut off before its gate (a cancel while the brain still thinks, as a tester raced it): a replay
        # from there must ask, not carry the run's old yes over to the change's paid steps.
        from director.checkpoints import open_checkpointer
        from director.graph import build_graph
        from director.lifecycle.continuing import Continuing

        with open_checkpointer(director.workspace) as saver:
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            cut = graph.update_state({"configurable": {"thread_id": run_id}},
                                     Continuing._revision_update("make scene 2 at dawn"), as_node="tools")
        async with paid_client(director) as client:
            bought = {kind: len(fake.calls(kind)) for kind in ("image", "omni", "tts", "lyria")}
            data(await client.call_tool("replay", {"run_id": run_id,
                                                   "checkpoint": cut["configurable"]["checkpoint_id"]}))
            raced = data(await client.call_tool("wait", {"run_id": run_id, "wait_seconds": 120}))
            assert raced["status"] == "paused" and raced["pending"], raced
            assert {kind: len(fake.calls(kind)) for kind in bought} == bought
        async with paid_client(director) as client:  # a change that costs something asks again; a replay cannot answer
            changed = data(await client.call_tool("revise", {"run_id": run_id, "text": "make scene 1 at night"}))
            changed = data(await client.call_tool("wait", {"run_id": run_id, "wait_seconds": 120}))
            assert changed["status"] == "paused" and changed["pending"]["quote_usd"] > 0, changed
            gated = {kind: len(fake.calls(kind)) for kind in ("image", "omni", "tts", "lyria")}
            replayed = data(await client.call_tool("replay", {"run_id": run_id}))
            replayed = data(await client.call_tool("wait", {"run_id": run_id, "wait_seconds": 120}))
            assert replayed["status"] == "paused" and replayed["pending"], replayed  # asked again, not answered
            assert {kind: len(fake.calls(kind)) for kind in gated} == gated  # no picture, clip or voice was bought
        assert len(asked) == 3 and all(f"${quote:.2f}" in a for a in asked)

    anyio.run(session)


@pytest.mark.usefixtures("fake", "fast")
def test_the_users_cap_lets_a_paid_run_go_unasked_and_no_further(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text("[mcp]\nbudget_usd = 3.0\n")
    director = Director(tmp_path / "ws")

    async def session() -> None:
        async with paid_client(director) as client:
            assert error(await client.call_tool("make", {"goal": "a fox", "budget": 3.5})).startswith(
                "a budget of $3.50 is past $3.00, the user's cap for assistants")
            made = data(await client.call_tool("make", {"goal": "a 2-scene story about a fox", "scenes": 2,
                                                        "wait_seconds": 300}))
            assert made["status"] == "done" and made["budget_usd"] == 3.0 and 0 < made["cost_usd"] <= 3.0, made
            cheap = data(await client.call_tool("make", {"goal": "a 2-scene story about a fox", "scenes": 2,
                                                         "budget": 0.3, "seed": 1, "wait_seconds": 300}))
            assert cheap["status"] in ("paused", "stopped") and cheap["cost_usd"] <= 0.3, cheap  # never past its own
            # a run the user made on their own, with a bigger budget and no gate, is theirs to go on with
            theirs = director.submit("a 1-scene story about a hare", scenes=1, budget=10.0, run_id="theirs")
            for tool, extra in (("revise", {"text": "make scene 1 at night"}), ("fork", {"checkpoint": "x"}),
                                ("replay", {})):
                assert error(await client.call_tool(tool, {"run_id": theirs.id, **extra})).startswith(
                    "run theirs spends without asking first, up to $10.00, past the user's cap for assistants ($3.00)")

    anyio.run(session)
    monkeypatch.setenv("DIRECTOR_MCP_BUDGET_USD", "-1")
    with pytest.raises(Exception, match="(?i)mcp_budget_usd"):
        Director(tmp_path / "ws")


def test_the_make_tool_refuses_a_bad_value_in_the_same_line_as_every_face(tmp_path):
    from tests.test_options import BAD

    async def session() -> None:
        async with Client(Assistants(Director(tmp_path / "ws", backend="local")).server) as client:
            for name, value, line in BAD:
                assert error(await client.call_tool("make", {"goal": "a fox", name: value})) == line, name
            assert error(await client.call_tool("make", {"goal": "a fox", "title": "X"})) == \
                "title applies to trailers: add sources"

    anyio.run(session)
    assert not (tmp_path / "ws" / "runs").exists()  # refused before anything was written


def test_every_make_option_is_an_argument_of_the_make_tool():
    schema = make_arguments(uploads=False).model_json_schema()
    assert set(schema["properties"]) == {"goal", "wait_seconds", *MakeOptions.model_fields}
    over_http = make_arguments(uploads=True).model_json_schema()["properties"]
    assert "upload" in over_http["sources"]["description"] and "upload" not in schema["properties"]["sources"]["description"]


@pytest.mark.slow  # makes videos, or starts a process: make test, not make check
@pytest.mark.skipif(shutil.which("npx") is None, reason="the MCP Inspector runs with npx (Node.js), not installed")
def test_the_mcp_inspector_lists_the_tools_and_calls_one(tmp_path):
    director = [sys.executable, "-m", "director", "mcp", "--workspace", str(tmp_path / "ws")]
    inspector = ["npx", "-y", "@modelcontextprotocol/inspector", "--cli", *director]
    try:
        listed = subprocess.run([*inspector, "--method", "tools/list"], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip("npx could not fetch @modelcontextprotocol/inspector within 5 minutes")
    if listed.returncode != 0 and "npm" in listed.stderr and ("ENOTFOUND" in listed.stderr or "ETIMEDOUT" in listed.stderr
                                                              or "EAI_AGAIN" in listed.stderr):
        pytest.skip(f"npx could not fetch @modelcontextprotocol/inspector: {listed.stderr.strip().splitlines()[-1]}")
    assert listed.returncode == 0, listed.stderr[-2000:]
    names = {tool["name"] for tool in json.loads(listed.stdout)["tools"]}
    assert {"make", "wait", "approve", "status"} <= names
    called = subprocess.run([*inspector, "--method", "tools/call", "--tool-name", "list_runs"], capture_output=True,
                            text=True, timeout=300)
    assert called.returncode == 0, called.stderr[-2000:]
    answer = json.loads(called.stdout)
    assert answer.get("isError") is not True and json.loads(answer["content"][0]["text"]) == {"runs": []}


def test_the_assistants_token_alone_does_not_start_a_server(tmp_path, monkeypatch, capsys):
    """DIRECTOR_MCP_TOKEN keeps an assistant to /mcp only while DIRECTOR_TOKEN guards the API: alone it would leave
    the API (runs without the gate, batches) open to the very assistant it is meant to hold."""
    from director.errors import ConfigError
    from director.server import create_app

    monkeypatch.setenv("DIRECTOR_MCP_TOKEN", MCP_TOKEN)
    with pytest.raises(ConfigError, match="set DIRECTOR_TOKEN too"):
        create_app(workspace=tmp_path / "ws", backend="local")
    assert create_app(workspace=tmp_path / "ws", backend="local", token=TOKEN).state.studio.mcp_token == MCP_TOKEN
