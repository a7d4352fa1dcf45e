"""The studio and HTTP API are safe to leave running: a page on another origin, a foreign Host name or a raw
request without the studio's origin changes nothing, and the token never sits where a page or another port
could read it."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import local_studio, uvicorn_thread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GOAL = "a 1-scene story about a fox"


@pytest.fixture
def studio(tmp_path, monkeypatch):
    with local_studio(tmp_path, monkeypatch, workers=1) as (url, _):
        yield url


def own(url: str) -> dict[str, str]:
    return {"Origin": url}


def paused_run(url: str) -> str:
    run = httpx.post(url + "/api/runs", headers=own(url), timeout=60,
                     json={"goal": GOAL, "scenes": 1, "backend": "local", "approve": True}).json()
    deadline = time.monotonic() + 120
    while httpx.get(f"{url}/api/runs/{run['id']}").json()["status"] != "paused":
        assert time.monotonic() < deadline, "the run never reached its approval gate"
        time.sleep(0.2)
    return str(run["id"])


ATTACKS = ["/api/runs", "/api/runs/{id}/approve", "/api/runs/{id}/messages", "/api/runs/{id}/resume",
           "/api/runs/{id}/cancel", "/api/runs/{id}/replay", "/api/runs/{id}/fork", "/api/session",
           "/api/uploads?name=x.mp4", "/mcp", "/api/batches", "/api/batches/{batch}/resume"]


def test_every_route_that_changes_something_is_attacked_below(tmp_path, monkeypatch):
    from director.server import create_app

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    app = create_app(workspace=tmp_path / "ws", backend="local")
    changing = {route.path.replace("{run_id}", "{id}").replace("{batch_id}", "{batch}") for route in app.routes
                for method in getattr(route, "methods", None) or () if method not in ("GET", "HEAD", "OPTIONS")}
    assert changing == {path.split("?")[0] for path in ATTACKS}


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_raw_requests_without_the_studio_s_origin_change_nothing(studio):
    run_id = paused_run(studio)
    before = httpx.get(f"{studio}/api/runs").json()
    for path in ATTACKS:
        target = studio + path.format(id=run_id, batch="batch-x")
        body = {"goal": GOAL, "answer": "yes", "text": "make scene 1 at night", "from": "x"}
        for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"},
                        {"Origin": "http://127.0.0.1:1"}, {"Sec-Fetch-Site": "cross-site"}):
            response = httpx.post(target, json=body if path == "/api/runs" else {}, headers=headers, timeout=30)
            if path == "/mcp" and not headers:  # no browser: an assistant, which MCP itself answers (not JSON-RPC)
                assert response.status_code in (400, 406), response.text
                continue
            assert response.status_code == 403, (path, headers, response.text)
            assert set(response.json()) == {"error"}
        # The studio's own origin, but a form's content type: refused too.
        form = httpx.post(target, content=b"answer=yes", headers={**own(studio), "Content-Type":
                                                                      "application/x-www-form-urlencoded"})
        assert form.status_code == 415, (path, form.text)
    assert httpx.get(f"{studio}/api/runs").json() == before
    assert httpx.get(f"{studio}/api/runs/{run_id}").json()["status"] == "paused"


def test_a_foreign_host_name_reaches_nothing(studio):
    port = studio.rsplit(":", 1)[1]
    for path in ("/api/runs", "/api/health", "/", "/static/studio.js"):
        response = httpx.get(studio + path, headers={"Host": f"evil.example:{port}"})
        assert response.status_code == 421, (path, response.text)
        assert "--allowed-host" in response.json()["error"]
    created = httpx.post(studio + "/api/runs", json={"goal": GOAL, "backend": "local"},
                         headers={"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"})
    assert created.status_code == 421 and httpx.get(studio + "/api/runs").json() == []
    for name in ("localhost", "127.0.0.1"):
        assert httpx.get(studio + "/api/runs", headers={"Host": f"{name}:{port}"}).status_code == 200
    for odd in (f"[::1]evil.com:{port}", f"127.0.0.1:{port}@evil.com", "::1", f"[::1].evil.com:{port}"):
        assert httpx.get(studio + "/api/runs", headers={"Host": odd}).status_code == 421, odd  # not a loopback name
    assert httpx.get(studio + "/healthz", headers={"Host": "10.0.0.7"}).json() == {"ok": True}  # load balancers


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_a_page_on_another_origin_cannot_act_on_a_run(studio, tmp_path):
    """A real page on another loopback port, and a file:// page, try every command: forms and no-cors fetches."""
    from playwright.sync_api import sync_playwright

    run_id = paused_run(studio)
    # A control: the same requests to a server that takes anything, to show the page really sends them.
    seen: list[tuple[str, str]] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.headers.get("Origin") or ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    recorder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    control = f"http://127.0.0.1:{recorder.server_address[1]}"
    targets = [studio + p.format(id=run_id, batch="batch-x") for p in ATTACKS] + [
        control + p.format(id=run_id, batch="batch-x") for p in ATTACKS]
    script = f"const targets = {json.dumps(targets)};\n" + """
for (const t of targets) {
  fetch(t, {method: "POST", mode: "no-cors", body: "{}"}).catch(() => {});
  fetch(t, {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
            body: JSON.stringify({goal: "pwned", answer: "yes", text: "x", from: "x"})}).catch(() => {});
  fetch(t, {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"}).catch(() => {});
  const frame = document.createElement("iframe"); frame.name = "f" + Math.random(); document.body.append(frame);
  const form = document.createElement("form"); form.method = "POST"; form.action = t; form.target = frame.name;
  form.enctype = "text/plain";
  const field = document.createElement("input"); field.name = '{"goal": "pwned", "answer": "yes", "x": "';
  field.value = '"}'; form.append(field); document.body.append(form); form.submit();
}
document.title = "sent";
"""
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "index.html").write_text(f"<!doctype html><body><script>{script}</script></body>")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            page = browser.new_page()
            for where in (f"http://127.0.0.1:{evil.server_address[1]}/index.html", (folder / "index.html").as_uri()):
                page.goto(where)
                page.wait_for_function("document.title === 'sent'")
                page.wait_for_timeout(1500)  # let every request land
            browser.close()
    finally:
        evil.shutdown()
        recorder.shutdown()
    assert len(seen) >= 2 * len(ATTACKS), seen  # forms and no-cors fetches did go out, from both pages
    assert {origin for _, origin in seen} >= {"null"}  # the file:// page too
    runs = httpx.get(f"{studio}/api/runs").json()
    assert [r["id"] for r in runs] == [run_id]  # nothing started, nothing forked
    assert httpx.get(f"{studio}/api/runs/{run_id}").json()["status"] == "paused"  # not approved, not cancelled


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_token_never_sits_in_a_cookie_or_local_storage(tmp_path, monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    from director.server import create_app

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    token = "tok-" + "s3cr3t" * 6
    app = create_app(workspace=tmp_path / "ws", workers=1, backend="local", token=token)
    with uvicorn_thread(app) as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#token-dialog")).to_be_visible()
        page.locator("#token").fill(token)
        page.locator("#token").press("Enter")
        expect(page.locator("#token-dialog")).to_be_hidden()
        page.wait_for_timeout(500)
        cookies = context.cookies()
        assert cookies and all(token not in c["value"] for c in cookies)
        session = [c for c in cookies if c["name"].startswith("director_session_")]
        assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script on the page can read it
        assert page.evaluate("localStorage.length") == 0
        assert page.evaluate("fetch('/api/runs').then(r => r.status)") == 200  # the session works
        browser.close()


def test_the_401_says_which_header_to_send(tmp_path, monkeypatch):
    from director.server import create_app
    from tests.helpers import studio_client

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    with studio_client(create_app(workspace=tmp_path / "ws", backend="local", token="tok-12345678")) as client:
        error = client.get("/api/runs").json()["error"]
        assert "the Authorization header with the value Bearer <DIRECTOR_TOKEN>" in error and "***" not in error


@pytest.fixture
def client(tmp_path, monkeypatch, fast):
    from director.server import create_app
    from tests.helpers import studio_client

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    app = create_app(workspace=tmp_path / "ws", workers=1, backend="local")
    with studio_client(app) as c:
        yield c
    for run in app.state.studio.director.lifecycle.stop_all():
        run.wait_quietly(60)


def settle(client, run_id: str, *states: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = client.get(f"/api/runs/{run_id}").json()
        if run["status"] in states or time.monotonic() > deadline:
            return run
        time.sleep(0.2)


def test_concurrent_creates_and_forks_to_one_id_give_one_201_and_409s(client):
    from concurrent.futures import ThreadPoolExecutor

    body = {"goal": GOAL, "scenes": 1, "backend": "local", "run_id": "same", "approve": True}
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: client.post("/api/runs", json=body), range(10)))
    assert sorted(r.status_code for r in codes) == [201] + [409] * 9, [r.text for r in codes]
    assert all("already exists" in r.json()["error"] for r in codes if r.status_code == 409)
    settle(client, "same", "paused")
    first = [h for h in client.get("/api/runs/same/history").json() if h["checkpoint"]][0]["checkpoint"]
    fork = {"from": first, "say": "now 9:16", "run_id": "twin"}
    with ThreadPoolExecutor(5) as pool:
        codes = list(pool.map(lambda _: client.post("/api/runs/same/fork", json=fork), range(5)))
    assert sorted(r.status_code for r in codes) == [201] + [409] * 4, [r.text for r in codes]
    for r in codes:
        assert "Traceback" not in r.text and "INSERT" not in r.text and "sqlite" not in r.text.lower()


