"""Tool arguments as a careless or hostile model might send them: every case is a tool error, never a crash.

Arguments come from each tool's own schema, bent: wrong types, missing and unknown
fields, huge strings, `../` and absolute paths, scene and video numbers that do not
exist. An audit hook watches the file system while they run: nothing is written
outside the workspace, and no path the arguments name is ever opened.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from director.tools import registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from director.config import load_settings
from director.state import Character, DirectorState, Goal, Scene, Storyboard, ToolCall

HOSTILE_STRINGS = ["../../../../etc/passwd", "/etc/passwd", "..", "../system", "~/.ssh/id_rsa", "x" * 20_000, "",
                   " ", "\x00", "scene\n1", "<img>7</img> and <img>0</img>", "file:///etc/passwd", "C:\\Windows"]
HOSTILE_NUMBERS = [-1, 0, 3, 999, 2**63, -(2**63), 1.5, float("nan")]

_watch = threading.local()
_events: list[tuple[str, str]] = []


def _audit(event: str, args: tuple) -> None:
    if not getattr(_watch, "on", False) or event not in ("open", "os.rename", "os.replace", "os.remove",
                                                          "os.mkdir", "shutil.rmtree", "os.link", "os.symlink"):
        return
    path = args[0] if args else None
    if isinstance(path, (str, bytes, Path)):
        mode = args[1] if event == "open" and len(args) > 1 else "w"
        flags = args[2] if event == "open" and len(args) > 2 else 0
        writes = event != "open" or (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and flags & 0o3)
        _events.append(("write" if writes else "read", str(path if not isinstance(path, bytes) else path.decode(
            errors="replace"))))


sys.addaudithook(_audit)


def hostile(schema: dict, defs: dict) -> st.SearchStrategy:
    """Values for one property: a few of the right shape, many of the wrong one."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    kind = schema.get("type")
    anything = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.sampled_from(HOSTILE_NUMBERS), st.none(),
                         st.booleans(), st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(
                             st.sampled_from(["scene", "x", "../"]), st.integers(-2, 3), max_size=2))
    right: st.SearchStrategy
    if "enum" in schema:
        right = st.sampled_from(schema["enum"])
    elif kind == "integer":
        right = st.integers(-3, 6)
    elif kind == "number":
        right = st.floats(-10, 100, allow_nan=False)
    elif kind == "string":
        right = st.sampled_from(HOSTILE_STRINGS + ["a fox in the snow"])
    elif kind == "array":
        item = schema.get("items", {})
        right = st.lists(hostile(item, defs), max_size=3)
    elif kind == "object":
        right = st.dictionaries(st.sampled_from(list(schema.get("properties", {})) or ["x"]),
                                st.sampled_from(HOSTILE_STRINGS + HOSTILE_NUMBERS), max_size=3)
    elif "anyOf" in schema:
        right = st.one_of(*[hostile(s, defs) for s in schema["anyOf"]])
    else:
        right = anything
    return st.one_of(right, anything)


def arguments(name: str) -> st.SearchStrategy[dict]:
    schema = registry()[name].input.model_json_schema()
    defs = schema.get("$defs", {})
    props = schema.get("properties", {})
    fields = {k: hostile(v, defs) for k, v in props.items()}
    return st.fixed_dictionaries({}, optional={**fields, "unknown_field": st.just("surprise")})


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    from director.backends import build_providers
    from director.limits import Limits
    from director.runner import Runner
    from director.store import AssetStore, Catalog, Workspace

    root = tmp_path_factory.mktemp("fuzz")
    workspace = Workspace(root / "ws")
    workspace.prepare()
    cfg = load_settings(fps=12, x264_preset="ultrafast")
    providers = build_providers(cfg, "local", Limits(rpm={}, max_attempts=1, backoff_base_s=0, backoff_max_s=0),
                                cache_dir=workspace.cache_dir / "runtime")
    catalog = Catalog.open(workspace, create=True)
    return Runner(settings=cfg, backends=providers.backends, store=AssetStore(workspace, catalog), catalog=catalog,
                  tools=registry()), workspace


STATE = DirectorState(
    run_id="fuzz", goal=Goal(text="a fox story", scenes=2),
    storyboard=Storyboard(title="Fox", art_style="watercolour", characters=[Character(name="Fern", kind="fox",
                                                                                     look="orange")],
                          scenes=[Scene(index=1, image_prompt="a fox", narration="A fox."),
                                  Scene(index=2, image_prompt="an owl", narration="An owl.")]))


@pytest.mark.parametrize("name", sorted(registry()))
def test_hostile_arguments_come_back_as_tool_errors(runner, name):
    run, workspace = runner

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(args=arguments(name))
    def check(args: dict) -> None:
        _events.clear()
        _watch.on = True
        try:
            result = run.run_one(STATE, ToolCall(id="f1", name=name, args=args), lambda event: None)
        finally:
            _watch.on = False
        assert result.call_id == "f1" and result.name == name
        if not result.ok:
            assert result.error and "Traceback" not in result.error
            assert not result.error.startswith("internal error"), (args, result.error)
        root = str(workspace.root.resolve())
        for kind, path in _events:
            resolved = str(Path(path).resolve()) if path else ""
            if kind == "write":
                assert resolved.startswith(root) or resolved.startswith("/tmp") or resolved.startswith("/dev/"), \
                    (args, path)
            assert "passwd" not in path and ".ssh" not in path, (args, path)

    check()


def test_the_watch_sees_what_a_tool_writes(runner):
    """The audit hook is live: a call that succeeds is seen writing its picture into the workspace."""
    run, workspace = runner
    _events.clear()
    _watch.on = True
    try:
        result = run.run_one(STATE, ToolCall(id="w1", name="create_image",
                                             args={"scene": 1, "prompt": "../../etc/passwd", "aspect": "1:1"}),
                             lambda event: None)
    finally:
        _watch.on = False
    assert result.ok, result.error
    written = [p for kind, p in _events if kind == "write"]
    assert any(str(workspace.root) in p for p in written)
    assert not any("passwd" in p for _, p in _events)  # the prompt's words were drawn, never opened
