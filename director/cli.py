"""The `director` command: a thin typer + rich layer over director.api.

Progress goes to stderr; stdout carries results (for `make`, the last line is
the absolute path of final.mp4). A DirectorError prints one line and exits
non-zero; anything else is a bug and prints a traceback.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import Abort

from director.cli_batch import batch
from director.cli_shared import (
    BudgetOpt,
    ExecutorOpt,
    FallbackOpt,
    NewRunOpt,
    QuietOpt,
    WaitOpt,
    WorkspaceOpt,
    _Command,
    _director,
    _Group,
    err,
    out,
)
from director.cli_tables import history, models, runs
from director.display import Progress, safe, summary_line
from director.errors import DirectorError, InputError, Interrupted
from director.options import MakeOptions, cli_params

try:  # newer typer ships its own copy of click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - typer on real click
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[no-redef, assignment]


app = typer.Typer(
    name="director",
    cls=_Group,
    help="Turn a goal into a finished, narrated, subtitled video.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(asked: bool) -> None:
    if asked:
        from director.version import __version__

        out.print(f"director {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print Director's version and exit.")] = False,
) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    from director.secrets import ScrubFilter

    for handler in logging.getLogger().handlers:
        handler.addFilter(ScrubFilter())


def _given(options: dict[str, Any]) -> dict[str, Any]:
    """The options the user typed: typer hands over every declared default too, and a face passes on only what
    was chosen (so a trailer-only default never reads as a trailer option on a story)."""
    return {k: v for k, v in options.items() if v != MakeOptions.model_fields[k].default}


def _make(goal: str, *, workspace: Path | None = None, quiet: bool = False, executor: str | None = None,
          fallback: str | None = None, new_run: bool = False, **options: Any) -> None:
    """Make a video from a goal (a story), or from source videos (a trailer). The last line printed is the path of final.mp4."""
    from director import rerun
    from director.config import load_settings

    given = _given(options)
    settings = load_settings(**{k: v for k, v in (("fallback", fallback), ("executor", executor)) if v is not None})
    root = (workspace or settings.home).expanduser().resolve()
    key = rerun.request_key(goal, given, process={"executor": executor, "fallback": fallback}, settings=settings)
    done = None if new_run else rerun.lookup(root, key)
    if done is not None:  # this very request has finished before, and its outputs are unchanged
        if done["said"]:
            err.print(f"[bold]●[/] {safe(done['said'])}")
        err.print(f"the same request as run {safe(done['run_id'])}, whose outputs are unchanged: nothing was "
                  f"executed (--new-run makes a new run, from the memo)")
        storyboard = done["outputs"].get("storyboard.html")
        if storyboard:
            err.print(f"storyboard {safe(storyboard[0])}", style="dim")
        out.print(safe(done["outputs"]["final.mp4"][0]))
        return
    director = _director(workspace, options.get("backend") or "auto", fallback=fallback, executor=executor)
    run = director.submit(goal, face="cli", on_event=Progress(err, quiet=quiet), **given)
    try:
        rerun.record(director.workspace.root, key, run)
    except OSError as exc:  # the record only saves a later rerun's time: a finished run is not failed for it
        err.print(f"warning: could not record this request for a rerun ({safe(str(exc))})")
    _finish(run)


def _signed(function: Any, params: list[inspect.Parameter]) -> Any:
    """function, with params as the signature typer reads (the options come from director.options)."""
    function.__signature__ = inspect.Signature(params)
    return function


_P = inspect.Parameter


def make_params() -> list[inspect.Parameter]:
    """`director make`'s parameters: the goal, every option of director.options, and the CLI's own (where
    the workspace is, how much to print, where tool calls run, and the fallback: the process's settings)."""
    return [
        _P("goal", _P.POSITIONAL_OR_KEYWORD, annotation=Annotated[str, typer.Argument(
            metavar="GOAL", help="What the video should be, e.g. 'a 5-scene bedtime story about a cat and a dog'.")]),
        *cli_params(),
        _P("workspace", _P.KEYWORD_ONLY, default=None, annotation=WorkspaceOpt),
        _P("quiet", _P.KEYWORD_ONLY, default=False, annotation=QuietOpt),
        _P("executor", _P.KEYWORD_ONLY, default=None, annotation=ExecutorOpt),
        _P("fallback", _P.KEYWORD_ONLY, default=None, annotation=FallbackOpt),
        _P("new_run", _P.KEYWORD_ONLY, default=False, annotation=NewRunOpt),
    ]


CLI_ONLY = ("workspace", "quiet", "executor", "fallback", "new_run")
"""The make parameters that are the process's, not the run's: the HTTP server and a Director have their own."""
make = app.command(cls=_Command, name="make")(_signed(_make, make_params()))


@app.command(cls=_Command)
def resume(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id (see `director runs`).")],
    workspace: WorkspaceOpt = None,
    budget: BudgetOpt = None,
    fallback: FallbackOpt = None,
    approve: Annotated[str | None, typer.Option("--approve", metavar="ANSWER", help="Answer the approval gate: yes, no, or a change in words.")] = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = False,
    retry_unsure: Annotated[bool, typer.Option("--retry-unsure", help="Start again the paid clips whose start was "
                                                                     "sent but never answered (they may be "
                                                                     "running and billed: this may pay twice).")] = False,
) -> None:
    """Finish a stopped run: after a crash, a budget stop, failed scenes, or the approval gate. Done work is reused."""
    director = _director(workspace, fallback=fallback)
    result = director.resume(run, budget=budget, approve=approve, on_event=Progress(err, quiet=quiet), wait=wait,
                             retry_unsure=retry_unsure)
    _finish(result)


@app.command(cls=_Command)
def say(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id (see `director runs`).")],
    message: Annotated[str, typer.Argument(metavar="MESSAGE", help="What to change, e.g. 'make scene 2 at night'.")],
    workspace: WorkspaceOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Revise a finished run; only what the change touches is made again."""
    result = _director(workspace).say(run, message, on_event=Progress(err, quiet=quiet), wait=wait)
    _finish(result)


@app.command(cls=_Command)
def replay(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id.")],
    from_: Annotated[str | None, typer.Option("--from", metavar="CHECKPOINT", help="Checkpoint id (default: the first step).")] = None,
    workspace: WorkspaceOpt = None,
    quiet: QuietOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Run again from a checkpoint; prints how many calls were executed and how many reused."""
    result = _director(workspace).replay(run, from_, on_event=Progress(err, quiet=quiet), wait=wait)
    _finish(result)


@app.command(cls=_Command)
def fork(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id to fork.")],
    from_: Annotated[str, typer.Option("--from", metavar="CHECKPOINT", help="Checkpoint id to start from (see `director history`).")],
    say_: Annotated[str | None, typer.Option("--say", metavar="CHANGE", help="The change to make in the fork.")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id", metavar="ID", help="Name of the new run.")] = None,
    workspace: WorkspaceOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """A new run whose history starts at a checkpoint of RUN, with a change. Assets are shared, not copied."""
    result = _director(workspace).fork(run, from_, say=say_, new_run_id=run_id, on_event=Progress(err, quiet=quiet))
    _finish(result)


def _chat(
    *,
    run: str | None = None,
    workspace: Path | None = None,
    approve: bool = True,
    fallback: str | None = None,
    **options: Any,
) -> None:
    """Talk to Director: a goal, then changes ('make scene 2 at night', 'now 9:16'). Reads lines from stdin."""
    given = _given(options)
    director = _director(workspace, options.get("backend") or "auto", fallback=fallback)
    interactive = sys.stdin.isatty()
    progress = Progress(err)
    current: Any = None
    if run is not None:
        director.runs_row(run)  # an unknown run id is an error before the conversation starts
    out.print(f"director: {'talking about run ' + run if run else 'what video shall we make?'} "
              "(yes/no at the approval gate; Ctrl-D to quit)")
    run_id = run
    while True:
        if interactive:
            out.print("you> ", end="")
        line = sys.stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("quit", "exit", "bye"):
            break
        try:
            if run_id is None:
                current = director.submit(text, approve=approve, face="cli", on_event=progress, **given)
                run_id = current.id
            elif current is not None and current.status == "paused":
                current = director.resume(run_id, approve=text, on_event=progress)
            else:
                current = director.say(run_id, text, on_event=progress)
        except DirectorError as exc:
            out.print(f"director: {safe(str(exc))}")
            continue
        _reply(current)
    if current is not None:
        err.print(summary_line(current))


chat = app.command(cls=_Command, name="chat")(_signed(_chat, [
    _P("run", _P.KEYWORD_ONLY, default=None, annotation=Annotated[str | None, typer.Option(
        "--run", metavar="RUN", help="Continue this run (default: the first line is a goal).")]),
    _P("workspace", _P.KEYWORD_ONLY, default=None, annotation=WorkspaceOpt),
    *cli_params(("backend", "aspect", "scenes", "seed", "voice", "motion", "music", "dialogue", "budget")),
    _P("approve", _P.KEYWORD_ONLY, default=True, annotation=Annotated[bool, typer.Option(
        "--approve/--no-approve", help="Stop for approval before paid steps.")]),
    _P("fallback", _P.KEYWORD_ONLY, default=None, annotation=FallbackOpt),
]))


def _reply(run: Any) -> None:
    if run.status == "paused" and run.interrupt:
        q = run.interrupt
        steps = ", ".join(f"{n} x {tool}" for tool, n in (q.get("steps") or {}).items()) or "nothing"
        out.print(f"director: the storyboard is ready: {safe(q.get('storyboard'))}. The remaining paid steps ({steps}) "
                  f"will cost about ${q.get('quote_usd', 0):.2f}. Go ahead? (yes / no / a change)")
    elif run.status == "done":
        out.print(f"director: done ({run.executed} calls made, {run.reused} reused): {safe(run.final)}")
    else:
        out.print(f"director: the run stopped ({run.status}): {safe(run.error or '')}")


def _finish(run: Any) -> None:
    err.print(summary_line(run))
    if run.status == "paused":
        q = run.interrupt or {}
        if q.get("cap_usd") is not None:
            err.print(f"paused before spending: the remaining paid steps will cost about ${q.get('quote_usd', 0):.2f}, "
                      f"past the ${q['cap_usd']:.2f} cap (DIRECTOR_DEFAULT_BUDGET_USD); see the storyboard, then: "
                      f"director resume {safe(run.id)} --approve yes|no, or --budget USD")
        else:
            err.print(f"paused for approval: the remaining paid steps will cost about ${q.get('quote_usd', 0):.2f}; "
                      f"see the storyboard, then: director resume {safe(run.id)} --approve yes|no")
        out.print(safe(q.get("storyboard") or run.run_dir))
        return
    if run.status == "cancelled":
        err.print(f"run {safe(run.id)} was cancelled; everything made so far is kept")
        raise typer.Exit(1)
    if run.status != "done" or run.final is None:
        err.print(f"[red]run {safe(run.id)} failed:[/] {safe(run.error or 'no final video')}")
        err.print(f"what was made is kept; retry the rest with: director resume {safe(run.id)}")
        raise typer.Exit(1)
    err.print(f"storyboard {safe(str(run.outputs.get('storyboard.html', '')))}", style="dim")
    out.print(safe(run.final))


# The listings (director/cli_tables.py), registered here, in the order of the help.
app.command(cls=_Command)(runs)
app.command(cls=_Command)(models)
app.command(cls=_Command)(history)


@app.command(cls=_Command)
def export(
    run: Annotated[str, typer.Argument(metavar="RUN", help="Run id (see `director runs`).")],
    fmt: Annotated[str, typer.Option("--format", metavar="otio|fcpxml|edl", help="Timeline format.")] = "otio",
    out_path: Annotated[Path | None, typer.Option("--out", metavar="PATH", help="Where to write it (default: runs/RUN/timeline.EXT).")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Write a run's final cut as an editorial timeline for an NLE (OpenTimelineIO, FCP X XML or a CMX 3600 EDL)."""
    path = _director(workspace).export(run, fmt, out_path)
    out.print(safe(str(path)))


@app.command(cls=_Command)
def doctor(
    workspace: WorkspaceOpt = None,
    repair: Annotated[bool, typer.Option("--repair", help="Remove damaged assets (they are made again when "
                                                           "needed), mark dead runs interrupted, delete stale temp files.")] = False,
) -> None:
    """Check the workspace: the database's integrity, every asset's hash, runs left running. One line per problem."""
    from director.doctor import examine

    report = examine(_director(workspace).workspace, repair=repair)
    for line in report.problems:
        mark = "[green]repaired[/]" if line in report.repaired else "[red]problem[/]"
        out.print(f"{mark} {safe(line)}")
    err.print(f"{report.checked_assets} assets checked; {len(report.problems)} problem(s)"
              + (f", {len(report.repaired)} repaired" if report.repaired else "")
              + ("" if report.ok or repair else "; director doctor --repair mends what it can"))
    if not report.ok:
        raise typer.Exit(1)


@app.command(cls=_Command)
def serve(
    host: Annotated[str, typer.Option("--host", metavar="ADDR", help="Address to bind; past loopback it needs DIRECTOR_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    workspace: WorkspaceOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, metavar="N", help="Runs that work at once; more wait their turn.")] = 2,
    executor: ExecutorOpt = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", metavar="NAME", help="Another name the server answers to (a reverse proxy's), besides "
                                               "loopback's and the address it binds; repeat for several.")] = None,
) -> None:
    """Serve the HTTP API under /api and the web studio at / (Ctrl-C stops it; runs in flight resume later)."""
    from director.config import load_settings
    from director.server import check_bind
    from director.server import serve as run_server

    settings = load_settings(**({"executor": executor} if executor else {}))
    token = settings.token.get_secret_value() if settings.token else None
    check_bind(host, token)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"Director studio on http://{safe(shown)}:{port}/ · workspace {safe(str(workspace or settings.home))}"
              + (" · token required" if token else ""))
    stopped = run_server(host=host, port=port, workspace=workspace, workers=workers, token=token,
                         allowed_hosts=tuple(allowed_host or ()), **({"executor": executor} if executor else {}))
    err.print("stopped" + (f"; interrupted, to resume: {', '.join(stopped)} (director resume ID, or Resume in the studio)"
                           if stopped else ""))
    if stopped:  # they are marked and their encodes stopped: leave now, not when their steps would have ended
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


app.command(cls=_Command)(batch)  # director/cli_batch.py; registered here, in the order of the help


@app.command(cls=_Command)
def mcp(workspace: WorkspaceOpt = None, executor: ExecutorOpt = None) -> None:
    """Serve assistants over MCP on stdio (an assistant launches `director mcp`); see the README's configs.

    A paid run stops at the approval gate with its quote unless DIRECTOR_MCP_BUDGET_USD (or [mcp] budget_usd in
    config.toml) gives assistants a cap."""
    from director.assistants import stdio

    logging.getLogger().handlers.clear()  # stdout is the protocol's: nothing else may be written there
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    stdio(workspace, **({"executor": executor} if executor else {}))


@app.command()
def worker(
    address: Annotated[str | None, typer.Option("--address", metavar="HOST:PORT",
                                                help="The Ray cluster's head (default: DIRECTOR_RAY_ADDRESS).")] = None,
    cpus: Annotated[int | None, typer.Option("--cpus", min=1, max=512, metavar="N",
                                             help="Cores this machine gives to tool calls (default: all).")] = None,
) -> None:
    """Join a Ray cluster as a worker node and run tool calls until stopped (Ray's own `ray start --block`).

    The tool calls it runs read this machine's environment: its provider keys, DIRECTOR_DATABASE_URL
    and DIRECTOR_ASSETS_URL, which must be the servers' (see README, "Running on a cluster")."""
    import shutil

    from director.config import load_settings

    settings = load_settings()
    address = address or settings.ray_address
    if not address or address == "auto":
        raise InputError("director worker needs the cluster's head: --address HOST:PORT or DIRECTOR_RAY_ADDRESS")
    ray = shutil.which("ray", path=str(Path(sys.executable).parent)) or shutil.which("ray")
    if ray is None:
        raise InputError("director worker needs the cluster extra: pip install 'director-video[cluster]'")
    if settings.database_url is None:
        err.print("note: DIRECTOR_DATABASE_URL is unset, so this worker's calls go to the workspace's SQLite file; "
                  "that is only right when every node shares this machine's disk")
    argv = [ray, "start", f"--address={address}", "--block", "--disable-usage-stats"]
    if cpus:
        argv.append(f"--num-cpus={cpus}")
    err.print(f"joining the Ray cluster at {safe(address)} as a worker; Ctrl-C leaves it")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(ray, argv)


def _workspace_of(argv: list[str] | None) -> Path:
    """The workspace a command line names (for an error raised before Director had it)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for flag in ("--workspace", "-w"):
        if flag in args[:-1]:
            return Path(args[args.index(flag) + 1])
    from director.config import load_settings

    return load_settings().home


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # the same way out as Ctrl-C: checkpoint kept, run marked interrupted


def main(argv: list[str] | None = None) -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code = app(args=argv, prog_name="director", standalone_mode=False)
    except NoArgsIsHelpError:
        sys.exit(2)  # typer has already printed the help
    except UsageError as exc:
        where = f" ({exc.ctx.command_path})" if exc.ctx else ""
        err.print(f"error{where}: {safe(exc.format_message())}")
        sys.exit(2)
    except (Abort, KeyboardInterrupt):
        err.print("interrupted")
        sys.exit(130)
    except Interrupted as exc:  # a run was going: it is saved, and the line says how to go on
        err.print(safe(str(exc)))
        if argv is None:  # the real command: leave at once, without waiting for tool threads to drain
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(exc.exit_code)
        sys.exit(exc.exit_code)
    except DirectorError as exc:
        err.print(f"error: {safe(str(exc))}")
        sys.exit(exc.exit_code)
    except _storage_errors() as exc:
        # Storage trouble outside a run (creating one on a full disk, a broken database): one line.
        from director.config import load_settings
        from director.store import Workspace, disk_full, storage_error

        if isinstance(exc, OSError) and not disk_full(exc) and not isinstance(exc, PermissionError):
            raise
        try:
            space = Workspace.from_settings(_workspace_of(argv), load_settings())
        except DirectorError:
            space = Workspace(_workspace_of(argv))
        err.print(f"error: {safe(str(storage_error(exc, space)))}")
        sys.exit(1)
    if code == 130:
        err.print("interrupted")  # typer turns Ctrl-C outside a run into exit 130 without a word
    sys.exit(code if isinstance(code, int) else 0)


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What storage trouble raises (evaluated only when an exception reaches main's handlers)."""
    from director.store import DATABASE_ERRORS

    return (OSError, *DATABASE_ERRORS)


if __name__ == "__main__":
    main()
