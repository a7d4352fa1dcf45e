"""The same `director make` again is answered from its record, and only while nothing it depends on changed."""

from __future__ import annotations

import os
from pathlib import Path

from director import rerun
from tests.helpers import run_cli

GOAL = "a 1-scene story about a hedgehog"


def runs(ws: Path) -> set[str]:
    return {p.name for p in (ws / "runs").iterdir()}


def test_the_same_make_again_is_answered_from_its_record(tmp_path, capsys, fast, monkeypatch):
    ws = tmp_path / "ws"
    marker = "AIza-rerun-marker-0123456789abcdef"
    monkeypatch.setenv("REVE_API_KEY", marker)  # a secret in the settings: never in a record or its name
    make = ("make", GOAL, "--backend", "local", "--workspace", str(ws))
    first = run_cli(capsys, *make)
    assert first.code == 0, first.err
    final = Path(first.last_line)
    assert final.is_file() and len(runs(ws)) == 1

    again = run_cli(capsys, *make)
    assert again.code == 0, again.err
    assert again.last_line == str(final)
    assert f"the same request as run {final.parent.name}" in again.err
    assert "nothing was executed" in again.err and "✓" not in again.err
    assert len(runs(ws)) == 1, "answered from the record: no new run"
    records = list((ws / rerun.RECORDS).glob("*.json"))
    assert len(records) == 1
    assert marker not in records[0].read_text() and marker not in records[0].name

    # A different option is a different request: a new run, every call from the memo.
    square = run_cli(capsys, *make, "--aspect", "1:1")
    assert square.code == 0, square.err
    assert Path(square.last_line) != final and len(runs(ws)) == 2

    # --new-run goes through the graph even for the same request.
    fresh = run_cli(capsys, *make, "--new-run")
    assert fresh.code == 0, fresh.err
    assert Path(fresh.last_line) != final and len(runs(ws)) == 3
    assert "all reused from memo" in fresh.err

    # The recorded output changed on disk (a revision, an edit, a copy over it): not trusted, made again.
    newest = Path(fresh.last_line)
    os.utime(newest, ns=(newest.stat().st_atime_ns, newest.stat().st_mtime_ns + 10**9))
    changed = run_cli(capsys, *make)
    assert changed.code == 0, changed.err
    assert "the same request" not in changed.err and len(runs(ws)) == 4

    # An output removed: made again.
    Path(changed.last_line).unlink()
    gone = run_cli(capsys, *make)
    assert gone.code == 0 and "the same request" not in gone.err and len(runs(ws)) == 5


def test_a_named_file_edited_is_a_new_request(tmp_path, monkeypatch):
    from director.config import load_settings

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"one")
    settings = load_settings()

    def key() -> str:
        return rerun.request_key("a trailer", {"sources": [str(clip)]}, process={}, settings=settings)

    before = key()
    assert key() == before
    (tmp_path / "clip.json").write_text('{"title": "A sidecar"}')  # the clip's sidecar is part of it
    with_sidecar = key()
    assert with_sidecar != before
    clip.write_bytes(b"two, longer")
    assert key() not in (before, with_sidecar)


def test_a_code_change_is_a_new_request(tmp_path, monkeypatch):
    import director

    before = rerun.code_fingerprint()
    assert rerun.code_fingerprint() == before
    extra = tmp_path / "director_extra"
    extra.mkdir()
    (extra / "x.py").write_text("X = 1\n")
    monkeypatch.setattr(director, "__path__", [str(extra)])
    assert rerun.code_fingerprint() != before
