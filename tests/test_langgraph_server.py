"""The graph hosted in LangGraph's own server: `langgraph dev` (langgraph-cli[inmem]) on loopback,
without --allow-blocking, driven to `done` by langgraph-sdk, a client we did not write.

LangGraph's server refuses blocking calls on its event loop (blockbuster), so this fails the
moment the graph factory or a node does file or database I/O there. The server lives in
.venv-langgraph (see the Makefile): its langgraph-api pins an older jsonschema-rs than
schemathesis needs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import check_final
from tests.servers import _wait_port, free_port

REPO = Path(__file__).resolve().parents[1]
LANGGRAPH = REPO / ".venv-langgraph" / "bin" / "langgraph"

pytestmark = [pytest.mark.cluster, pytest.mark.skipif(
    not LANGGRAPH.exists(), reason="langgraph-cli[inmem] is not installed in .venv-langgraph (make test installs it)")]


async def drive(url: str, run_id: str) -> tuple[dict, list[dict]]:
    from langgraph_sdk import get_client

    client = get_client(url=url)
    thread = await client.threads.create()
    custom: list[dict] = []
    final: dict = {}
    goal = {"text": "a 2-scene story about a cat and a dog", "scenes": 2, "motion": "still"}
    async for part in client.runs.stream(thread["thread_id"], "director", input={"run_id": run_id, "goal": goal},
                                         stream_mode=["custom", "values"]):
        if part.event == "custom":
            custom.append(part.data)
        elif part.event == "values":
            final = part.data
        elif part.event == "error":
            raise AssertionError(f"the server reported an error: {part.data}")
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["status"] == final["status"]
    return final, custom


def test_langgraph_dev_runs_a_story_to_done_without_allow_blocking(tmp_path, fast):
    project = tmp_path / "project"
    project.mkdir()
    config = json.loads((REPO / "langgraph.json").read_text())
    config.pop("env", None)  # no .env here: settings come from this environment
    (project / "langgraph.json").write_text(json.dumps(config))
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "DIRECTOR_HOME": str(home), "LANGGRAPH_STRICT_MSGPACK": "true", "NO_COLOR": "1"}
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
                               "--port", str(port), "--config", str(project / "langgraph.json")],
                              cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, server, 120, "langgraph dev")
        final, custom = asyncio.run(drive(f"http://127.0.0.1:{port}", "hosted"))
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "BlockingError" not in text and "Blocking call" not in text, text[-3000:]
    assert final["status"] == "done", final.get("error")
    kinds = [e.get("type") for e in custom]
    assert "tool_finished" in kinds and kinds.count("brain") >= 3
    assert final["outputs"]["final.mp4"] == "runs/hosted/final.mp4"
    check_final(home / "runs" / "hosted" / "final.mp4", cues=2)
