"""Chat, the approval gate, crash resume, replay and fork: pay only for what changed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from director.api import Director
from director.store import MIGRATIONS, sha256_file
from tests.helpers import DRAFT, FAST, db_rows, ffprobe, run_cli

REPO = Path(__file__).resolve().parents[1]


def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE", "REVE"))}
    return {**base, **FAST, "DIRECTOR_HOME": str(tmp_path / "home")}


def director_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "director", *args]


def executed(ws: Path, run: str, after: int = 0, sheets: bool = False) -> list[tuple[str, int | None]]:
    rows = db_rows(ws / "director.db", "SELECT tool, args_json FROM tool_calls WHERE run_id=? AND reused=0 "
                   f"AND error IS NULL AND tool!='brain' AND id>{after} ORDER BY id".replace("?", f"'{run}'"))
    # The characters' reference sheets are left out: tests/test_continuity.py follows them.
    return [(t, json.loads(a).get("scene")) for t, a in rows if sheets or t != "draw_character"]


def mark(ws: Path) -> int:
    return db_rows(ws / "director.db", "SELECT COALESCE(MAX(id), 0) FROM tool_calls")[0][0]


def assets_intact(ws: Path) -> None:
    for sha, path in db_rows(ws / "director.db", "SELECT sha256, path FROM assets"):
        assert sha256_file(ws / path) == sha, path


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A finished 3-scene run to fork and replay."""
    ws = tmp_path_factory.mktemp("forkws")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST.items():
            mp.setenv(name, value)
        run = Director(workspace=ws, backend="local").submit("a 3-scene story about a fox and an owl", run_id="base")
    return ws, run


def test_fork_with_a_new_scene_2_differs_only_in_scene_2(base_run, capsys, fast):
    ws, run = base_run
    last = Director(workspace=ws).history("base")[0]["checkpoint"]
    before = mark(ws)
    result = run_cli(capsys, "fork", "base", "--from", last, "--say", "make scene 2 at night", "--run-id", "night",
                     "--workspace", str(ws))
    assert result.code == 0, result.err
    assert sorted(executed(ws, "night", before), key=str) == sorted(
        [("revise_storyboard", None), ("create_image", 2), ("check_continuity", 2), ("animate_image", 2),
         ("assemble_video", None)], key=str)
    parent = json.loads((ws / "runs" / "base" / "manifest.json").read_text())
    child = json.loads((ws / "runs" / "night" / "manifest.json").read_text())
    for a, b in zip(parent["scenes"], child["scenes"]):
        same = {k: a[k]["sha256"] == b[k]["sha256"] for k in ("image", "audio", "clip")}
        if a["index"] == 2:
            assert same == {"image": False, "audio": True, "clip": False}
            assert b["image_prompt"].endswith(", at night")
        else:
            assert all(same.values()), (a["index"], same)
    assert parent["final"]["sha256"] != child["final"]["sha256"]
    assert (ws / "runs" / "night" / "final.mp4").stat().st_ino == (ws / child["final"]["path"]).stat().st_ino
    history = Director(workspace=ws).history("night")
    assert history[-1]["change"] == f"forked from run base at checkpoint {last}"
    assert "night" in {f for r in Director(workspace=ws).history("base") for f in r["forks"]}


def test_replay_from_a_mid_run_checkpoint_executes_nothing(base_run, capsys, fast):
    ws, _run = base_run
    rows = Director(workspace=ws).history("base")
    mid = next(r for r in reversed(rows) if r["node"] == "brain" and "animate_image" in r["change"])
    before = mark(ws)
    result = run_cli(capsys, "replay", "base", "--from", mid["checkpoint"], "--workspace", str(ws))
    assert result.code == 0, result.err
    assert executed(ws, "base", before) == []
    assert "all reused from memo: nothing was executed" in result.err
    reused = db_rows(ws / "director.db", f"SELECT tool FROM tool_calls WHERE run_id='base' AND id>{before}")
    # That checkpoint planned the clips and the cut (the stills, their checks and the voices came a turn before).
    assert sorted(t for (t,) in reused) == ["animate_image"] * 3 + ["assemble_video"] + ["make_music"] + ["mix_sound"]


