"""The make options are declared once (director.options) and every face takes exactly those, with the same
limits and the same one-line refusals; a face that differs says so in the declaration."""

from __future__ import annotations

import inspect
from typing import Annotated

import pytest
import typer
from pydantic import Field
from typer.testing import CliRunner

from director import options as declared
from director.api import Director
from director.assistant_arguments import make_arguments
from director.cli import CLI_ONLY, _signed, app, make_params
from director.errors import InputError
from director.media import SPEECH_LEAD, SPEECH_TAIL
from director.options import Face, MakeOptions, names_for
from director.server import RunRequest, create_app, run_request
from tests.helpers import run_cli, studio_client

PYTHON_ONLY = ("on_event", "background")


def cli_names(command: typer.main.TyperCommand) -> dict[str, object]:
    return {p.name: p for p in command.params}


def test_the_three_faces_take_the_same_options():
    every = tuple(MakeOptions.model_fields)
    assert names_for("cli") == names_for("http") == names_for("python") == every  # no face lacks one today
    command = typer.main.get_command(app).commands["make"]  # type: ignore[attr-defined]
    assert set(cli_names(command)) == {"goal", *every, *CLI_ONLY}
    assert set(RunRequest.model_fields) == {"goal", *every}
    python = inspect.signature(Director.start).parameters
    assert set(python) == {"self", "goal", *every, *PYTHON_ONLY}
    for name in every:  # the same default everywhere, and the CLI's flag is the declared one
        assert python[name].default == MakeOptions.model_fields[name].default == RunRequest.model_fields[name].default
        assert declared.face_of(name).flag in cli_names(command)[name].opts


def test_the_http_body_carries_the_declared_limits_and_says_where_it_differs():
    schema = RunRequest.model_json_schema()["properties"]
    for name, info in MakeOptions.model_fields.items():
        bounds = {k: getattr(m, k) for m in info.metadata for k in ("ge", "le") if getattr(m, k, None) is not None}
        prop = schema[name]
        shape = next((s for s in prop.get("anyOf", [prop]) if s.get("type") not in (None, "null")), prop)
        assert shape.get("minimum") == bounds.get("ge") and shape.get("maximum") == bounds.get("le"), name
        http = declared.face_of(name).http
        assert prop["description"] == (http or info.description), name
    # the declared differences: files are uploads over HTTP
    assert {n for n in MakeOptions.model_fields if declared.face_of(n).http} == {"sources", "music"}
    assert declared.LONGEST_TRANSITION == pytest.approx(SPEECH_LEAD + SPEECH_TAIL)


BAD = [  # (option, value, the one line every face says)
    ("scenes", 0, "scenes must be a whole number from 1 to 50 (got 0)"),
    ("scenes", 51, "scenes must be a whole number from 1 to 50 (got 51)"),
    ("seed", -1, "seed must be a whole number from 0 to 2147483647 (got -1)"),
    ("retakes", 9, "retakes must be a whole number from 0 to 5 (got 9)"),
    ("duration", 2.0, "duration must be from 5 to 600 (got 2.0)"),
    ("transition_seconds", 2.0, "transition seconds must be from 0.1 to 0.8 (the pause between two lines); got 2.0"),
    ("continuity", 1.5, "continuity must be a score from 0 to 1 (0 turns the check off; got 1.5)"),
    ("aspect", "4:3", "unknown aspect '4:3': use one of 16:9, 9:16, 1:1"),
    ("captions", "loud", "unknown captions 'loud': use one of soft, burn, both"),
    ("tier", "cheap", "unknown tier 'cheap': use one of standard, flex"),
    ("budget", -1.0, "budget must be zero or more dollars, at most $100,000 (got -1.0)"),
    ("run_id", "../x", "run id '../x' must be 1-64 letters, digits, '.', '_' or '-'"),
]


@pytest.mark.parametrize("name,value,line", BAD)
def test_a_bad_value_gets_the_same_line_from_the_cli_and_python(capsys, tmp_path, name, value, line):
    with pytest.raises(InputError) as caught:
        Director(tmp_path / "ws", backend="local").start("a fox", **{name: value})
    assert str(caught.value) == line
    flag = declared.face_of(name).flag
    result = run_cli(capsys, "make", "a fox", flag, str(value), "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and result.err == f"error: {line}\n", result.err
    assert not (tmp_path / "ws" / "runs").exists()  # refused before anything was written


@pytest.mark.parametrize("name,value,line", BAD)
def test_the_http_face_refuses_the_same_values(tmp_path, name, value, line):
    with studio_client(create_app(workspace=tmp_path / "ws", backend="local")) as client:
        response = client.post("/api/runs", json={"goal": "a fox", name: value})
    assert response.status_code == 422 and response.json() == {"error": f"{name}: {line}"}


def test_python_names_an_unknown_option_and_the_mode_an_option_belongs_to(capsys, tmp_path):
    director = Director(tmp_path / "ws", backend="local")
    with pytest.raises(InputError, match="unknown option 'colour': the options are scenes, aspect"):
        director.start("a fox", colour="red")
    with pytest.raises(InputError, match=r"^max_scenes, title apply to trailers: add sources \(for stories use "
                                         r"scenes\)$"):
        director.start("a fox", title="X", max_scenes=3)  # named in the declaration's order
    result = run_cli(capsys, "make", "a fox", "--max-scenes", "3", "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and result.err == "error: --max-scenes applies to trailers: add --source VIDEO (for " \
                                              "stories use --scenes)\n"


def test_a_made_up_option_reaches_every_face_from_one_declaration(monkeypatch):
    class WithSparkle(MakeOptions):
        sparkle: Annotated[int | None, Field(None, ge=1, le=3, description="How much the titles sparkle, 1-3."),
                           Face("--sparkle", metavar="N")]

    monkeypatch.setattr(declared, "MakeOptions", WithSparkle)
    one = typer.Typer()
    one.command(name="make")(_signed(lambda **kw: None, make_params()))
    one.command(name="other")(lambda: None)  # two commands, so "make" is a subcommand as in the real app
    help_text = CliRunner().invoke(one, ["make", "--help"], env={"COLUMNS": "200"}).output
    assert "--sparkle" in help_text and "How much the titles sparkle, 1-3." in help_text
    body = run_request().model_json_schema()["properties"]["sparkle"]
    assert body["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 3}
    signature = declared.signature([inspect.Parameter("goal", inspect.Parameter.POSITIONAL_OR_KEYWORD)], [])
    assert signature.parameters["sparkle"].default is None
    assert signature.parameters["sparkle"].kind is inspect.Parameter.KEYWORD_ONLY
    with pytest.raises(InputError, match=r"^sparkle must be a whole number from 1 to 3 \(got 7\)$"):
        WithSparkle.check({"sparkle": 7})
    tool = make_arguments(uploads=False).model_json_schema()["properties"]["sparkle"]  # the MCP make tool's
    assert tool["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 3}


def test_resume_checks_a_new_budget_against_the_same_declaration(capsys, tmp_path):
    with pytest.raises(InputError, match=r"^budget must be zero or more dollars, at most \$100,000 \(got -1.0\)$"):
        Director(tmp_path / "ws", backend="local").resume("any", budget=-1.0)
    result = run_cli(capsys, "resume", "any", "--budget", "200000", "--workspace", str(tmp_path / "ws"))
    assert result.code == 2 and result.err == "error: budget must be zero or more dollars, at most $100,000 " \
                                              "(got 200000.0)\n"