def test_a_queued_run_is_cancelled_at_once(client):
    first = client.post("/api/runs", json={"goal": GOAL, "scenes": 1, "backend": "local"}).json()["id"]
    queued = client.post("/api/runs", json={"goal": "a 1-scene story about an owl", "scenes": 1,
                                            "backend": "local"}).json()["id"]  # one worker: it waits its turn
    started = time.monotonic()
    answer = client.post(f"/api/runs/{queued}/cancel", json={})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    assert time.monotonic() - started < 5
    assert settle(client, first, "done")["status"] == "done"
    assert client.get(f"/api/runs/{queued}").json()["status"] == "cancelled"


def test_strict_types_head_ranges_and_no_server_paths(client, tmp_path):
    for bad in ({"goal": GOAL, "scenes": True}, {"goal": GOAL, "scenes": "3"}, {"goal": GOAL, "approve": 1},
                {"goal": GOAL, "budget": "5"}, {"goal": 7}):
        response = client.post("/api/runs", json=bad)
        assert response.status_code == 422, (bad, response.text)
    run_id = client.post("/api/runs", json={"goal": GOAL, "scenes": 1, "backend": "local"}).json()["id"]
    run = settle(client, run_id, "done")
    sha = run["final"].rsplit("/", 1)[1]
    for path in (f"/api/assets/{sha}", f"/api/runs/{run_id}", "/api/runs", f"/api/runs/{run_id}/events",
                 f"/api/runs/{run_id}/subtitles.vtt", "/api/health", "/", "/healthz"):
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, (path, head.status_code)
        assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    for wanted, status in (("bytes=5-2", 400), ("abc", 400), ("bytes=99999999-", 416)):
        response = client.get(f"/api/assets/{sha}", headers={"Range": wanted})
        assert response.status_code == status and set(response.json()) == {"error"}, (wanted, response.text)
    assert client.get(f"/api/assets/{sha}", headers={"Range": "bytes=0-9"}).content.__len__() == 10
    root = str(tmp_path)
    events = client.get(f"/api/runs/{run_id}/events").text
    assert root not in events and root not in client.get("/api/health").text
    assert root not in json.dumps(client.get(f"/api/runs/{run_id}").json())
    assert root in client.get("/api/health?where=true").text  # when asked for
    # Behind a token an asset is this browser's to keep, never a shared cache's.
    studio = client.app.state.studio
    assert client.get(f"/api/assets/{sha}").headers["cache-control"].startswith("public")
    studio.token = "tok-12345678"
    try:
        kept = client.get(f"/api/assets/{sha}", headers={"Authorization": "Bearer tok-12345678"})
        assert kept.status_code == 200 and kept.headers["cache-control"].startswith("private")
    finally:
        studio.token = None
    for srt in (tmp_path / "ws").rglob("assets/**/*.srt"):  # subtitles gone from the store: a 404 line
        srt.unlink()
    gone = client.get(f"/api/runs/{run_id}/subtitles.vtt")
    assert gone.status_code == 404 and "missing from the store" in gone.json()["error"]