def test_kill_9_then_resume_finishes_without_redoing(tmp_path, capsys, fast):
    ws = tmp_path / "ws"
    proc = subprocess.Popen(director_cmd("make", "a 4-scene story about a bear", "--workspace", str(ws),
                                         "--run-id", "crash", "--backend", "local"),
                            cwd=tmp_path, env=env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    done_before: list = []
    while time.monotonic() < deadline:
        if (ws / "director.db").exists():
            try:
                done_before = executed(ws, "crash")
            except Exception:  # the database may be mid-creation
                done_before = []
            if len(done_before) >= 3:
                break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(done_before) >= 3, "the run finished or stalled before it could be killed"
    done_before = executed(ws, "crash")
    assert ("assemble_video", None) not in done_before
    listing = json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)
    assert listing[0]["status"] == "interrupted"
    assets_intact(ws)
    result = run_cli(capsys, "resume", "crash", "--workspace", str(ws))
    assert result.code == 0, result.err
    after = executed(ws, "crash")[len(done_before):]
    keys_before = set(db_rows(ws / "director.db", "SELECT key FROM tool_calls WHERE run_id='crash' AND reused=0 "
                              f"AND id<={mark(ws)}"))
    assert not set(after) & set(done_before)  # nothing that finished before the kill ran again
    assert len(keys_before) == len(executed(ws, "crash", sheets=True))
    probe = ffprobe(Path(result.last_line))
    assert probe.video and probe.audio and probe.subtitle
    assets_intact(ws)


