"""The CLI's read-only listings, as tables (or JSON with --json): the runs, the models each role uses, a run's
history. director.cli registers the commands (so this module never imports the CLI back)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from director.cli_shared import BackendOpt, JsonOpt, WorkspaceOpt, _director, err, out
from director.display import safe
from director.errors import InputError


def runs(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List the runs in a workspace, newest first."""
    rows = _director(workspace).runs()
    if as_json:
        out.print(json.dumps(rows, indent=2))
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("id", "status", "created", "cost", "goal", "parent", "final"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(safe(r["id"]), r["status"], r["created"].replace("T", " ")[:19], f"${r['cost_usd']:.3f}",
                      safe(r["goal"]), safe(r["parent"] or ""), safe(r["final"] or ""))
    out.print(table)


def models(
    check: Annotated[bool, typer.Option("--check", help="Ask Google, with your key or project, which of these "
                                                       "models it serves you (free: models.get).")] = False,
    backend: BackendOpt = "auto",
    as_json: JsonOpt = False,
) -> None:
    """List the model each role uses: its status, shutdown date and prices, from Director's model catalog."""
    from director.config import load_settings
    from director.models import catalog, lineup

    settings = load_settings()
    rows = lineup(settings)
    if check:
        from director.backends import choose_family
        from director.preflight import survey

        family, _ = choose_family(settings, backend)
        if family not in ("gemini", "vertex"):
            raise InputError("director models --check asks Google: set GEMINI_API_KEY (or a Vertex project) first")
        answers = survey(settings, family)
        for row in rows:
            row["check"] = answers.get(row["model"], "")
    if as_json:
        out.print(json.dumps(rows, indent=2))
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("role", "model", "status", "shutdown", "price today", *(("google says",) if check else ())):
        table.add_column(col, overflow="fold")
    for r in rows:
        status = r["status"] + ("" if r["default"] else " (set by " + r["setting"] + ")")
        if r["replacement"] and r["status"] in ("deprecated", "shut down"):
            status += f"; use {r['replacement']}"
        price = "\n".join(safe(line) for line in (r["price"], *r["upcoming"]))
        table.add_row(r["role"], safe(r["model"]), safe(status), r["shutdown"] or "-", price,
                      *((safe(r.get("check", "")),) if check else ()))
    out.print(table)
    err.print(f"prices in USD as Google bills them (per 1M tokens, image, second or track); catalog read "
              f"{catalog().read:%Y-%m-%d}, sources in director/models.toml; override a price in "
              f"$DIRECTOR_HOME/config.toml [prices.\"MODEL\"]")


def history(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id (see `director runs`).")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a run's checkpoints, newest first: id, step, node and what changed."""
    rows = _director(workspace).history(run)
    if as_json:
        out.print(json.dumps(rows, indent=2, default=str))
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("checkpoint", "step", "node", "change"):
        table.add_column(col, overflow="fold")
    for r in rows:
        change = r["change"] + (f"  [forked as {', '.join(r['forks'])}]" if r.get("forks") else "")
        table.add_row(r["checkpoint"] or "", "" if r["step"] is None else str(r["step"]), r["node"], safe(change))
    out.print(table)
