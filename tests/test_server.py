"""The HTTP face (director serve), driven with httpx through FastAPI's TestClient.

Runs are real local runs (2 scenes, still motion, fast encodes): the API starts them
in its worker pool and the tests follow them the way a client would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_KEY
from tests.helpers import FAST, first_picture, settled, studio_client

GOAL = "a 2-scene story about a fox and an owl"


@pytest.fixture
def client(tmp_path, fast):
    from director.server import create_app

    app = create_app(workspace=tmp_path / "ws", workers=2, backend="local")
    with studio_client(app) as c:
        yield c
    for run in list(app.state.studio.director.lifecycle._active.values()):
        run.cancelling.set()
        run.wait_quietly(60)


def wait_for(client: TestClient, run_id: str, *states: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in states:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} is {run['status']}, not {states}: {run.get('error')}")


def sse(client: TestClient, path: str, headers: dict | None = None) -> list[dict]:
    """Read a whole event stream: (id, event, data) per event."""
    events = []
    with client.stream("GET", path, headers=headers or {}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        block: dict = {}
        for line in response.iter_lines():
            if not line:
                if "data" in block:
                    events.append(block)
                block = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            block[key] = value[1:] if value.startswith(" ") else value
    return [{"id": int(e["id"]), "event": e.get("event"), **json.loads(e["data"])} for e in events]


def make(client: TestClient, **body) -> dict:
    response = client.post("/api/runs", json={"goal": GOAL, "scenes": 2, "motion": "still", **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_run_through_the_api_approval_player_revision_and_fork(client):
    created = make(client, approve=True)
    assert created["status"] in ("running", "paused") and created["goal"] == GOAL
    run_id = created["id"]
    assert [r["id"] for r in client.get("/api/runs").json()] == [run_id]

    paused = wait_for(client, run_id, "paused")
    assert paused["pending"]["ask"].startswith("approve") and paused["pending"]["quote_usd"] == 0
    assert [s["number"] for s in paused["scenes"]] == [1, 2]
    assert all(s["status"] == "drawn" and s["image"] and s["prompt"] and s["narration"] for s in paused["scenes"])
    picture = client.get(paused["scenes"][0]["image"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert paused["final"] is None

    # A client that connects late gets everything from the start; the stream ends at run_finished.
    events = sse(client, f"/api/runs/{run_id}/events")
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    assert events[-1]["status"] == "paused"
    assert [e["id"] for e in events] == sorted({e["id"] for e in events}) and events[0]["id"] == 1
    assert all(e["event"] == e["type"] for e in events)
    assert any(e["type"] == "interrupt" for e in events)
    # Last-Event-ID (or ?after=N) resumes after that event.
    later = sse(client, f"/api/runs/{run_id}/events", {"Last-Event-ID": str(events[2]["id"])})
    assert [e["id"] for e in later] == [e["id"] for e in events[3:]]
    assert [e["id"] for e in sse(client, f"/api/runs/{run_id}/events?after={events[-2]['id']}")] == [events[-1]["id"]]

    assert client.post(f"/api/runs/{run_id}/approve", json={"answer": "yes"}).status_code == 200
    done = wait_for(client, run_id, "done")
    assert done["pending"] is None and done["error"] is None
    assert all(s["status"] == "animated" and s["clip"] and s["audio"] for s in done["scenes"])
    # Each still was checked against the cast's reference sheets, which are assets too.
    assert all(s["continuity"]["passed"] and 0 <= s["continuity"]["score"] <= 1 for s in done["scenes"])
    assert done["characters"] and all(client.get(c["sheet"]).status_code == 200 for c in done["characters"])
    rest = sse(client, f"/api/runs/{run_id}/events?after={events[-1]['id']}")
    assert rest[0]["type"] == "run_started" and rest[-1]["type"] == "run_finished" and rest[-1]["status"] == "done"

    # The player: the MP4 seeks with Range (206), and the subtitles come as WebVTT for a <track>.
    whole = client.get(done["final"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(done["final"], headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and len(part.content) == 1000
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.content)}"
    assert part.content == whole.content[100:1100]
    vtt = client.get(done["subtitles"])
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT\n\n1\n00:00:00.") and "," not in vtt.text.splitlines()[3][:12]

    # A revision: only the scene it touches is made again.
    before = {s["number"]: s for s in done["scenes"]}
    assert client.post(f"/api/runs/{run_id}/messages", json={"text": "make scene 2 at night"}).status_code == 200
    revised = wait_for(client, run_id, "done")
    after = {s["number"]: s for s in revised["scenes"]}
    assert after[1]["image"] == before[1]["image"] and after[2]["image"] != before[2]["image"]
    assert "night" in after[2]["prompt"] and revised["final"] != done["final"]

    # History, then a fork with a change from a checkpoint where the story exists.
    history = client.get(f"/api/runs/{run_id}/history").json()
    assert history[0]["node"] == "finish" and {"checkpoint", "step", "node", "change", "forks"} <= set(history[0])
    point = next(h for h in history if h["node"] == "gate" and h["change"] == "approved")
    forked = client.post(f"/api/runs/{run_id}/fork", json={"from": point["checkpoint"], "say": "make it 9:16",
                                                            "run_id": "portrait"})
    assert forked.status_code == 201, forked.text
    assert forked.json()["id"] == "portrait" and forked.json()["parent"] == run_id
    portrait = wait_for(client, "portrait", "done")
    assert portrait["aspect"] == "9:16" and portrait["final"]
    assert any("portrait" in h["forks"] for h in client.get(f"/api/runs/{run_id}/history").json())
    assert [r["id"] for r in client.get("/api/runs").json()][0] == "portrait"

    # Replay from the start: nothing changed, so every call is reused.
    assert client.post(f"/api/runs/{run_id}/replay", json={}).status_code == 200
    replayed = wait_for(client, run_id, "done")
    last = sse(client, f"/api/runs/{run_id}/events?after={rest[-1]['id']}")[-1]
    assert replayed["final"] and last["type"] == "run_finished"


def test_errors_have_the_right_status_and_one_line(client, tmp_path):
    db = tmp_path / "ws" / "director.db"
    for body in ({"goal": ""}, {"goal": "x" * 2001}, {"goal": "a", "scenes": 0}, {"goal": "a", "aspect": "4:3"},
                 {"goal": "a", "seed": -1}, {"goal": "a", "budget": -1}, {"goal": "a", "run_id": "../up"},
                 {"goal": "a", "sources": [f"/v{i}.mp4" for i in range(9)]}, {"goal": "a", "colour": "red"},
                 {"goal": "a", "max_scenes": 3}, {"goal": "a", "style": "diorama"}, {"goal": "a", "voice": "nobody"},
                 {"goal": "a", "sources": ["/nonexistent/episode.mp4"]}, ["not", "an", "object"]):
        response = client.post("/api/runs", json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error and "\n" not in error and "Traceback" not in error
    assert client.get("/api/runs").json() == []  # bad input wrote nothing
    assert not db.exists() or client.app.state.studio.director.runs() == []

    for method, path, body in (("GET", "/api/runs/nope", None), ("GET", "/api/runs/nope/events", None),
                               ("GET", "/api/runs/nope/history", None), ("POST", "/api/runs/nope/approve", {"answer": "yes"}),
                               ("POST", "/api/runs/nope/messages", {"text": "hi"}), ("POST", "/api/runs/nope/resume", {}),
                               ("POST", "/api/runs/nope/cancel", {}), ("POST", "/api/runs/nope/replay", {}),
                               ("POST", "/api/runs/nope/fork", {"from": "x"}), ("GET", "/api/runs/nope/subtitles.vtt", None)):
        response = client.request(method, path, json=body)
        assert response.status_code == 404, (path, response.text)
        assert "nope" in response.json()["error"]

    run_id = make(client, approve=True)["id"]
    wait_for(client, run_id, "paused")
    # Commands that do not fit the run's state: 409.
    assert client.post(f"/api/runs/{run_id}/messages", json={"text": "make scene 1 at night"}).status_code == 200
    paused = wait_for(client, run_id, "paused")  # a change at the gate is an answer to it, then it asks again
    assert paused["pending"]
    conflict = client.post(f"/api/runs/{run_id}/resume", json={})
    assert conflict.status_code == 409 and "waiting for approval" in conflict.json()["error"]
    assert client.post("/api/runs", json={"goal": GOAL, "run_id": run_id}).status_code == 409
    missing = client.post(f"/api/runs/{run_id}/fork", json={"from": "no-such-checkpoint"})
    assert missing.status_code == 422 and "no checkpoint" in missing.json()["error"]
    bad_change = client.post(f"/api/runs/{run_id}/approve", json={"answer": "sing me a song about the moon"})
    assert bad_change.status_code == 422 and "offline" in bad_change.json()["error"]
    assert client.post(f"/api/runs/{run_id}/approve", json={"answer": ""}).status_code == 422
    assert client.post(f"/api/runs/{run_id}/approve", json={"answer": "no"}).status_code == 200
    cancelled = wait_for(client, run_id, "cancelled")
    assert "cancelled" in cancelled["error"]
    # (for a moment after "cancelled" shows, the finishing process may still hold the run: a 409 "busy" then)
    for _ in range(50):
        again = client.post(f"/api/runs/{run_id}/approve", json={"answer": "yes"})
        assert again.status_code == 409, again.text
        if "is busy" not in again.json()["error"]:
            break
        time.sleep(0.1)
    assert "not waiting for approval" in again.json()["error"]

    # Bodies are bounded, and not JSON is a 422, never a 500.
    huge = client.post("/api/runs", content=b'{"goal": "' + b"a" * 70_000 + b'"}',
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "bytes" in huge.json()["error"]
    assert client.post("/api/runs", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_a_run_another_process_holds_gets_409(client, tmp_path):
    run_id = make(client, approve=True)["id"]
    wait_for(client, run_id, "paused")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from director.lease import TTL_S
        from director.store import Catalog, LeaseHolder, Workspace

        catalog = Catalog.open(Workspace(tmp_path / "ws"), create=False)
        now = time.time()
        taken = catalog.take_lease(run_id, LeaseHolder("other", holder.pid, os.uname().nodename, "resume", now,
                                                       now + TTL_S), alive=lambda h: True)
        assert taken is None
        for path, body in (("approve", {"answer": "yes"}), ("messages", {"text": "make scene 1 at night"}),
                           ("resume", {}), ("replay", {})):
            response = client.post(f"/api/runs/{run_id}/{path}", json=body)
            assert response.status_code == 409, (path, response.text)
            assert f"pid {holder.pid}" in response.json()["error"] and "busy" in response.json()["error"]
        assert client.post(f"/api/runs/{run_id}/fork", json={"from": "x"}).status_code == 409
    finally:
        holder.kill()
        holder.wait()
    # Its holder is gone: the run is free again.
    assert client.post(f"/api/runs/{run_id}/approve", json={"answer": "yes"}).status_code == 200
    wait_for(client, run_id, "done")


def test_assets_only_by_hash_and_never_outside_the_store(client, tmp_path):
    run_id = make(client)["id"]
    done = wait_for(client, run_id, "done")
    sha = done["scenes"][0]["image"].rsplit("/", 1)[1]
    assert client.get(f"/api/assets/{sha}").status_code == 200
    secret = tmp_path / "ws" / "director.db"
    for bad in ("../director.db", "..%2Fdirector.db", "%2e%2e%2fdirector.db", "..%252Fdirector.db", sha.upper(),
                sha[:-1], sha + "0", "0" * 64, f"{sha}.png", "....//....//etc//passwd", "%00" + sha[3:],
                "/etc/passwd", str(secret)):
        response = client.get(f"/api/assets/{bad}")
        assert response.status_code in (400, 404), (bad, response.status_code)
        assert not response.content.startswith(b"SQLite format")
    # A catalog row pointing outside the store (a tampered database) is refused too.
    from director.store import Catalog, Workspace

    catalog = Catalog.open(Workspace(tmp_path / "ws"), create=False)
    catalog.engine.dispose()
    with catalog.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE assets SET path = ? WHERE sha256 = ?", ("director.db", sha))
    assert client.get(f"/api/assets/{sha}").status_code == 404


def test_the_token_guards_every_api_request(tmp_path, fast):
    from director.server import create_app

    with studio_client(create_app(workspace=tmp_path / "ws", token="s3cret-token", backend="local")) as client:
        assert client.get("/").status_code == 200  # the page itself holds nothing; it asks for the token
        assert client.get("/static/studio.js").status_code == 200
        for path in ("/api/runs", "/openapi.json", "/api/runs/x", "/api/assets/" + "0" * 64):
            response = client.get(path)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
            assert "token" in response.json()["error"]
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
        good = {"Authorization": "Bearer s3cret-token"}
        assert client.get("/api/runs", headers=good).json() == []
        assert client.get("/openapi.json", headers=good).status_code == 200
        assert client.post("/api/runs", json={"goal": GOAL}).status_code == 401
        # The studio trades the token for an HttpOnly session cookie that holds a random id, never the token.
        assert client.post("/api/session", json={}).status_code == 401
        opened = client.post("/api/session", json={}, headers=good)
        assert opened.status_code == 204
        cookie = opened.headers["set-cookie"]
        assert cookie.startswith("director_session_8000=") and "s3cret-token" not in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert client.get("/api/runs").status_code == 200  # <video>, <img> and EventSource read with it
        run = client.post("/api/runs", json={"goal": GOAL, "scenes": 1})  # and the page's own requests command
        assert run.status_code == 201, run.text
        client.cookies.clear()
        client.cookies.set("director_session_8000", "forged")
        assert client.get("/api/runs").status_code == 401


def test_serve_refuses_the_network_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DIRECTOR_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "director", "serve", "--host", "0.0.0.0", "--port", "1",
                           "--workspace", str(tmp_path / "ws")], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "DIRECTOR_TOKEN" in lines[0], proc.stderr
    assert not (tmp_path / "ws").exists()


def test_the_api_key_never_reaches_a_response(fake, tmp_path, fast, monkeypatch):
    from director.server import create_app

    monkeypatch.setenv("DIRECTOR_MOTION_BACKEND", "local")  # Veo needs Vertex; the stills are what fail here
    fake.fail("image", 400, times=99, message=f"API key not valid: {TEST_KEY} (key={TEST_KEY})")
    with studio_client(create_app(workspace=tmp_path / "ws", backend="gemini")) as client:
        run_id = make(client, budget=5)["id"]
        run = wait_for(client, run_id, "failed", "done", "paused")
        bodies = [json.dumps(run), client.get("/api/runs").text, client.get(f"/api/runs/{run_id}/history").text,
                  json.dumps(sse(client, f"/api/runs/{run_id}/events"))]
        assert any("API key not valid" in b for b in bodies)  # the error did arrive...
        assert not any(TEST_KEY in b for b in bodies)  # ...without the key


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_restarted_server_shows_its_unfinished_runs_interrupted_and_resumes_them(tmp_path):
    """Kill a real `director serve` mid-run; a new server shows the run interrupted and resume finishes it."""
    import httpx

    from tests.servers import serve_director

    env = {**os.environ, **FAST}
    proc, url = serve_director(tmp_path / "ws", env)
    try:
        run_id = httpx.post(url + "/api/runs", headers={"Origin": url}, json={"goal": "a 4-scene story about a fox", "backend": "local"},
                            timeout=60).json()["id"]
        # Kill it as soon as the first picture is made: the stream shows it the moment it is recorded.
        first_picture(url, run_id)
        proc.kill()
    finally:
        proc.kill()
        proc.wait()
    proc, url = serve_director(tmp_path / "ws", env)
    try:
        run = httpx.get(f"{url}/api/runs/{run_id}").json()
        assert run["status"] == "interrupted" and run["scenes"]
        assert httpx.post(f"{url}/api/runs/{run_id}/resume", headers={"Origin": url}, json={}, timeout=60).status_code == 200
        run = settled(url, run_id)
        assert run["status"] == "done", run
        assert httpx.get(url + run["final"]).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_openapi_schema_describes_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, methods in {"/api/runs": {"get", "post"}, "/api/runs/{run_id}": {"get"},
                          "/api/runs/{run_id}/events": {"get"}, "/api/runs/{run_id}/approve": {"post"},
                          "/api/runs/{run_id}/messages": {"post"}, "/api/runs/{run_id}/resume": {"post"},
                          "/api/runs/{run_id}/cancel": {"post"}, "/api/runs/{run_id}/history": {"get"},
                          "/api/runs/{run_id}/replay": {"post"}, "/api/runs/{run_id}/fork": {"post"},
                          "/api/assets/{sha}": {"get"}}.items():
        assert methods <= set(paths[path]), path
    assert "201" in paths["/api/runs"]["post"]["responses"]
    assert "from" in json.dumps(paths["/api/runs/{run_id}/fork"])


def test_a_run_submitted_while_the_server_stops_is_kept_interrupted_and_resumes(tmp_path, fast):
    """A request racing the shutdown: the pool no longer takes work, so the run is saved as
    interrupted (its lease let go), never left holding a lease nobody will release."""
    from director.server import create_app

    app = create_app(workspace=tmp_path / "ws", workers=1, backend="local")
    with studio_client(app) as c:
        pass  # served once and shut down: the pool is closed now
    director = app.state.studio.director
    run = director.start(GOAL, scenes=1, motion="still", background=True)
    assert run.finished and run.status == "interrupted" and "server was stopping" in run.error
    with studio_client(app) as c:  # served again: a fresh pool, and the run goes on
        assert c.get(f"/api/runs/{run.id}").json()["status"] == "interrupted"
        assert c.post(f"/api/runs/{run.id}/resume", json={}).status_code == 200
        assert wait_for(c, run.id, "done")["final"]


def test_health_reports_each_part_and_answers_503_when_one_is_down(tmp_path, fast, monkeypatch):
    from director.server import create_app

    with studio_client(create_app(workspace=tmp_path / "ws", workers=1, backend="local", token="tok-12345678")) as c:
        assert c.get("/api/health").status_code == 401  # the details need the token
        report = c.get("/api/health", headers={"Authorization": "Bearer tok-12345678"}).json()
        assert report["ok"] and report["database"]["engine"] == "sqlite"
        assert report["assets"]["kind"] == "local" and report["cluster"]["executor"] == "local"
        assert c.get("/healthz").json() == {"ok": True}  # for a load balancer: no token, no details
    pytest.importorskip("obstore", reason="the cluster extra is not installed")
    from tests.servers import free_port

    # A store nobody answers at: the server still starts and serves, and says what is wrong.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cret-value-0123456789")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("DIRECTOR_ASSETS_URL", "s3://nowhere/prefix")
    with studio_client(create_app(workspace=tmp_path / "ws2", workers=1, backend="local")) as c:
        down = c.get("/api/health")
        assert down.status_code == 503
        report = down.json()
        assert report["database"]["ok"] and not report["assets"]["ok"] and "s3://nowhere/prefix" in report["assets"]["error"]
        assert "s3cret-value" not in down.text
        assert c.get("/healthz").status_code == 503
