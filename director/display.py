"""What the terminal shows: text made safe to print, a line per tool call as a run goes, a run's summary, and a
batch's one display. The CLI prints through these; nothing here runs anything."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.markup import escape

_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: object) -> str:
    """Text from goals, models or file names made safe for a terminal: escape sequences and
    control characters removed, line breaks and tabs turned into spaces."""
    text = _ESCAPES.sub("", str(text))
    return _CONTROLS.sub("", text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def safe(text: object) -> str:
    """plain(), then escaped for rich markup: what is printed is exactly the words."""
    return escape(plain(text))


class Progress:
    """Prints one line per tool call as it finishes, plus the brain's plan."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        c = self.console
        if kind == "run_started":
            scenes = (f"up to {event['scenes']} scenes" if event.get("mode") == "trailer"
                      else f"{event['scenes']} scenes")  # a trailer's plan picks among the shots found
            c.print(f"run [bold]{safe(event['run_id'])}[/] · backend [bold]{event['backend']}[/] "
                    f"({safe(event['reason'])}) · {scenes} · {event['aspect']}")
            c.print(f"workspace {safe(event['workspace'])}", style="dim")
            for note in event.get("notes") or []:
                c.print(f"  {safe(note)}", style="dim")
            quote = event.get("quote")
            if quote is not None:
                parts = ", ".join(f"{tool} ${usd:.2f}" for tool, usd in quote["by_tool"].items() if usd >= 0.005)
                cap = (f"cap ${event['budget_usd']:.2f} (DIRECTOR_DEFAULT_BUDGET_USD; --budget to choose)"
                       if event.get("default_cap") else f"budget ${event['budget_usd']:.2f}"
                       if event.get("budget_usd") is not None else "no budget")
                flex = (f" on the flex tier (${quote['standard_usd']:.2f} on standard)"
                        if quote.get("tier") == "flex" else "")
                c.print(f"quote: about ${quote['usd']:.2f}{flex} for {event['scenes']} scenes"
                        f"{' (' + parts + ')' if parts else ''}, before brain turns; {cap}")
            elif event.get("budget_usd") is not None:
                c.print(f"  budget ${event['budget_usd']:.2f}", style="dim")
        elif kind == "warning":
            c.print(f"[yellow]warning:[/] {safe(event['message'])}")
        elif self.quiet:
            return
        elif kind == "brain" and event.get("say"):
            c.print(f"[bold]●[/] {safe(event['say'])}")
        elif kind == "brain" and event.get("give_up"):
            c.print(f"[red]●[/] {safe(event['give_up'])}")
        elif kind == "tool_finished":
            cost = f" ${event['cost_usd']:.3f}" if event.get("cost_usd") else ""
            c.print(f"  [green]✓[/] {safe(event['label'])} [dim]{event['ms'] / 1000:.1f} s{cost}[/]")
        elif kind == "tool_retry":
            c.print(f"  [yellow]↻[/] {safe(event['label'])}: attempt {event['attempt']}/{event['of']} failed "
                    f"({safe(event['error'])}); retrying in {event['wait_s']:.1f} s")
        elif kind == "tool_reused":
            c.print(f"  [cyan]↺[/] {safe(event['label'])} [dim]reused from memo[/]")
        elif kind == "tool_failed":
            c.print(f"  [red]✗[/] {safe(event['label'])}: {safe(str(event.get('error')))}")
        elif kind == "tool_started" and c.is_terminal:
            c.print(f"  [dim]… {safe(event['label'])}[/]")
        elif kind == "tool_progress" and c.is_terminal:
            c.print(f"    [dim]{safe(event['label'])}: {safe(event['note'])}[/]")


def summary_line(run: Any) -> str:
    total = run.executed + run.reused + run.failed
    cost = f"; spent ${run.cost_usd:.3f}" if run.cost_usd else ""
    if total and run.executed == 0 and run.failed == 0:
        return f"{total} tool calls, all reused from memo: nothing was executed{cost}"
    return f"{total} tool calls: {run.executed} executed, {run.reused} reused from memo, {run.failed} failed{cost}"


class BatchProgress:
    """One display for a batch: a bar over its rows, a line per row in flight, and a line as each ends."""

    def __init__(self, console: Console, rows: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=console, transient=True)
        self.total = self.progress.add_task("batch", total=rows)
        self.rows: dict[int, Any] = {}

    def __enter__(self) -> BatchProgress:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, event: dict[str, Any]) -> None:
        kind, line = event.get("type"), int(event.get("line") or 0)
        console = self.progress.console
        if kind == "row_started":
            self.rows[line] = self.progress.add_task(f"  line {line} · {safe(event['run_id'])}", total=None)
            console.print(f"  [dim]…[/] line {line} {'resumed' if event.get('resumed') else 'started'}: "
                          f"{safe(event['run_id'])}")
        elif kind == "row_progress" and line in self.rows:
            inner = event["event"]
            self.progress.update(self.rows[line], description=f"  line {line} · "
                                 f"{safe(inner.get('label') or inner.get('message') or inner.get('type'))}")
        elif kind == "row_finished":
            task = self.rows.pop(line, None)
            if task is not None:
                self.progress.remove_task(task)
            self.progress.advance(self.total)
            mark = "[green]✓[/]" if event["status"] == "done" else "[yellow]●[/]"
            cost = f" ${event['cost_usd']:.3f}" if event.get("cost_usd") else ""
            why = f": {safe(event['error'])}" if event.get("error") else ""
            console.print(f"  {mark} line {line} {safe(event['run_id'])} {event['status']}"
                          f"{' (kept)' if event.get('kept') else ''}{cost}{why}")