def test_approval_gate_yes_and_no(tmp_path, capsys, fast):
    ws = tmp_path / "ws"
    result = run_cli(capsys, "make", "a 2-scene story about a hedgehog", "--approve", "--workspace", str(ws),
                     "--run-id", "gated")
    assert result.code == 0, result.err
    assert "paused for approval: the remaining paid steps will cost about $0.00" in result.err
    assert result.last_line == str(ws / "runs" / "gated" / "storyboard.html")
    assert sorted(t for t, _ in executed(ws, "gated")) == ["check_continuity"] * 2 + ["create_image"] * 2 + \
        ["write_story"]
    assert json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)[0]["status"] == "paused"
    assert "waiting for approval" in run_cli(capsys, "history", "gated", "--workspace", str(ws)).out
    refused = run_cli(capsys, "resume", "gated", "--workspace", str(ws))
    assert refused.code == 2 and "waiting for approval: director resume gated --approve yes|no" in refused.err
    result = run_cli(capsys, "resume", "gated", "--approve", "yes", "--workspace", str(ws))
    assert result.code == 0, result.err
    assert ffprobe(Path(result.last_line)).video

    result = run_cli(capsys, "make", "a 2-scene story about a hedgehog", "--approve", "--workspace", str(ws),
                     "--run-id", "nope")
    assert result.code == 0
    result = run_cli(capsys, "resume", "nope", "--approve", "no", "--workspace", str(ws))
    assert result.code == 1 and "was cancelled; everything made so far is kept" in result.err
    manifest = json.loads((ws / "runs" / "nope" / "manifest.json").read_text())
    assert manifest["status"] == "cancelled" and manifest["final"] is None
    assert all(s["image"] and (ws / s["image"]["path"]).is_file() for s in manifest["scenes"])
    # The stills came from the memo (same goal as "gated"); nothing paid ran after "no".
    assert executed(ws, "nope") == []
    status = json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)
    assert {r["id"]: r["status"] for r in status}["nope"] == "cancelled"


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_chat_through_piped_stdin(tmp_path):
    ws = tmp_path / "ws"
    lines = "a 2-scene story about a fox and an owl\nyes\nmake scene 2 at night\nnow 9:16 for a phone\n" \
            "scene 9 is blue\nmake it pop\n"
    done = subprocess.run(director_cmd("chat", "--workspace", str(ws), "--backend", "local"), input=lines,
                          capture_output=True, text=True, cwd=tmp_path, env=env(tmp_path), timeout=300)
    assert done.returncode == 0, done.stderr
    replies = [line for line in done.stdout.splitlines() if line.startswith("director: ")]
    assert "the storyboard is ready" in replies[1] and "cost about $0.00" in replies[1]
    assert replies[2].startswith("director: done") and replies[3].startswith("director: done")
    assert replies[5] == "director: there is no scene 9; the story has scenes 1..2"
    assert replies[6].startswith("director: I can't do that offline: 'make it pop'. I can change:")
    [(run_id,)] = db_rows(ws / "director.db", "SELECT id FROM runs")
    calls = executed(ws, run_id)
    first_round = calls[:5]
    assert sorted(first_round, key=str) == [("check_continuity", 1), ("check_continuity", 2), ("create_image", 1),
                                            ("create_image", 2), ("write_story", None)]
    rest = calls[5:]
    approved = rest[:7]
    assert sorted(approved, key=str) == sorted([("narrate", 1), ("narrate", 2), ("animate_image", 1),
                                                ("animate_image", 2), ("make_music", None), ("mix_sound", None),
                                                ("assemble_video", None)], key=str)
    night = rest[7:12]  # the sound did not change: the music and mix_sound came from the memo
    assert sorted(night, key=str) == sorted([("revise_storyboard", None), ("create_image", 2), ("check_continuity", 2),
                                             ("animate_image", 2), ("assemble_video", None)], key=str)
    portrait = rest[12:]  # the sheets are square whatever the shape: they are kept
    assert sorted(portrait, key=str) == sorted([("revise_storyboard", None), ("create_image", 1), ("create_image", 2),
                                                ("check_continuity", 1), ("check_continuity", 2),
                                                ("animate_image", 1), ("animate_image", 2),
                                                ("assemble_video", None)], key=str)
    probe = ffprobe(ws / "runs" / run_id / "final.mp4")
    assert (probe.video[0]["width"], probe.video[0]["height"]) == DRAFT[::-1]


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_two_runs_at_once_in_one_workspace(tmp_path, capsys):
    ws = tmp_path / "ws"
    procs = [subprocess.Popen(director_cmd("make", goal, "--scenes", "2", "--workspace", str(ws), "--run-id", rid,
                                           "--backend", "local"),
                              cwd=tmp_path, env=env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for goal, rid in (("a cat in the snow", "one"), ("a dog at the beach", "two"))]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-500:] for o in outs]
    listing = {r["id"]: r for r in json.loads(run_cli(capsys, "runs", "--workspace", str(ws), "--json").out)}
    assert listing["one"]["status"] == listing["two"]["status"] == "done"
    for rid in ("one", "two"):
        assert len(executed(ws, rid)) == 12  # story, 2 stills and their checks, 2 voices, 2 clips, music, mix, cut
        assert ffprobe(ws / "runs" / rid / "final.mp4").video
        assert Director(workspace=ws).history(rid)[0]["node"] == "finish"
    assets_intact(ws)
    [(check,)] = db_rows(ws / "director.db", "PRAGMA integrity_check")
    assert check == "ok"


