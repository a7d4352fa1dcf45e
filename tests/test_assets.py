"""Damaged or missing assets are found by their hash, made again, and never published."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.helpers import check_final, db_rows, run_cli

GOAL = "a 1-scene story about a fox in the snow"


def make(capsys, ws: Path, run_id: str):
    return run_cli(capsys, "make", GOAL, "--backend", "local", "--workspace", str(ws), "--run-id", run_id)


def executed(ws: Path, run: str) -> list[str]:
    return [t for (t,) in db_rows(ws / "director.db", f"SELECT tool FROM tool_calls WHERE run_id='{run}' "
                                                      "AND reused=0 AND error IS NULL ORDER BY id")]


def damage_in_place(path: Path) -> None:
    """Overwrite bytes in the middle, keeping the size (and the inode, so every hard link sees it)."""
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.seek(size // 2)
        f.write(b"\x00" * min(4096, size // 4))


def test_a_damaged_final_cut_is_made_again_not_reused(capsys, workspace, fast):
    assert make(capsys, workspace, "one").code == 0
    damage_in_place(workspace / "runs" / "one" / "final.mp4")  # a hard link to the cached cut
    result = make(capsys, workspace, "two")
    assert result.code == 0, result.err
    assert executed(workspace, "two") == ["assemble_video"]  # everything else was reused
    check_final(Path(result.last_line), cues=1)


def test_a_truncated_picture_is_replaced_by_the_fresh_one(capsys, workspace, fast):
    assert make(capsys, workspace, "one").code == 0
    manifest = json.loads((workspace / "runs" / "one" / "manifest.json").read_text())
    picture = workspace / manifest["scenes"][0]["image"]["path"]
    good = picture.read_bytes()
    picture.write_bytes(good[: len(good) // 2])
    result = make(capsys, workspace, "two")
    assert result.code == 0, result.err
    assert "create_image" in executed(workspace, "two")
    assert picture.read_bytes() == good  # put() replaced the damaged file with the same, whole bytes


def test_doctor_finds_damage_and_repairs_it(capsys, workspace, fast):
    assert make(capsys, workspace, "one").code == 0
    result = run_cli(capsys, "doctor", "--workspace", str(workspace))
    assert result.code == 0 and "0 problem(s)" in result.err
    manifest = json.loads((workspace / "runs" / "one" / "manifest.json").read_text())
    audio = workspace / manifest["scenes"][0]["audio"]["path"]
    damage_in_place(audio)
    result = run_cli(capsys, "doctor", "--workspace", str(workspace))
    assert result.code == 1
    [line] = result.out.splitlines()
    assert line == f"problem {manifest['scenes'][0]['audio']['path']}: damaged (its bytes no longer hash to its name)"
    # a cached() file cut off by a kill, an hour old: a temp file to sweep (a fresh one may be a command's now)
    cut = workspace / "cache" / "speech" / "ab" / f".{'ab' * 32}.{'0' * 32}.wav"
    cut.parent.mkdir(parents=True, exist_ok=True)
    cut.write_bytes(b"RIFF")
    os.utime(cut, (time.time() - 7200, time.time() - 7200))
    result = run_cli(capsys, "doctor", "--repair", "--workspace", str(workspace))
    assert result.code == 0 and result.out.startswith("repaired ") and not audio.exists()
    assert not cut.exists() and "a temp file left by a command that was stopped" in result.out
    result = run_cli(capsys, "resume", "one", "--workspace", str(workspace))
    assert result.code == 0  # done runs stay done; a new run remakes what is missing
    result = make(capsys, workspace, "two")
    assert result.code == 0 and "narrate" in executed(workspace, "two")
    remade = json.loads((workspace / "runs" / "two" / "manifest.json").read_text())["scenes"][0]["audio"]
    assert (workspace / remade["path"]).is_file()  # Piper speaks a little differently each time: a new asset


def test_doctor_names_a_damaged_database(capsys, workspace):
    workspace.mkdir(parents=True)
    (workspace / "director.db").write_bytes(b"this is not a database" * 100)
    result = run_cli(capsys, "doctor", "--workspace", str(workspace))
    assert result.code == 1
    assert "director.db: the database cannot be read" in result.out


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_a_run_writes_nothing_outside_its_workspace(tmp_path):
    """onnxruntime (under Piper) writes a device id on import; it goes into the workspace, not ~/.cache."""
    import os
    import subprocess
    import sys

    from tests.helpers import FAST

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "XDG_CACHE_HOME"}
    env.update(FAST, HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "director", "make", "a 1-scene story", "--backend", "local",
                           "--motion", "still", "--workspace", str(tmp_path / "ws")], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p for p in home.rglob("*")] == []
