"""What a tool is: a typed function plus how it reads and writes the storyboard.

A tool module in tools/ holds `XInput(BaseModel)`, `XOutput(BaseModel)` and one
function decorated with @tool. The docstring is the description the model
reads; every Field must have a description. Tools are validated when they are
declared, so a malformed tool fails at import, not mid-run.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel

from director.errors import ToolArgumentError
from director.state import AssetRef, DirectorState, Footage, Scene, Storyboard

if TYPE_CHECKING:
    from director.backends import Backends
    from director.config import Settings
    from director.store import AssetStore

STORY_PARTS = frozenset({"story", "image", "frame", "prompt", "audio", "clip", "sound", "final", "shots",
                         "transcript", "music", "sheet", "continuity"})
"""The parts of a storyboard a tool can read or write; see Tool.reads/writes."""

Needs = Callable[[Any, DirectorState], dict[str, Any]]
Apply = Callable[[Storyboard | None, Any, Any], Storyboard]
Estimate = Callable[[Any, Mapping[str, Any], str, Any], float]
"""(args, resolved inputs, model, Prices) -> expected USD of a call, checked against the budget first."""


@dataclass
class ToolContext:
    """Everything a tool may use. Tools read no globals and no environment."""

    settings: Settings
    backends: Backends
    store: AssetStore
    run_id: str
    seed: int
    inputs: Mapping[str, Any] = field(default_factory=dict)
    """What `needs` resolved from the state for this call (assets, texts)."""
    report: Callable[[str], None] = lambda note: None
    """Progress note for long work; shown by the CLI, streamed by the API."""
    warn: Callable[[str], None] = lambda line: None
    """A line the user must see (a scene that fell back to local motion), whatever the terminal."""
    job: Any = None
    """The call's long-running provider job (director.backends.Job), for a tool that starts one."""
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("director.tools"))


