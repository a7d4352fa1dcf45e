"""Bad input: one clear line on stderr, exit 2, nothing written to the database."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("args,message", [
    (["make", "a story", "--scenes", "0"], "scenes must be a whole number from 1 to 50 (got 0)"),
    (["make", "a story", "--scenes", "51"], "scenes must be a whole number from 1 to 50 (got 51)"),
    (["make", "a 60-scene story"], "scenes must be a whole number from 1 to 50 (got 60)"),
    (["make", "a story", "--aspect", "4:3"], "unknown aspect '4:3'"),
    (["make", ""], "the goal is empty"),
    (["make", "   "], "the goal is empty"),
    (["make", "a story", "--run-id", "../escape"], "run id '../escape' must be"),
    (["make", "a story", "--backend", "gemini"], "the gemini backend needs an API key: set GEMINI_API_KEY"),
    (["make", "a story", "--backend", "vertex"], "the vertex backend needs GOOGLE_CLOUD_PROJECT"),
    (["make", "a story", "--backend", "openai"], "the openai backend needs a model server: set DIRECTOR_OPENAI_BASE_URL"),
    (["make", "a story", "--backend", "ollama"], "unknown backend 'ollama'"),
    (["make", "a story", "--fallback", "maybe"], "bad setting fallback"),
    (["make", "a story", "--budget", "-1"], "budget must be zero or more dollars, at most $100,000 (got -1.0)"),
    (["make", "a story", "--motion", "spin"], "unknown motion 'spin': use one of auto, still, zoom_in"),
    (["make", "a story", "--scenes", "many"], "Invalid value for '--scenes'"),
    (["make"], "Missing argument 'GOAL'"),
])
def test_bad_make_arguments(capsys, workspace, args, message):
    result = run_cli(capsys, *args, "--workspace", str(workspace))
    assert result.code == 2
    assert message in one_line(result.err)
    assert not (workspace / "director.db").exists()


def test_workspace_that_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli(capsys, "make", "a story", "--workspace", str(blocker))
    assert result.code == 2
    assert "is not a directory" in one_line(result.err)
    result = run_cli(capsys, "make", "a story", "--workspace", str(blocker / "inside"))
    assert result.code == 2
    assert f"workspace {blocker / 'inside'} is not writable" in one_line(result.err)
    assert blocker.read_text() == "not a folder"


def test_unknown_run_id(capsys, workspace, story_run):
    result = run_cli(capsys, "history", "nope", "--workspace", str(workspace))
    assert result.code == 2
    assert "no Director runs in" in one_line(result.err)
    assert not (workspace / "director.db").exists()
    _run, _events, ws = story_run
    def contents() -> tuple[list[str], list[str]]:
        import sqlite3

        conn = sqlite3.connect(ws / "director.db")
        try:  # what the database holds, not how SQLite lays it out (a WAL checkpoint moves pages)
            return list(conn.iterdump()), sorted(p.name for p in (ws / "runs").iterdir())
        finally:
            conn.close()

    before = contents()
    result = run_cli(capsys, "history", "nope", "--workspace", str(ws))
    assert result.code == 2
    assert "unknown run id 'nope'" in one_line(result.err)
    assert before == contents()


def test_existing_run_id_is_refused(capsys, story_run):
    _run, _events, ws = story_run
    result = run_cli(capsys, "make", "a story", "--workspace", str(ws), "--run-id", "story")
    assert result.code == 2
    assert "run 'story' already exists" in one_line(result.err)


def test_runs_in_an_empty_workspace(capsys, workspace):
    result = run_cli(capsys, "runs", "--workspace", str(workspace))
    assert result.code == 2 and "no Director runs in" in one_line(result.err)


COMMANDS = ["make", "resume", "say", "replay", "fork", "chat", "runs", "history"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_reads_well(capsys, command, monkeypatch):
    """No {goal}-style placeholders, no <bool> on flags, no <type> beside names, every choice listed."""
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli(capsys, *([command] if command else []), "--help")
    assert result.code == 0
    text = result.out
    for bad in ("{", "<bool>", "<int>", "<str>", "<float>", "<path>", "such as"):
        assert bad not in text, (command, bad, text)
    if command in ("make", "chat"):
        assert "[16:9|9:16|1:1]" in text and "[auto|still|zoom_in|zoom_out|pan_left|pan_right|pan_up|pan_down]" in text
        assert "[auto|local|openai|gemini|vertex]" in text
    if command == "make":
        assert "Usage: director make [OPTIONS] GOAL" in text
        assert "[narration|source|mix]" in text and "diorama" in text
    if command == "chat":
        assert all(flag in text for flag in ("--seed", "--voice", "--motion", "--budget"))


def test_escape_sequences_from_a_goal_never_reach_the_terminal(capsys, workspace, fast):
    goal = "a 1-scene story about a \x1b[31mred\x1b[0m fox\x07 \x1b]0;pwned\x07 [bold]cat[/bold]"
    result = run_cli(capsys, "make", goal, "--backend", "local", "--workspace", str(workspace), "--run-id", "esc")
    assert result.code == 0, result.err
    for command in (["runs"], ["history", "esc"]):
        shown = run_cli(capsys, *command, "--workspace", str(workspace))
        assert shown.code == 0
        text = shown.out + shown.err
        assert "\x1b" not in text and "\x07" not in text
    shown = run_cli(capsys, "runs", "--workspace", str(workspace)).out
    assert "red fox" in shown and "[bold]cat[/bold]" in shown  # the words stay, as words


@pytest.mark.parametrize("args,message", [
    (["--seed", "99999999999999999999999"], "seed must be a whole number from 0 to 2147483647"),
    (["--seed", "-1"], "seed must be a whole number from 0 to 2147483647"),
    (["--run-id", "nl\n"], "run id 'nl\\n' must be"),
    (["--voice", "nonexistent"], "unknown voice 'nonexistent' for the local voice backend; use one of: "
                                 "en_US-joe-medium"),
])
def test_bad_values_are_refused_before_anything_is_written(capsys, workspace, args, message):
    result = run_cli(capsys, "make", "a story", "--backend", "local", "--workspace", str(workspace), *args)
    assert result.code == 2
    assert message in one_line(result.err)
    assert not workspace.exists()


def test_a_bad_render_setting_is_refused_at_start(capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_X264_PRESET", "bogus")
    result = run_cli(capsys, "make", "a story", "--backend", "local", "--workspace", str(workspace))
    assert result.code == 2 and "bad setting x264_preset" in one_line(result.err)
    assert not workspace.exists()
