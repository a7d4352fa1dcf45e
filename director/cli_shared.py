"""What the CLI's commands share: help that reads well (typer's classes, adjusted), the two consoles (results on
stdout, progress on stderr), the options several commands take, and the Director a command opens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup

from director.options import cli_option


class _Argument(TyperArgument):
    """An argument as a man page shows it: GOAL in the usage line, no <type> beside its name."""

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        return name if self.required else f"[{name}]"

    def _rich_display_name(self) -> str:
        return self.metavar or (self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _readable(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperArgument) and not isinstance(param, _Argument):
            param.__class__ = _Argument
        elif (getattr(param, "is_flag", False) or getattr(param, "count", False)) and param.metavar is None:
            param.metavar = ""  # a flag takes no value
    return params


class _Command(TyperCommand):
    """Help that reads well: arguments in capitals, flags without a <bool> value, choices listed."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _readable(super().get_params(ctx))


def _choices(values: Any) -> str:
    return "[" + "|".join(values) + "]"


# Piped output keeps whole lines instead of wrapping tables at 80 columns.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", metavar="DIR", help="Workspace folder (default: $DIRECTOR_HOME, else ~/.director)."),
]
ExecutorOpt = Annotated[
    str | None,
    typer.Option("--executor", metavar=_choices(("local", "ray")),
                 help="Where tool calls run: this process, or a Ray cluster (DIRECTOR_RAY_ADDRESS, else this "
                      "machine's).", show_default=False),
]
WaitOpt = Annotated[bool, typer.Option("--wait", help="If another command is working on the run, wait for it "
                                                     "instead of stopping.")]
if TYPE_CHECKING:  # what the values are; typer reads the declared options' Annotated forms
    BudgetOpt = float | None
    BackendOpt = str
else:
    BudgetOpt = cli_option("budget")
    BackendOpt = cli_option("backend")
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary and the path.")]
NewRunOpt = Annotated[bool, typer.Option("--new-run", help="Make a new run even if this very request has finished "
                                                         "before (its calls still come from the memo).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
FallbackOpt = Annotated[
    str | None, typer.Option("--fallback", metavar=_choices(("none", "local")),
                                help="local: a local provider wherever a family default needs Vertex and Vertex "
                                     "is not set up (Ken Burns motion for Veo).")
]


def _director(workspace: Path | None, backend: str = "auto", **overrides: Any) -> Any:
    from director.api import Director

    return Director(workspace=workspace, backend=backend, **{k: v for k, v in overrides.items() if v is not None})