@dataclass(frozen=True)
class Tool:
    """A registered tool."""

    name: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    fn: Callable[[Any, ToolContext], BaseModel]
    capability: str | None
    """Backend capability that does the work (story/image/voice/motion), or None for local media work."""
    version: str
    """Bumped when the tool's own processing changes, so old memo entries stop matching."""
    needs: Needs | None = None
    apply: Apply | None = None
    estimate: Estimate | None = None
    renders: bool = False
    """Encodes video: the fps/crf/preset settings are part of its memo key."""
    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    clears: frozenset[str] = frozenset()
    """What a call reads, writes and invalidates on the storyboard (STORY_PARTS), within
    its scope(): the runner orders the calls of one batch that touch the same part of
    the same scene (Runner.depends). Two calls that only clear the same part do not wait
    for each other: a scene's image and narration are drawn and spoken at once."""
    whole_board: bool = False
    """The call reaches past its own scene or video (remix reads other scenes' pictures)."""
    gated: bool = False
    """Paid media work that waits at the approval gate (narration, motion, the cut)."""
    patient: bool = False
    """A call that can wait minutes: on a run with --tier flex it goes on the flex service tier, at its price."""
    usual_for: frozenset[str] = frozenset()
    """The goal modes ("story", "trailer") in which this tool is how the storyboard normally gets
    the one part it writes: the cost quote counts a call of it for each scene still missing that
    part (for "story", one per run)."""
    modes: frozenset[str] = frozenset({"story", "trailer"})
    """The goal modes whose runs can use it: the brain is offered only those tools, and only their
    models are checked before a run pays for anything."""

    def scope(self, args: BaseModel) -> tuple[str, int | str] | None:
        """The scene, source video or character a call is confined to; None for the whole storyboard."""
        if self.whole_board:
            return None
        for name in ("scene", "video"):
            value = getattr(args, name, None)
            if isinstance(value, int):
                return name, value
        character = getattr(args, "character", None)
        if isinstance(character, str):
            return "character", character.strip().lower()
        return None

    def declaration(self) -> dict[str, Any]:
        """A Gemini FunctionDeclaration, as JSON, built from the input model."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters_json_schema": self.input.model_json_schema(),
        }

    def resolve(self, args: BaseModel, state: DirectorState) -> dict[str, Any]:
        return self.needs(args, state) if self.needs else {}

    def __call__(self, args: BaseModel, ctx: ToolContext) -> BaseModel:
        out = self.fn(args, ctx)
        if not isinstance(out, self.output):
            raise TypeError(f"tool {self.name} returned {type(out).__name__}, not {self.output.__name__}")
        return out


def tool(
    *,
    capability: str | None,
    version: str = "1",
    needs: Needs | None = None,
    apply: Apply | None = None,
    estimate: Estimate | None = None,
    renders: bool = False,
    reads: tuple[str, ...] = (),
    writes: tuple[str, ...] = (),
    clears: tuple[str, ...] = (),
    whole_board: bool = False,
    gated: bool = False,
    usual_for: tuple[str, ...] = (),
    modes: tuple[str, ...] = ("story", "trailer"),
    patient: bool = False,
) -> Callable[[Callable[..., BaseModel]], Tool]:
    """Declare a tool; checks its shape now rather than when the model calls it."""
    unknown = sorted(set(reads + writes + clears) - STORY_PARTS)
    if unknown:
        raise TypeError(f"unknown storyboard parts {unknown}; use {sorted(STORY_PARTS)}")
    if usual_for and (len(writes) != 1 or not set(usual_for) <= {"story", "trailer"}):
        raise TypeError("usual_for names goal modes (story, trailer) of a tool that writes one part")
    if not modes or not set(modes) <= {"story", "trailer"} or not set(usual_for) <= set(modes):
        raise TypeError("modes names the goal modes (story, trailer) a tool serves, usual_for among them")

    def wrap(fn: Callable[..., BaseModel]) -> Tool:
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {fn.__name__} must take (args, ctx)")
        input_model, output_model = hints.get(params[0]), hints.get("return")
        for label, model in (("input", input_model), ("output", output_model)):
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise TypeError(f"tool {fn.__name__}: {label} must be a pydantic model")
        doc = inspect.getdoc(fn)
        if not doc:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the model's description")
        for model in (input_model, output_model):
            missing = [n for n, f in model.model_fields.items() if not f.description]  # type: ignore[union-attr]
            if missing:
                raise TypeError(f"tool {fn.__name__}: fields without description: {missing}")
        return Tool(
            name=fn.__name__,
            description=doc,
            input=input_model,  # type: ignore[arg-type]
            output=output_model,  # type: ignore[arg-type]
            fn=fn,
            capability=capability,
            version=version,
            needs=needs,
            apply=apply,
            estimate=estimate,
            renders=renders,
            reads=frozenset(reads),
            writes=frozenset(writes),
            clears=frozenset(clears),
            whole_board=whole_board,
            gated=gated,
            usual_for=frozenset(usual_for),
            modes=frozenset(modes),
            patient=patient,
        )

    return wrap


def asset_refs(value: Any) -> list[AssetRef]:
    """Every AssetRef inside a model or JSON-ish value."""
    found: list[AssetRef] = []
    if isinstance(value, AssetRef):
        found.append(value)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            found.extend(asset_refs(getattr(value, name)))
    elif isinstance(value, Mapping):
        for item in value.values():
            found.extend(asset_refs(item))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(asset_refs(item))
    return found


def key_view(value: Any) -> Any:
    """A JSON view of resolved inputs for the memo key: assets by hash only."""
    if isinstance(value, AssetRef):
        return {"sha256": value.sha256}
    if isinstance(value, BaseModel):
        return {n: key_view(getattr(value, n)) for n in type(value).model_fields}
    if isinstance(value, Mapping):
        return {str(k): key_view(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [key_view(v) for v in value]
    return value


def require_board(state: DirectorState) -> Storyboard:
    if state.storyboard is None:
        raise ToolArgumentError("there is no story yet; call write_story first")
    return state.storyboard


def require_scene(state: DirectorState, index: int) -> Scene:
    board = require_board(state)
    try:
        return board.scene(index)
    except KeyError:
        raise ToolArgumentError(
            f"there is no scene {index}; the story has scenes 1..{len(board.scenes)}"
        ) from None


def require_footage(state: DirectorState, index: int) -> Footage:
    board = state.storyboard
    if board is None or not board.footage:
        raise ToolArgumentError("this run has no source videos; trailer tools need --source")
    try:
        return board.video(index)
    except KeyError:
        raise ToolArgumentError(f"there is no source video {index}; sources are 1..{len(board.footage)}") from None


def read_json(ctx: ToolContext, ref: AssetRef) -> Any:
    """A JSON document from the asset store."""
    import json

    return json.loads(ctx.store.path(ref).read_text(encoding="utf-8"))
