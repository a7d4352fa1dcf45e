"""Batches (director.batches): many goals under one budget, bad rows named by line before anything runs, one
summary at the end, and a resume that finishes what a kill or the budget left, paying for nothing twice."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from director.api import Director
from director.batches import Batches, read_rows
from tests.conftest import TEST_KEY
from tests.helpers import FAST_PAID, run_cli

ROWS = [
    {"goal": "a 1-scene story about a fox in the snow", "scenes": 1},
    {"goal": "a 1-scene bedtime story about an owl", "scenes": 1, "aspect": "9:16"},
    {"goal": "a 1-scene story about a whale", "scenes": 99},
    {"goal": "a 1-scene story about a robot who bakes bread", "scenes": 1, "dialogue": "none"},
    {"goal": "a 1-scene story about a turtle", "scenes": 1, "motion": "still"},
    {"goal": "a 1-scene story about two bees", "scenes": 1},
]


def summary_of(folder: Path) -> list[dict]:
    return json.loads((folder / "summary.json").read_text())["rows"]


@pytest.mark.usefixtures("fast")
def test_a_paid_batch_survives_a_kill_and_resumes_within_one_budget(tmp_path, fake):
    goals = tmp_path / "goals.jsonl"
    goals.write_text("# six goals for the night\n" + "\n".join(json.dumps(r) for r in ROWS) + "\n")
    ws = tmp_path / "ws"
    env = {**os.environ, **FAST_PAID, "LANGGRAPH_STRICT_MSGPACK": "true", "GOOGLE_GEMINI_BASE_URL": fake.url,
           "GOOGLE_VERTEX_BASE_URL": fake.url, "GEMINI_API_KEY": TEST_KEY, "DIRECTOR_VEO_POLL_S": "0.05"}
    argv = [sys.executable, "-m", "director", "batch", str(goals), "--workspace", str(ws), "--batch-id", "batch-night",
            "--concurrency", "1", "--budget", "2.5"]
    log = (tmp_path / "batch.log").open("w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    events = ws / "batches" / "batch-night" / "events.jsonl"
    deadline = time.monotonic() + 240
    while '"row_finished"' not in (events.read_text() if events.exists() else ""):  # one row made, the next going
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "batch.log").read_text()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    said = (tmp_path / "batch.log").read_text()
    assert "line 4: scenes must be a whole number from 1 to 50 (got 99) (left out)" in said  # before anything ran
    folder = ws / "batches" / "batch-night"
    killed = {r["line"]: r["status"] for r in summary_of(folder)}
    assert killed[2] == "done" and killed[4] == "refused" and list(killed.values()).count("done") < 5, killed

    director = Director(ws)
    batches = Batches(director)
    first = batches.run(batches.load("batch-night"))  # the same budget: it runs out before the last rows
    spent = sum(r["cost_usd"] for r in first)
    assert 0 < spent <= 2.5 + 1e-6, first
    stopped = [r for r in first if r["status"] not in ("done", "refused")]
    assert stopped and all("batch budget" in (r["error"] or "") for r in stopped), first

    again = batches.run(batches.load("batch-night"), budget=6.0)  # the user raises it: the rest is made
    statuses = {r["line"]: r["status"] for r in again}
    assert statuses == {2: "done", 3: "done", 4: "refused", 5: "done", 6: "done", 7: "done"}, again
    total = sum(r["cost_usd"] for r in again)
    assert total <= 6.0 + 1e-6 and total == pytest.approx(abs=1e-3, expected=
        sum(director.lifecycle._catalog().run_spend(r["run_id"]) for r in again if r["run_id"]))
    # nothing is paid twice: no clip was asked for twice, across the kill, the budget stop and two resumes (the same
    # clip for two rows is the memo's, asked once)
    made = [r for r in again if r["status"] == "done"]
    asked = [json.dumps(c.body, sort_keys=True) for c in fake.calls("omni")]
    assert asked and len(set(asked)) == len(asked)
    for row in made:
        assert Path(row["final"]).is_file() and row["seconds"] > 1
    with (folder / "summary.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [t["status"] for t in table] == ["done", "done", "refused", "done", "done", "done"]
    assert table[2]["error"] == "scenes must be a whole number from 1 to 50 (got 99)" and table[2]["line"] == "4"


def test_bad_rows_are_named_by_line_before_anything_runs(capsys, tmp_path):
    goals = tmp_path / "goals.csv"
    goals.write_text(f"goal,scenes,aspect,sources,colour\n"
                     "a fox in the snow,3,16:9,,\n"
                     "a whale,three,,,\n"
                     ",2,,,\n"
                     f"a trailer,,,{tmp_path}/a.mp4;{tmp_path}/b.mp4,\n"
                     "an owl,2,4:3,,\n"
                     "a hare,2,,,red\n"
                     "a hen,2,16:9,,,extra\n")
    (tmp_path / "a.mp4").write_bytes(b"")
    result = run_cli(capsys, "batch", str(goals), "--check", "--workspace", str(tmp_path / "ws"))
    assert result.code == 1
    lines = [line for line in result.err.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 3: scenes must be a whole number from 1 to 50 (got 'three')",
        "line 4: no goal: every row needs one",
        f"line 5: no video '{tmp_path}/b.mp4' (sources[1])",
        "line 6: unknown aspect '4:3': use one of 16:9, 9:16, 1:1",
        "line 7: unknown option 'colour': the options are scenes, aspect, " + lines[4].split("aspect, ", 1)[1],
        "line 8: 6 cells for 5 columns",
    ], lines
    assert not (tmp_path / "ws" / "batches").exists()  # --check writes nothing
    for text, line in (("", "has no rows"), ("name,scenes\nfox,2\n", "needs a header row with a goal column"),
                       ("{\"goal\": \"a fox\"}\n[1, 2]\n", None)):
        (tmp_path / "f.csv").write_text(text)
        if line:
            result = run_cli(capsys, "batch", str(tmp_path / "f.csv"), "--workspace", str(tmp_path / "ws"))
            assert result.code == 2 and line in result.err and result.err.count("\n") == 1, result.err
    assert read_rows(tmp_path / "f.csv")[0][1] == (2, {"__error__": 'a row is a JSON object, like {"goal": "a fox in '
                                                                 'the snow", "scenes": 3}'})
    # --check says what the real batch would: the same refusals, in the same words
    one = tmp_path / "one.jsonl"
    one.write_text('{"goal": "a fox", "scenes": "2"}\n{"goal": ["a list"]}\n')
    result = run_cli(capsys, "batch", str(one), "--check", "--workspace", str(tmp_path / "ws"))
    assert result.code == 1 and "line 1: scenes must be a whole number from 1 to 50 (got '2')" in result.err  # JSON
    assert "line 2: the goal must be text (got list)" in result.err
    for args, line in (([str(one), "--budget", "-1"], "budget must be zero or more dollars"),
                       ([str(tmp_path / "head.csv")], "the batch has no rows"),
                       ([str(one), "--resume", "b1"], "--resume goes on with a batch already made")):
        (tmp_path / "head.csv").write_text("goal,scenes\n")
        result = run_cli(capsys, "batch", *args, "--check", "--workspace", str(tmp_path / "ws"))
        assert result.code == 2 and line in result.err, (args, result.err)
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00goal")
    result = run_cli(capsys, "batch", str(tmp_path / "bin.csv"), "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and "is not text" in result.err


@pytest.mark.slow  # makes videos, or starts a process: make test, not make check
def test_a_batch_over_http_with_its_events_and_no_server_paths(tmp_path, monkeypatch):
    import httpx

    from tests.servers import local_studio

    with local_studio(tmp_path, monkeypatch, workers=1) as (url, _):
        own = {"Origin": url}
        rows = [{"goal": "a 1-scene story about a fox", "scenes": 1},
                {"goal": "a 1-scene story about an owl", "scenes": "1"},  # JSON's types as they are: "1" is no number
                {"goal": "a trailer", "sources": ["/etc/passwd"]},
                {"goal": "a 1-scene story about a hare", "scenes": 1, "aspect": "1:1"}]
        bad = httpx.post(f"{url}/api/batches", json={"rows": rows, "concurrency": 9}, headers=own)
        assert bad.status_code == 422 and bad.json() == {"error": "concurrency: Input should be less than or equal "
                                                                  "to 8"}, bad.text
        made = httpx.post(f"{url}/api/batches", json={"rows": rows, "concurrency": 2, "batch_id": "batch-web"},
                          headers=own, timeout=60)
        assert made.status_code == 201, made.text
        seen = []
        with httpx.stream("GET", f"{url}/api/batches/batch-web/events", timeout=300) as stream:
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    seen.append(line[7:])
        assert seen[:2] == ["row_refused", "row_refused"] and seen[-1] == "batch_finished", seen
        assert seen.count("row_finished") == 2
        batch = httpx.get(f"{url}/api/batches/batch-web").json()
        assert batch["status"] == "done" and [r["status"] for r in batch["rows"]] == ["done", "refused", "refused",
                                                                                       "done"]
        assert batch["rows"][1]["error"] == "scenes must be a whole number from 1 to 50 (got '1')"
        assert "upload" in batch["rows"][2]["error"] and str(tmp_path) not in json.dumps(batch)
        run = httpx.get(url + batch["rows"][0]["run"]).json()
        assert run["status"] == "done" and run["final"].startswith("/api/assets/")
        odd = httpx.post(f"{url}/api/batches", headers={**own, "Content-Type": "application/json"},
                         content=b'{"rows": [{"goal": "a fox \\ud800", "scenes": 1}]}')
        assert odd.status_code == 422 and "not text" in odd.json()["error"], odd.text
        assert made.json()["concurrency"] == 1  # at most the server's --workers
        again = httpx.post(f"{url}/api/batches/batch-web/resume", json={}, headers=own)
        assert again.status_code == 200
        assert [b["id"] for b in httpx.get(f"{url}/api/batches").json()] == ["batch-web"]
        assert httpx.get(f"{url}/api/batches/batch-nope").status_code == 404


def test_a_server_starts_one_batch_at_a_time_even_while_one_is_being_planned(tmp_path):
    """Two POSTs at once: the second is refused while the first is still checking and saving its rows, so the
    loser saves nothing; a resume is refused too, until the first has started and ended."""
    from director.batch_routes import Running
    from director.batches import Batch
    from director.errors import RunStateError

    director = Director(workspace=tmp_path / "ws", backend="local")
    running = Running(workers=2)
    batch = Batch(id="first", created="2026-12-07T00:00:00", source="test", concurrency=1, budget_usd=None, rows=[])
    Batches(director).save(batch)
    with running.claim():
        with pytest.raises(RunStateError, match="being started"):
            with running.claim():
                pass
        with pytest.raises(RunStateError, match="being started"):
            running.start(director, batch)
        running.start(director, batch, claimed=True)  # no rows: the thread ends at once
    thread = running.threads["first"][0]
    thread.join(30)
    assert not thread.is_alive()
    with running.claim():  # free again once the first has ended
        assert running.claimed
    assert not running.claimed