def test_errors_that_name_a_server_file_show_it_as_workspace(client, monkeypatch):
    from director.backends.local.image import LocalIllustrator

    root = client.app.state.studio.director.workspace.root

    def refuse(self, prompt, *, out, **_):
        raise PermissionError(13, "Permission denied", str(out))  # the error names where the still would go

    monkeypatch.setattr(LocalIllustrator, "create_image", refuse)
    run_id = client.post("/api/runs", json={"goal": GOAL, "scenes": 1, "backend": "local"}).json()["id"]
    run = settle(client, run_id, "failed", "done")
    assert run["status"] == "failed" and "<workspace>/" in run["error"], run["error"]
    shown = json.dumps(run) + client.get(f"/api/runs/{run_id}/events").text
    assert str(root) not in shown and str(root.resolve()) not in shown and "<workspace>/" in shown
    assert "Permission denied" in shown  # the cause is still said
    from director.errors import RunStateError

    def busy(_run_id):
        raise RunStateError(f"run {_run_id} is held by {root.resolve()}/director.db's lease")

    monkeypatch.setattr(client.app.state.studio.director, "cancel", busy)
    answer = client.post(f"/api/runs/{run_id}/cancel", json={})
    assert answer.status_code == 409
    assert answer.json()["error"] == f"run {run_id} is held by <workspace>/director.db's lease"


