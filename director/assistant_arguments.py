"""The MCP tools' arguments: their models (make's typed from the options' one declaration, director.options), how
the SDK hands them to a tool as sent, and how a bad one is refused in one line."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from director.options import (
    MAX_BUDGET_USD,
    MAX_TEXT_CHARS,
    RUN_ID_PATTERN,
    MakeOptions,
    http_fields,
    refusal_of,
    shown,
)

MAX_WAIT_S = 600.0


UNSENT = object()
"""An argument the client left out (a resolver reads every argument by name, so each has a value)."""


def as_sent(model: type[BaseModel]) -> type[ArgModelBase]:
    """The SDK's argument model for a tool: the arguments passed through as sent, each left out one marked
    UNSENT. The tool checks them with its own model, refusing in one line (unknown names too), while tools/list
    shows that model's schema."""
    names = tuple(model.model_fields)

    class AsSent(ArgModelBase):
        model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

        def model_dump_one_level(self) -> dict[str, Any]:
            return {**dict.fromkeys(names, UNSENT), **(self.__pydantic_extra__ or {})}

    return AsSent


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


RunId = Annotated[str, Field(pattern="^" + RUN_ID_PATTERN + "$", max_length=64, description="The run's id.")]


def make_arguments(*, uploads: bool) -> type[BaseModel]:
    """make's arguments: the goal, every make option from its one declaration, and how long to follow the run."""
    return create_model(  # type: ignore[no-any-return, call-overload]
        "MakeArguments", __base__=Strict,
        goal=(str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="What the video should be.")),
        **http_fields("mcp", uploads=uploads),
        wait_seconds=(float, Field(0.0, ge=0, le=MAX_WAIT_S, description=(
            "Follow the run this long (at most 600 s), with progress notifications, before returning; 0 (the "
            "default) returns the run id at once."))))


class RunArguments(Strict):
    run_id: RunId


class WaitArguments(Strict):
    run_id: RunId
    wait_seconds: float = Field(300.0, ge=0, le=MAX_WAIT_S, description=(
        "Return after this long (at most 600 s) if the run is still working; call wait again to go on following it."))


class ApproveArguments(Strict):
    run_id: RunId
    answer: str = Field("yes", min_length=1, max_length=MAX_TEXT_CHARS, description=(
        '"yes" approves the quoted paid steps, "no" cancels them, anything else is a change to make first.'))
    quote_usd: float | None = Field(None, ge=0, description=(
        "The quote you showed the user (the run's pending.quote_usd): needed to approve when the client cannot ask "
        "the user itself."))


class ReviseArguments(Strict):
    run_id: RunId
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description=(
        'The change, in words: "make scene 2 at night", "now 9:16", "give Pip a deeper voice".'))


class ResumeArguments(Strict):
    run_id: RunId
    budget: float | None = Field(None, ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False, description=(
        "A new budget for the run in USD; never past the user's cap for assistants."))
    retry_unsure: bool = Field(False, description="Start again the paid clips whose start was sent but never answered.")


class ForkArguments(Strict):
    run_id: RunId
    checkpoint: str = Field(min_length=1, max_length=200, description="The checkpoint to branch from (see history).")
    say: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="The change the new run makes.")
    new_run_id: RunId | None = Field(None, description="The new run's id (default: made from the old one's).")


class ReplayArguments(Strict):
    run_id: RunId
    checkpoint: str | None = Field(None, max_length=200, description="The checkpoint to go from (default: the start).")


class ExportArguments(Strict):
    run_id: RunId
    format: Literal["otio", "fcpxml", "edl"] = Field("otio", description="The timeline's format.")


class NoArguments(Strict):
    pass


def one_line(exc: ValidationError, model: type[BaseModel]) -> str:
    """A tool's bad arguments in one line: a make option as every face words it, the rest by name."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        return f"unknown argument {shown(name)}: the arguments are {', '.join(model.model_fields) or 'none'}"
    if error["type"] == "missing":
        return f"{name} is missing"
    if name in MakeOptions.model_fields:
        return refusal_of(error, "mcp")
    if name == "new_run_id":  # a run id, named as every face names one
        return refusal_of({**error, "loc": ("run_id",)}, "mcp")
    return f"{name}: {error['msg']} (got {shown(error.get('input'))})"
