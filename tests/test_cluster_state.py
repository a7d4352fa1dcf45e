"""State past one machine: the catalog, checkpoints, events and leases on SQLite and on Postgres.

Each test runs on both engines (the `engine` fixture); on Postgres the workspace folder keeps
no database at all, so everything the test reads back came from the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from director.api import Director
from director.store import MIGRATIONS
from tests.helpers import catalog_rows, open_catalog


def test_processes_opening_a_new_catalog_at_once_migrate_it_once(tmp_path, engine):
    code = ("import sys, time; from pathlib import Path; from director.config import load_settings; "
            "from director.store import Catalog, Workspace; "
            "w = Workspace.from_settings(Path(sys.argv[1]), load_settings()); w.prepare(); "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Catalog.open(w, create=True)")
    ws = tmp_path / "ws"
    at = str(time.time() + 2.0)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ws), at], stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    applied = [name for (name,) in catalog_rows(ws, "SELECT name FROM _director_migrations ORDER BY name")]
    assert applied == [step.__name__ for step in MIGRATIONS]
    assert (ws / "director.db").exists() == (engine == "sqlite")


def test_make_revise_replay_fork_keep_everything_in_the_database(tmp_path, fast, engine):
    ws = tmp_path / "ws"
    director = Director(workspace=ws, backend="local")
    seen: list[dict] = []
    run = director.submit("a 2-scene story about a fox and an owl", run_id="fox", motion="still",
                          on_event=seen.append)
    assert run.status == "done", run.error
    revised = director.say("fox", "make scene 2 at night")
    assert revised.status == "done" and revised.executed >= 2
    manifest = json.loads((ws / "runs" / "fox" / "manifest.json").read_text())
    assert "night" in manifest["scenes"][1]["image_prompt"].lower()
    replayed = director.replay("fox")
    assert replayed.status == "done" and replayed.executed == 0  # every call came back from the memo
    history = director.history("fox")
    assert any("make scene 2 at night" in row["change"] for row in history)
    first = history[-1]["checkpoint"]
    fork = director.fork("fox", first, say=None, new_run_id="fox-b")
    assert fork.status == "done" and fork.executed == 0  # the same goal from the start: all reused
    # Events: numbered per run, readable by another process from any point.
    code = ("import json, sys; from director.api import Director; "
            "print(json.dumps(Director(workspace=sys.argv[1]).events('fox')))")
    stored = json.loads(subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True,
                                       check=True).stdout)
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert stored[0]["type"] == "run_started" and stored[-1]["type"] == "run_finished"
    assert [e["type"] for e in stored[:len(seen)]] == [e["type"] for e in seen]
    # The catalog and the checkpoints are where the engine says.
    runs = {r for (r,) in catalog_rows(ws, "SELECT id FROM runs")}
    assert runs == {"fox", "fox-b"}
    [(checkpoints,)] = catalog_rows(ws, "SELECT COUNT(*) FROM checkpoints WHERE thread_id = 'fox'")
    assert checkpoints >= len([h for h in history if h["node"] != "fork"])
    assert (ws / "director.db").exists() == (engine == "sqlite")


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_lease_is_taken_by_exactly_one_of_many_processes(tmp_path, engine):
    ws = tmp_path / "ws"
    ws.mkdir()
    open_catalog(ws, create=True)
    code = ("import sys, time; from pathlib import Path; from director.config import load_settings; "
            "from director.lease import Lease, RunBusy; from director.store import Catalog, Workspace; "
            "c = Catalog.open(Workspace.from_settings(Path(sys.argv[1]), load_settings()), create=False); "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
            "try:\n    Lease(c, 'shared', 'make').acquire(); print('won'); sys.stdout.flush(); time.sleep(3)\n"
            "except RunBusy as e:\n    print('busy')")
    at = str(time.time() + 2.5)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ws), at], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [p.communicate(timeout=60) for p in procs]
    said = sorted(out.strip() for out, _ in outcomes)
    assert said == ["busy", "busy", "busy", "won"], outcomes


@pytest.mark.cluster
def test_an_unreachable_database_is_one_line_without_its_password(tmp_path, postgres_server, capsys, monkeypatch):
    from tests.helpers import run_cli

    broken = postgres_server.url("no_such_database").replace("@", ":s3cret-pass@", 1)
    monkeypatch.setenv("DIRECTOR_DATABASE_URL", broken)
    for args in (["runs"], ["make", "a 1-scene story about a newt", "--backend", "local"]):
        result = run_cli(capsys, *args, "--workspace", str(tmp_path / "ws"))
        assert result.code == 1, result
        [line] = result.err.strip().splitlines()
        assert "s3cret-pass" not in line and "no_such_database" in line and line.startswith("error: "), line


def test_a_run_driven_from_another_host_is_running_while_its_lease_is_renewed(tmp_path, engine):
    from director.lease import effective_status
    from director.store import LeaseHolder, RunRow

    (tmp_path / "ws").mkdir()
    catalog = open_catalog(tmp_path / "ws", create=True)
    # A server on another machine drives it: its pid means nothing here (and may even be a live pid here).
    catalog.create_run(RunRow(id="far", goal="a story", pid=1, host="render-7.internal"))
    now = time.time()
    catalog.take_lease("far", LeaseHolder("other", 1, "render-7.internal", "make", now, now + 30),
                       alive=lambda h: True)
    assert effective_status(catalog.require_run("far"), catalog) == "running"
    with catalog.engine.begin() as conn:  # that machine died: nobody renews the lease, and it runs out
        from sqlalchemy import text

        conn.execute(text("UPDATE leases SET expires = :t WHERE run_id = 'far'"), {"t": now - 1})
    assert effective_status(catalog.require_run("far"), catalog) == "interrupted"
    rows = {r["id"]: r["status"] for r in Director(workspace=tmp_path / "ws").runs()}
    assert rows == {"far": "interrupted"}
