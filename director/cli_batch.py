"""`director batch`: many videos from the rows of a file, within one budget, and the summary table at its end.
director.cli registers the command (so this module never imports the CLI back)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from director.cli_shared import BackendOpt, BudgetOpt, WorkspaceOpt, _director, err, out
from director.display import BatchProgress, safe
from director.errors import InputError, Interrupted


def batch(
    file: Annotated[Path | None, typer.Argument(metavar="[FILE]", help="JSON Lines or CSV: a goal and its options per "
                                                                         "row (the options of make, by name).")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=8, metavar="N",
                                             help="Runs at once, 1-8.")] = 2,
    budget: BudgetOpt = None,
    resume: Annotated[str | None, typer.Option("--resume", metavar="BATCH", help="Finish a batch a crash, Ctrl-C or "
                                                                             "its budget stopped.")] = None,
    batch_id: Annotated[str | None, typer.Option("--batch-id", metavar="ID", help="Name for the batch (default: "
                                                                                  "time-based).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Check the rows and stop: nothing runs.")] = False,
    listing: Annotated[bool, typer.Option("--list", help="The workspace's batches.")] = False,
    workspace: WorkspaceOpt = None,
    backend: BackendOpt = "auto",
) -> None:
    """Make many videos, one per row of FILE, at most --concurrency at once and all within one --budget; a summary
    table at the end, also saved as summary.csv and summary.json. Bad rows are named with their line numbers
    before anything runs, and left out."""
    from director.batches import Batches, read_rows

    director = _director(workspace, backend)
    batches = Batches(director)
    if listing:
        found = batches.all()
        for known in found:
            out.print(f"{known.id}\t{known.created}\t{len(known.good)} rows\t{safe(known.source)}")
        if not found:
            err.print("no batches in this workspace")
        return
    if resume:
        if file is not None or check:
            raise InputError("--resume goes on with a batch already made: give it without a FILE or --check")
        planned = batches.load(resume)
        err.print(f"batch [bold]{planned.id}[/]: going on with {rows(len(planned.good))}")
    elif file is None:
        raise InputError("give a batch file (JSON Lines or CSV), or --resume BATCH")
    else:
        raw, typed = read_rows(file)
        planned = batches.plan(raw, source=file.name, concurrency=concurrency, budget=budget, batch_id=batch_id,
                               strict=typed, dry=check)
        for row in planned.bad:
            err.print(f"[red]line {row.line}:[/] {safe(row.error)}{'' if check else ' (left out)'}")
        if check:  # the same checks as a real batch, and nothing saved
            err.print(f"{len(planned.good)} of {rows(len(planned.rows))} can run")
            raise typer.Exit(1 if planned.bad else 0)
        cap = f", budget ${planned.budget_usd:.2f} in all" if planned.budget_usd is not None else ""
        err.print(f"batch [bold]{planned.id}[/]: {len(planned.good)} of {rows(len(planned.rows))}, "
                  f"{planned.concurrency} at once{cap}")
    view = BatchProgress(err, len(planned.good))
    try:
        with view:
            summary = batches.run(planned, on_event=view, budget=budget if resume else None)
    except KeyboardInterrupt:
        out.print(batch_table(batches.summary(planned)))
        raise Interrupted(f"interrupted: director batch --resume {planned.id}") from None
    out.print(batch_table(summary))
    folder = batches.folder(planned.id)
    err.print(f"summary {safe(str(folder / 'summary.csv'))} and summary.json")
    paused = [r for r in summary if r["status"] == "paused"]
    for waiting in paused:
        err.print(f"line {waiting['line']} waits for your approval: director resume {safe(waiting['run_id'])} "
                  f"--approve yes")
    refused = [r for r in summary if r["status"] == "refused"]
    unfinished = [r for r in summary if r["status"] not in ("done", "paused", "refused")]
    if unfinished:
        err.print(f"{len(unfinished)} of {rows(len(summary))} did not finish: director batch --resume {planned.id}")
    if refused:
        err.print(f"{rows(len(refused))} refused: fix {'it' if len(refused) == 1 else 'them'} in a new batch")
    if unfinished or refused or paused:
        raise typer.Exit(1)


def rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"


def batch_table(summary: list[dict[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("line", "run", "status", "length", "cost", "final"):
        table.add_column(column, overflow="fold")
    for line in summary:
        table.add_row(str(line["line"]), safe(line["run_id"] or "-"), safe(line["status"]),
                      f"{line['seconds']:.1f} s" if line["seconds"] else "-", f"${line['cost_usd']:.3f}",
                      safe(line["final"] or line["error"] or "-"))
    return table