def test_bad_input_changes_nothing(base_run, capsys, tmp_path):
    ws, _run = base_run
    counts = lambda: (db_rows(ws / "director.db", "SELECT COUNT(*) FROM checkpoints")[0][0],  # noqa: E731
                      db_rows(ws / "director.db", "SELECT COUNT(*) FROM tool_calls")[0][0],
                      db_rows(ws / "director.db", "SELECT COUNT(*) FROM runs")[0][0])
    before = counts()
    cases = [
        (["resume", "ghost"], "unknown run id 'ghost'"),
        (["say", "ghost", "make scene 1 blue"], "unknown run id 'ghost'"),
        (["replay", "base", "--from", "not-a-checkpoint"], "run base has no checkpoint 'not-a-checkpoint'"),
        (["fork", "base", "--from", "not-a-checkpoint", "--say", "scene 1 at night"],
         "run base has no checkpoint 'not-a-checkpoint'"),
        (["say", "base", "make scene 9 at night"], "there is no scene 9; the story has scenes 1..3"),
        (["say", "base", "make it pop"], "I can't do that offline"),
        (["say", "base", "   "], "the message is empty"),
        (["resume", "base", "--approve", "yes"], "run base is not waiting for approval"),
    ]
    for args, message in cases:
        result = run_cli(capsys, *args, "--workspace", str(ws))
        lines = [line for line in result.err.splitlines() if line.strip()]
        assert result.code == 2 and len(lines) == 1 and message in lines[0], (args, result.err)
    assert counts() == before

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        import socket
        import time

        from director.store import Catalog, LeaseHolder, RunRow, Workspace

        catalog = Catalog.open(Workspace(ws), create=False)
        catalog.create_run(RunRow(id="busy", goal="x", pid=sleeper.pid))
        now = time.time()
        catalog.take_lease("busy", LeaseHolder("other", sleeper.pid, socket.gethostname(), "make", now, now + 60),
                           alive=lambda h: True)
        result = run_cli(capsys, "fork", "busy", "--from", "whatever", "--workspace", str(ws))
        assert result.code == 2 and f"run busy is busy: pid {sleeper.pid} (make)" in result.err
        result = run_cli(capsys, "say", "busy", "scene 1 at night", "--workspace", str(ws))
        assert result.code == 2 and f"run busy is busy: pid {sleeper.pid} (make)" in result.err
    finally:
        sleeper.kill()


def test_python_api_streams_events(tmp_path, fast):
    import asyncio

    director = Director(workspace=tmp_path / "ws", backend="local")
    run = director.start("a 1-scene story about a frog")
    kinds = [e["type"] for e in run.events()]  # blocks until the run ends, yielding as they come
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert {"brain", "tool_started", "tool_finished", "checkpoint"} <= set(kinds)
    assert run.wait().status == "done" and run.final.is_file()
    assert [e["type"] for e in run.events()] == kinds  # a finished run replays its log

    gated = asyncio.run(director.asubmit("a 1-scene story about a newt", approve=True))
    assert gated.status == "paused" and gated.interrupt["quote_usd"] == 0.0
    assert any(e["type"] == "interrupt" for e in gated.events())
    done = director.resume(gated.id, approve="yes")
    assert done.status == "done" and done.executed == 5  # narrate, animate, make_music, mix_sound, assemble


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_processes_opening_a_new_workspace_at_once_do_not_race(tmp_path):
    # Every process imports first, then all open the catalog at the same instant.
    code = ("import sys, time; from pathlib import Path; from director.store import Catalog, Workspace; "
            "w = Workspace(Path(sys.argv[1])); w.prepare(); "
            "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); Catalog.open(w, create=True)")
    for round_ in range(4):
        ws = tmp_path / f"ws{round_}"
        at = str(time.time() + 2.0)
        procs = [subprocess.Popen([sys.executable, "-c", code, str(ws), at], stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        errors = [p.communicate(timeout=60)[1] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], errors
        tables = {t for (t,) in db_rows(ws / "director.db", "SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"runs", "assets", "tool_calls", "_director_migrations"} <= tables
        assert db_rows(ws / "director.db", "SELECT COUNT(*) FROM _director_migrations")[0][0] == len(MIGRATIONS)


def test_events_are_recorded_and_readable_from_another_process(tmp_path, fast):
    ws = tmp_path / "ws"
    seen: list[dict] = []
    Director(workspace=ws, backend="local").submit("a 1-scene story about a frog", run_id="frog",
                                                   motion="still", on_event=seen.append)
    code = ("import json, sys; from director.api import Director; "
            "print(json.dumps(Director(workspace=sys.argv[1]).events('frog')))")
    done = subprocess.run([sys.executable, "-c", code, str(ws)], capture_output=True, text=True, check=True)
    stored = json.loads(done.stdout)
    assert [e["seq"] for e in stored] == list(range(1, len(stored) + 1))
    assert [e["type"] for e in stored] == [e["type"] for e in seen]
    assert stored[0]["type"] == "run_started" and stored[-1]["type"] == "run_finished"
    later = Director(workspace=ws).events("frog", after=len(stored) - 1)
    assert [e["type"] for e in later] == ["run_finished"]