# --- uploads, not server paths ---------------------------------------------------------------------------

def tone(path: Path, seconds: float = 3.0) -> Path:
    import subprocess

    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency=330:duration={seconds}", str(path)], check=True)
    return path


def test_an_upload_is_kept_once_by_its_content_and_only_if_it_decodes(client, tmp_path, monkeypatch):
    from tests.helpers import synthetic_video

    clip = tmp_path / "My_Holiday.mp4"
    synthetic_video(clip, scenes=2)
    first = client.post("/api/uploads?name=My_Holiday.mp4", content=clip.read_bytes(),
                        headers={"Content-Type": "video/mp4"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "video" and body["bytes"] == clip.stat().st_size and body["seconds"] == pytest.approx(2, abs=0.1)
    again = client.post("/api/uploads?name=copy.mp4", content=clip.read_bytes()).json()
    assert again["id"] == body["id"]  # the same bytes are one file
    folder = tmp_path / "ws" / "uploads"
    assert sorted(p.name for p in folder.iterdir()) == [f"{body['id']}.mp4", f"{body['id']}.mp4.json"]
    assert json.loads((folder / f"{body['id']}.mp4.json").read_text()) == {"title": "My Holiday"}
    song = client.post("/api/uploads?name=song.wav", content=tone(tmp_path / "song.wav").read_bytes()).json()
    assert song["kind"] == "audio"
    # What it decodes as decides, not what it is called: a WAV called .mp4 is audio, music and never a source.
    misnamed = client.post("/api/uploads?name=tone.mp4", content=tone(tmp_path / "t.wav", 2.0).read_bytes()).json()
    assert misnamed["kind"] == "audio" and (folder / f"{misnamed['id']}.mka").is_file()
    as_source = client.post("/api/runs", json={"goal": "a trailer", "sources": [misnamed["id"]], "backend": "local"})
    assert as_source.status_code == 422 and "is not a video" in as_source.json()["error"]
    for leftover in folder.glob(f"{misnamed['id']}.*"):
        leftover.unlink()

    for bad in (b"", b"not a video at all" * 100, clip.read_bytes()[:4000]):  # empty, junk, a truncated header
        refused = client.post("/api/uploads?name=x.mp4", content=bad)
        assert refused.status_code == 422 and set(refused.json()) == {"error"}, refused.text
        assert str(tmp_path) not in refused.text
    assert len(list(folder.iterdir())) == 3  # nothing half-written is left behind

    monkeypatch.setattr(client.app.state.studio.director.settings, "upload_mb", 1)
    big = b"\0" * (1024 * 1024 + 1)
    said = client.post("/api/uploads?name=big.mp4", content=big)  # its length said up front
    streamed = client.post("/api/uploads?name=big.mp4", content=iter([big[:600_000], big[600_000:]]))  # chunked
    for response in (said, streamed):
        assert response.status_code == 413 and "1 MB cap" in response.json()["error"], response.text
    assert len(list(folder.iterdir())) == 3


def test_a_path_that_is_not_allowed_gets_one_line_whatever_is_there(client, tmp_path):
    from tests.helpers import synthetic_video

    private = tmp_path / "private"
    private.mkdir()
    synthetic_video(private / "secret.mp4", scenes=2)
    (private / "secret.mp4").chmod(0o600)
    (private / "empty.mp4").write_bytes(b"")
    (private / "sidecar.mp4.json").write_text('{"title": "leaked"}')
    wanted = [str(private / "secret.mp4"), str(private / "missing.mp4"), str(private), str(private / "empty.mp4"),
              "~root/secret.mp4", "../../etc/passwd", "/etc/passwd", "0" * 64]
    lines = set()
    for path in wanted:
        response = client.post("/api/runs", json={"goal": "a trailer", "sources": [path], "backend": "local"})
        assert response.status_code == 422, (path, response.text)
        lines.add(response.json()["error"])
    assert len(lines) == 1, lines  # nothing tells a file that is there from one that is not
    line = lines.pop()
    assert "upload" in line and "DIRECTOR_MEDIA_ROOT" in line
    song = tone(tmp_path / "bed.wav")
    music = client.post("/api/runs", json={"goal": GOAL, "music": str(song), "backend": "local"})
    assert music.status_code == 422 and "upload" in music.json()["error"]
    assert client.get("/api/runs").json() == []


def test_paths_under_the_media_root_are_taken_and_nothing_outside_it(tmp_path, monkeypatch, fast):
    from director.server import create_app
    from tests.helpers import studio_client, synthetic_video

    media, outside = tmp_path / "media", tmp_path / "outside"
    media.mkdir()
    outside.mkdir()
    synthetic_video(media / "ours.mp4", scenes=3)
    synthetic_video(outside / "theirs.mp4", scenes=3)
    (media / "link.mp4").symlink_to(outside / "theirs.mp4")
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIRECTOR_MEDIA_ROOT", str(media))
    app = create_app(workspace=tmp_path / "ws", workers=1, backend="local")
    with studio_client(app) as client:
        for path in ("../outside/theirs.mp4", str(outside / "theirs.mp4"), "link.mp4", str(media / ".." / "outside" / "theirs.mp4")):
            refused = client.post("/api/runs", json={"goal": "a trailer", "sources": [path], "backend": "local"})
            assert refused.status_code == 422 and "outside DIRECTOR_MEDIA_ROOT" in refused.json()["error"], (path, refused.text)
        song = client.post("/api/uploads?name=song.wav", content=tone(tmp_path / "song.wav").read_bytes()).json()
        wrong = client.post("/api/runs", json={"goal": "a trailer", "sources": [song["id"]], "backend": "local"})
        assert wrong.status_code == 422 and "is not a video" in wrong.json()["error"]
        made = client.post("/api/runs", json={"goal": "a trailer", "sources": ["ours.mp4"], "backend": "local",
                                              "max_scenes": 2, "music": song["id"]})
        assert made.status_code == 201, made.text
        run = settle(client, made.json()["id"], "done", "failed", timeout=240)
        assert run["status"] == "done", run
        for live in app.state.studio.director.lifecycle.stop_all():
            live.wait_quietly(60)


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_sigterm_with_streams_open_interrupts_runs_at_once_and_hang_ups_are_quiet(tmp_path):
    """A real `director serve`: twenty event streams hung up mid-send leave no traceback; SIGTERM with three
    streams open ends the process with its run marked interrupted (not left running, not failed), and
    resume finishes the run."""
    import signal
    import socket

    from tests.helpers import FAST, first_picture, settled
    from tests.servers import serve_director

    log = tmp_path / "serve.log"
    proc, url = serve_director(tmp_path / "ws", {**os.environ, **FAST}, log=log)
    host, port = url.removeprefix("http://").split(":")
    request = "GET /api/runs/{id}/events HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
    try:
        run_id = httpx.post(url + "/api/runs", headers=own(url), timeout=60,
                            json={"goal": "a 6-scene story about a fox and an owl", "scenes": 6,
                                  "backend": "local"}).json()["id"]
        first_picture(url, run_id)
        for _ in range(20):
            with socket.create_connection((host, int(port))) as s:
                s.sendall(request.format(id=run_id, host=host, port=port).encode())
                s.recv(256)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # a reset, not a goodbye
        streams = [socket.create_connection((host, int(port))) for _ in range(3)]
        for s in streams:
            s.sendall(request.format(id=run_id, host=host, port=port).encode())
            s.recv(256)
        assert httpx.get(f"{url}/api/runs/{run_id}").json()["status"] == "running"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        for s in streams:
            s.close()
    finally:
        proc.kill()
        proc.wait()
    output = log.read_text()
    assert "Traceback" not in output and "BrokenResourceError" not in output, output[-3000:]
    assert f"interrupted, to resume: {run_id}" in output
    proc, url = serve_director(tmp_path / "ws", {**os.environ, **FAST})
    try:
        run = httpx.get(f"{url}/api/runs/{run_id}").json()
        assert run["status"] == "interrupted" and "server stopped" in run["error"]
        events = httpx.get(f"{url}/api/runs/{run_id}/events").text
        assert events.rstrip().split("\n\n")[-1].startswith("event: run_finished")
        assert httpx.post(f"{url}/api/runs/{run_id}/resume", headers=own(url), json={}, timeout=60).status_code == 200
        assert settled(url, run_id)["status"] == "done"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_broken_route_is_logged_once_and_says_nothing_of_the_server(tmp_path, monkeypatch, caplog):
    import logging

    caplog.set_level(logging.ERROR)
    server_log = logging.getLogger("uvicorn.error")  # the server's own log, which does not propagate
    with local_studio(tmp_path, monkeypatch, workers=1) as (url, app):
        server_log.addHandler(caplog.handler)  # once uvicorn has set its logging up (which drops handlers)
        try:
            def broken():
                raise RuntimeError(f"database at {tmp_path} is on fire")

            monkeypatch.setattr(app.state.studio.director, "runs", broken)
            answer = httpx.get(url + "/api/runs")
        finally:
            server_log.removeHandler(caplog.handler)
    assert answer.status_code == 500 and answer.json()["error"].startswith("internal error ")
    assert str(tmp_path) not in answer.text and "fire" not in answer.text
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]  # (the scrubber may inline it)
    assert len(logged) == 1, [(r.name, r.getMessage()) for r in caplog.records]  # once (not again as "Exception in ASGI application")
    assert answer.json()["error"].split()[2].rstrip(":") in logged[0].getMessage()  # with its incident id


def test_an_upload_cut_off_mid_file_keeps_nothing_and_logs_nothing(tmp_path, monkeypatch, caplog):
    import logging
    import socket

    caplog.set_level(logging.WARNING)
    with local_studio(tmp_path, monkeypatch, workers=1) as (url, _):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall((f"POST /api/uploads?name=x.mp4 HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: {url}\r\n"
                         "Content-Type: video/mp4\r\nContent-Length: 500000\r\n\r\n").encode() + b"\0" * 100_000)
        deadline = time.monotonic() + 10
        while list((tmp_path / "ws" / "uploads").glob(".part-*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not list((tmp_path / "ws" / "uploads").glob(".part-*"))  # nothing half-written is kept
        assert httpx.get(url + "/api/runs").status_code == 200
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()], [r.getMessage() for r in caplog.records]


def test_a_paused_run_names_no_server_path_anywhere_and_nothing_is_cached(client):
    root = str(client.app.state.studio.director.workspace.root)
    run_id = client.post("/api/runs", json={"goal": GOAL, "scenes": 1, "backend": "local", "approve": True}).json()["id"]
    assert settle(client, run_id, "paused")["status"] == "paused"
    events = client.get(f"/api/runs/{run_id}/events").text
    assert '"storyboard": "<workspace>/runs/' in events  # nested in the approval's interrupt, too
    for shown in (events, client.get("/api/runs").text, client.get(f"/api/runs/{run_id}").text):
        assert root not in shown
    assert client.get("/api/runs").headers["cache-control"] == "no-store"
    assert client.post("/api/runs", json={"goal": GOAL, "run_id": "../etc"}).status_code == 422
    long_id = "x" * 5000
    assert len(client.get(f"/api/runs/{long_id}").text) < 400  # an unknown id is not echoed whole
