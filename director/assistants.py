"""The MCP face: Director as a tool for assistants (Claude, Gemini CLI, Cursor and others), through the Model
Context Protocol and its official Python SDK (mcp 2.x's MCPServer).

    director mcp          # on stdio, for an assistant that launches it
    director serve        # streamable HTTP at /mcp, behind the API's token, Host and Origin checks

Like the CLI and HTTP faces it only translates: each tool is a lifecycle call, and each tool's arguments are
typed from the same declaration (director.options) and checked in one line. Its one rule of its own is money:
an assistant can ask, and the user's cap and approval decide what is spent.

- A paid run stops at the approval gate with its quote, unless the user's config gives assistants a cap
  (DIRECTOR_MCP_BUDGET_USD, or `[mcp] budget_usd` in config.toml): then a run may spend up to it unasked.
- No budget an assistant names may pass that cap (without one, DIRECTOR_DEFAULT_BUDGET_USD).
- `approve` asks the user through elicitation where the client offers it, and only the user's yes approves;
  otherwise the tool call is the user's own step, and it must carry the quote it approves.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.mcpserver.resolve import (
    AcceptedElicitation,
    CancelledElicitation,
    DeclinedElicitation,
    ElicitationResult,
)
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import CallToolResult, ResourceLink, TextContent, ToolAnnotations
from mcp_types import Resource as MCPResource
from pydantic import BaseModel, Field, ValidationError

from director.assistant_arguments import (
    UNSENT,
    ApproveArguments,
    ExportArguments,
    ForkArguments,
    NoArguments,
    ReplayArguments,
    ResumeArguments,
    ReviseArguments,
    RunArguments,
    WaitArguments,
    as_sent,
    make_arguments,
    one_line,
)
from director.assistant_progress import next_step, progress_line
from director.assistant_spending import Cap
from director.errors import DirectorError, InputError
from director.graph import YES
from director.version import __version__

log = logging.getLogger(__name__)

SETTLED = frozenset({"done", "paused", "failed", "stopped", "cancelled", "interrupted"})
"""The statuses a run rests in (the rest, running and queued, are on their way)."""
POLL_S = 0.25
"""How often a waiting tool looks for new events in the catalog."""
OUTPUTS = {
    "manifest.json": ("application/json", "A run's manifest: what was made, by which models, for how much."),
    "storyboard.html": ("text/html", "A run's storyboard page (at the approval gate, its preview)."),
    "final.mp4": ("video/mp4", "A finished run's video."),
    "subtitles.srt": ("application/x-subrip", "A finished run's subtitles."),
    "timeline.otio": ("application/json", "A finished run's editorial timeline (OpenTimelineIO)."),
}
"""What a run publishes in runs/<id>/, readable as director://runs/<id>/<name>: its type, and what it is."""
MAX_RESOURCE_BYTES = 256 * 1024 * 1024
"""A resource is sent whole, base64 in JSON; past this the tool results' file paths are the way to it."""
INSTRUCTIONS = """Director turns a goal into a finished video (narration, music, subtitles).
Call make with a goal; it returns the run id at once. Call wait with that id to follow it: it reports progress
and returns when the run is done, fails, or stops at the approval gate. At the gate, show the user the quote and
call approve only when the user says yes: a paid run spends money. Revise a run with revise, and read its
outputs as resources (director://runs/<id>/final.mp4, manifest.json, storyboard.html)."""


RECENT_RUNS = 20
"""resources/list names the outputs of this many runs, newest first (the templates reach any run's)."""


class Listing(MCPServer[Any]):
    """The SDK's server, whose resources/list names the outputs the newest runs have, so a client that browses
    resources (rather than following links) finds the videos."""

    def __init__(self, assistants: Assistants, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assistants = assistants

    async def list_resources(self) -> list[MCPResource]:
        return await asyncio.to_thread(self.assistants.outputs) + await super().list_resources()


class Confirm(BaseModel):
    """What the user answers at the approval gate, through elicitation."""

    approve: bool = Field(description="Spend this much on the paid steps?")


class Assistants:
    """The MCP server over one Director: its tools, its resources and its spending rule.

    files turns a file a make option names into what the lifecycle takes: over HTTP an upload id (or a path under
    the server's media root), on stdio a path on the user's own machine."""

    def __init__(self, director: Any, *, files: Callable[[str, str, str], str] | None = None,
                 over_http: bool = False) -> None:
        self.director = director
        self.lifecycle = director.lifecycle
        self.cap = Cap(director.settings)
        self.files = files
        self.over_http = over_http
        """Over HTTP the server's paths stay its own: outputs are resource URIs, and messages say <workspace>."""
        self.make_model = make_arguments(uploads=over_http)
        self.server: MCPServer[Any] = Listing(self,
            "director", title="Director", version=__version__, instructions=INSTRUCTIONS,
            description="Turn a goal into a finished video: make, follow, approve, revise, fork and export.",
            tools=self.tools(), log_level="WARNING")
        for name, (mime, description) in OUTPUTS.items():
            self.server.resource(f"director://runs/{{run_id}}/{name}", mime_type=mime, description=description)(
                self._reader(name))

    # -- the tools ---------------------------------------------------------------------------------------------
    def tools(self) -> list[Tool]:
        read = ToolAnnotations(read_only_hint=True, open_world_hint=False)
        spend = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=True)
        return [
            self._tool(self.make, self.make_model, "Make a video from a goal", spend),
            self._tool(self.wait, WaitArguments, "Follow a run until it stops", read),
            self._tool(self.status, RunArguments, "A run's status", read),
            self._tool(self.approve, ApproveArguments, "Answer a run's approval gate", spend),
            self._tool(self.revise, ReviseArguments, "Revise a run in words", spend),
            self._tool(self.cancel, RunArguments, "Stop a run",
                       ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)),
            self._tool(self.resume, ResumeArguments, "Finish a stopped run", spend),
            self._tool(self.fork, ForkArguments, "Branch a run from a checkpoint, with a change", spend),
            self._tool(self.replay, ReplayArguments, "Run a run again from a checkpoint", spend),
            self._tool(self.list_runs, NoArguments, "Every run", read),
            self._tool(self.history, RunArguments, "A run's checkpoints", read),
            self._tool(self.export_timeline, ExportArguments, "Export a run's timeline",
                       ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)),
        ]

    def _tool(self, fn: Callable[..., Awaitable[Any]], model: type[BaseModel], title: str,
              annotations: ToolAnnotations) -> Tool:
        """A tool whose schema is its model's and whose arguments that model checks, in one line. approve also
        takes the user's answer at the gate, asked through elicitation (_ask), on either protocol era."""
        asks = fn == self.approve

        async def call(ctx: Context, confirmed: Any = None, **sent: Any) -> CallToolResult:
            try:
                args = model.model_validate({k: v for k, v in sent.items() if v is not UNSENT}, strict=True)
            except ValidationError as exc:
                raise ToolError(one_line(exc, model)) from None
            try:
                return await (self.approve(ctx, args, confirmed) if asks else fn(ctx, args))
            except DirectorError as exc:
                raise ToolError(self._said(str(exc))) from None

        P = inspect.Parameter
        params = [P("ctx", P.POSITIONAL_OR_KEYWORD, annotation=Context)]
        if asks:
            params.append(P("confirmed", P.KEYWORD_ONLY, default=None,
                            annotation=Annotated[ElicitationResult[Confirm], Resolve(self._ask)]))
        params += [P(name, P.KEYWORD_ONLY, default=None, annotation=Any) for name in model.model_fields]
        call.__signature__ = inspect.Signature(params, return_annotation=CallToolResult)  # type: ignore[attr-defined]
        call.__annotations__ = {p.name: p.annotation for p in params}
        tool = Tool.from_function(call, name=fn.__name__, title=title, description=" ".join((fn.__doc__ or "").split()),
                                  annotations=annotations, structured_output=False)
        tool.parameters = model.model_json_schema()
        tool.fn_metadata = tool.fn_metadata.model_copy(update={"arg_model": as_sent(model)})
        return tool

    async def make(self, ctx: Context, args: Any) -> CallToolResult:
        """Make a video from a goal. Returns the run id at once (with wait_seconds, follows it that long, with
        progress notifications). A paid run stops at the approval gate with its quote unless the user's config
        gives assistants a cap; show the quote and approve only when the user says yes."""
        options = {k: v for k, v in args.model_dump(exclude={"goal", "wait_seconds"}, exclude_unset=True).items()
                   if v is not None}
        if self.files is not None:
            from director.uploads import with_files

            options = with_files(options, self.files)
        run = await asyncio.to_thread(self.lifecycle.make, args.goal, background=True, face="mcp",
                                      spending=self.cap, **options)
        await ctx.report_progress(0, None, f"run {run.id} started")
        if args.wait_seconds:
            await self._follow(ctx, run.id, args.wait_seconds)
        return await self._answer(run.id)

    async def wait(self, ctx: Context, args: Any) -> CallToolResult:
        """Follow a run until it is done, fails or stops at the approval gate, sending a progress notification
        for each step; returns its status. After wait_seconds it returns while the run goes on: call wait again."""
        before = await asyncio.to_thread(self.lifecycle.events, args.run_id)  # what was said is history, not progress
        await self._follow(ctx, args.run_id, args.wait_seconds, after=max((e.get("seq") or 0 for e in before), default=0))
        return await self._answer(args.run_id)

    async def status(self, ctx: Context, args: Any) -> CallToolResult:
        """A run's status, cost, scenes, what it waits for (the approval gate's quote) and its outputs."""
        return await self._answer(args.run_id)

    async def approve(self, ctx: Context, args: Any, confirmed: Any = None) -> CallToolResult:
        """Answer a run's approval gate. "yes" spends the quoted amount: where the client can ask the user, the user
        is asked and only their yes approves; otherwise call this only on the user's word, with the quote_usd you
        showed them. "no" cancels the paid steps; any other answer is a change to make before asking again."""
        answer = args.answer.strip()
        if is_yes(answer):
            if isinstance(confirmed, AcceptedElicitation) and isinstance(confirmed.data, Confirm):
                if not confirmed.data.approve:
                    raise ToolError(f"the user did not approve run {args.run_id}'s quote; it waits at the gate")
            elif isinstance(confirmed, (DeclinedElicitation, CancelledElicitation)):
                raise ToolError(f"the user {confirmed.action}d run {args.run_id}'s quote; it waits at the gate")
            else:  # nobody was asked: this call is the user's step, and it names the quote
                self._quoted(args.run_id, args.quote_usd)
            answer = "yes"
        await asyncio.to_thread(self.director.resume, args.run_id, approve=answer, background=True)
        return await self._answer(args.run_id)

    async def revise(self, ctx: Context, args: Any) -> CallToolResult:
        """Tell a stopped run what to change, in words; only what the change touches is made again (and a paid
        change stops at the approval gate again)."""
        if is_yes(args.text):
            raise ToolError(f"{args.text.strip()!r} answers run {args.run_id}'s approval gate: that yes is the user's, "
                            f"given through approve")
        await asyncio.to_thread(self._may_go_on, args.run_id)
        await asyncio.to_thread(self.director.say, args.run_id, args.text, background=True)
        return await self._answer(args.run_id)

    async def cancel(self, ctx: Context, args: Any) -> CallToolResult:
        """Stop a run; what it made is kept, and resume goes on from there."""
        live = await asyncio.to_thread(self.director.cancel, args.run_id)
        if live is not None and live.working.is_set():
            await asyncio.to_thread(live.wait_quietly, 30.0)
        return await self._answer(args.run_id)

    async def resume(self, ctx: Context, args: Any) -> CallToolResult:
        """Finish a stopped run (killed, failed scenes, or out of budget); finished calls are reused, never paid
        twice. A budget may not pass the user's cap for assistants."""
        self.cap.check(args.budget)
        await asyncio.to_thread(self._may_go_on, args.run_id, args.budget)
        await asyncio.to_thread(self.director.resume, args.run_id, budget=args.budget, background=True,
                                retry_unsure=args.retry_unsure)
        return await self._answer(args.run_id)

    async def fork(self, ctx: Context, args: Any) -> CallToolResult:
        """A new run whose history starts at a checkpoint of another (see history), with a change in words;
        everything the change does not touch is shared, not paid again."""
        await asyncio.to_thread(self._may_go_on, args.run_id)
        run = await asyncio.to_thread(self.director.fork, args.run_id, args.checkpoint, say=args.say,
                                      new_run_id=args.new_run_id, background=True)
        return await self._answer(run.id)

    async def replay(self, ctx: Context, args: Any) -> CallToolResult:
        """Run a run again from a checkpoint (default: its start); with nothing changed every call is reused."""
        await asyncio.to_thread(self._may_go_on, args.run_id)
        await asyncio.to_thread(self.director.replay, args.run_id, args.checkpoint, background=True)
        return await self._answer(args.run_id)

    async def list_runs(self, ctx: Context, args: Any) -> CallToolResult:
        """Every run in the workspace, newest first: id, goal, status, cost."""
        try:
            rows = await asyncio.to_thread(self.director.runs)
        except InputError:  # no catalog yet: nothing has run here
            rows = []
        runs = [{k: r[k] for k in ("id", "goal", "status", "created", "cost_usd", "budget_usd", "parent")} for r in rows]
        return self._result({"runs": runs})

    async def history(self, ctx: Context, args: Any) -> CallToolResult:
        """A run's checkpoints, newest first, with what each changed: fork or replay from one."""
        rows = await asyncio.to_thread(self.director.history, args.run_id)
        return self._result({"run_id": args.run_id, "checkpoints": rows})

    async def export_timeline(self, ctx: Context, args: Any) -> CallToolResult:
        """Write a run's final cut as an editorial timeline (otio, fcpxml or edl) in its folder; its path."""
        path = await asyncio.to_thread(self.director.export, args.run_id, args.format)
        return self._result({"run_id": args.run_id, "format": args.format, "path": str(path)})

    # -- what the tools share ----------------------------------------------------------------------------------
    def _said(self, text: str) -> str:
        """Text as this transport shows it: over HTTP, the server's workspace is <workspace> and its home <home>."""
        if not self.over_http:
            return text
        from director.guards import without_paths

        text = str(without_paths(text, self.director.workspace.root))
        home = str(self.director.settings.home.expanduser())
        return text.replace(home, "<home>") if len(home) > 1 else text

    def _ask(self, ctx: Context, run_id: Any, answer: Any) -> Any:
        """approve's resolver: where the client can elicit, the user is asked about the quote (a yes to spend
        needs theirs); elsewhere nothing is asked, and the call itself must carry the quote."""
        answer = "yes" if answer is UNSENT else answer
        if not isinstance(run_id, str) or not isinstance(answer, str) or not is_yes(answer):
            return None
        caps = ctx.client_capabilities
        if caps is None or caps.elicitation is None:
            return None
        try:
            _, asked = self.lifecycle.latest(run_id)
        except DirectorError:
            return None  # approve itself says what is wrong
        if asked is None:
            return None
        return Elicit(self._quote_text(run_id, asked), Confirm)

    def _may_go_on(self, run_id: str, budget: float | None = None) -> None:
        """An assistant goes on with a paid run (a revision, a resume, a fork, a replay) under the same rule as one
        it makes: the run asks at the gate before it spends, or its budget is within the user's cap for assistants.
        A run the user made on the CLI without --approve, with a budget past that cap, is theirs to go on with."""
        row = self.lifecycle._catalog().require_run(run_id)
        limit = budget if budget is not None else row.budget_usd
        goal = json.loads(row.options_json or "{}").get("goal") or {}
        if row.backend == "local" or limit is None or goal.get("approve"):
            return
        if self.cap.usd is not None and limit <= self.cap.usd:
            return
        if self.cap.usd is None:
            raise ToolError(f"run {run_id} spends without asking first (up to ${limit:,.2f}), and the user has given "
                            f"assistants no cap (DIRECTOR_MCP_BUDGET_USD): only the user can go on with it "
                            f"(director resume, say or fork)")
        raise ToolError(f"run {run_id} spends without asking first, up to ${limit:,.2f}, past the user's cap for "
                        f"assistants (${self.cap.usd:,.2f}): resume it with a budget within the cap, or ask the user "
                        f"to go on with it")

    def _quoted(self, run_id: str, quote_usd: float | None) -> None:
        """Without elicitation the approve call is the user's step: it must name the quote the run waits on."""
        _, asked = self.lifecycle.latest(run_id)
        if asked is None:
            return  # the lifecycle refuses it: not waiting for approval
        quote = float(asked.get("quote_usd") or 0.0)
        if quote <= 0 and not asked.get("cap_usd"):
            return  # nothing to spend: the yes needs no quote
        if quote_usd is None:
            raise ToolError(f"{self._quote_text(run_id, asked)} Show the user this quote, and on their yes call "
                            f"approve again with quote_usd={quote:.2f}")
        if abs(quote_usd - quote) > 0.005:
            raise ToolError(f"run {run_id} waits on a quote of ${quote:.2f}, not ${quote_usd:.2f}: show the user "
                            f"that quote, and approve with quote_usd={quote:.2f} on their yes")

    @staticmethod
    def _quote_text(run_id: str, asked: dict[str, Any]) -> str:
        quote = float(asked.get("quote_usd") or 0.0)
        parts = ", ".join(f"{tool} ${usd:.2f}" for tool, usd in (asked.get("by_tool") or {}).items() if usd >= 0.005)
        cap = asked.get("cap_usd")
        if quote <= 0 and not cap:
            return f"Run {run_id} waits for approval of its next steps, which cost nothing. Approve?"
        return (f"Run {run_id} asks to spend about ${quote:.2f} on its paid steps"
                f"{' (' + parts + ')' if parts else ''}{f', past its cap of ${cap:.2f}' if cap else ''}. Approve?")

    async def _follow(self, ctx: Context, run_id: str, seconds: float, *, after: int = 0) -> None:
        """Progress notifications for the run's events after `after` until it rests or `seconds` pass."""
        deadline = time.monotonic() + seconds
        seq, count = after, 0
        while True:
            events = await asyncio.to_thread(self.lifecycle.events, run_id, after=seq)
            for event in events:
                seq = max(seq, int(event.get("seq") or 0))
                line = progress_line(event)
                if line:
                    count += 1
                    await ctx.report_progress(count, None, line)
            row = await asyncio.to_thread(self.lifecycle.runs_row, run_id)
            if row["status"] in SETTLED and (any(e.get("type") == "run_finished" for e in events) or not events):
                return
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(POLL_S)

    async def _answer(self, run_id: str) -> CallToolResult:
        return self._result(await asyncio.to_thread(self.describe, run_id), links=run_id)

    def describe(self, run_id: str) -> dict[str, Any]:
        """A run as an assistant reads it: status, cost, scenes, the gate's quote, outputs and what to do next."""
        row = self.lifecycle.runs_row(run_id)
        state, asked = self.lifecycle.latest(run_id)
        catalog = self.lifecycle._catalog()
        record = catalog.require_run(run_id)
        board = state.storyboard if state else None
        status = row["status"]
        folder = self.director.workspace.run_dir(run_id)
        run: dict[str, Any] = {
            "run_id": run_id, "status": status, "goal": row["goal"], "backend": record.backend,
            "title": board.title if board else None, "error": record.error if status != "done" else None,
            "cost_usd": round(catalog.run_spend(run_id), 4), "budget_usd": record.budget_usd,
            "scenes": [{"number": s.index, "narration": s.narration,
                        "status": "failed" if s.errors else "animated" if s.clip else "drawn" if s.image else "written"}
                       for s in (board.scenes if board else [])],
            "outputs": {name: f"director://runs/{run_id}/{name}" if self.over_http else str(folder / name)
                        for name in OUTPUTS if (folder / name).is_file()},
        }
        if asked is not None:
            run["pending"] = {"quote_usd": asked.get("quote_usd"), "steps": asked.get("steps"),
                              "by_tool": asked.get("by_tool"), "cap_usd": asked.get("cap_usd"),
                              "ask": self._quote_text(run_id, asked)}
        run["next"] = next_step(status, run_id, asked is not None)
        return run

    def _result(self, data: dict[str, Any], *, links: str | None = None) -> CallToolResult:
        if self.over_http:  # the server's paths stay its own, in every string the answer holds
            data = json.loads(self._said(json.dumps(data, ensure_ascii=False, default=str)))
        content: list[Any] = [TextContent(type="text", text=json.dumps(data, ensure_ascii=False, default=str))]
        if links:
            folder = self.director.workspace.run_dir(links)
            for name, (mime, _) in OUTPUTS.items():
                path = folder / name
                if path.is_file():
                    content.append(ResourceLink(type="resource_link", uri=f"director://runs/{links}/{name}", name=name,
                                                mime_type=mime, size=path.stat().st_size))
        return CallToolResult(content=content, structured_content=data)

    def outputs(self) -> list[MCPResource]:
        """The outputs the newest runs have on disk, as resources."""
        try:
            runs = self.director.runs()[:RECENT_RUNS]
        except DirectorError:  # no catalog yet: nothing has run here
            return []
        found = []
        for run in runs:
            folder = self.director.workspace.run_dir(run["id"])
            for name, (mime, description) in OUTPUTS.items():
                path = folder / name
                if path.is_file():
                    found.append(MCPResource(uri=f"director://runs/{run['id']}/{name}", name=f"{run['id']}/{name}",
                                             title=f"{name} of {self._said(run['goal'])[:80]}", mime_type=mime,
                                             description=description, size=path.stat().st_size))
        return found

    def _reader(self, name: str) -> Callable[[str], Awaitable[str | bytes]]:
        mime = OUTPUTS[name][0]

        async def read(run_id: str) -> str | bytes:
            try:
                content = await asyncio.to_thread(self.read_output, run_id, name, mime)
            except ResourceError as exc:
                raise ResourceError(self._said(str(exc))) from None
            return self._said(content) if isinstance(content, str) else content

        read.__name__ = name.replace(".", "_")
        read.__doc__ = f"A run's {name}."
        return read

    def read_output(self, run_id: str, name: str, mime: str) -> str | bytes:
        from director.goals import check_run_id

        try:
            check_run_id(run_id)
            self.lifecycle.runs_row(run_id)
        except DirectorError as exc:
            raise ResourceError(str(exc)) from None
        path = self.director.workspace.run_dir(run_id) / name
        if not path.is_file():
            raise ResourceError(f"run {run_id} has no {name} yet (its status: "
                                f"{self.lifecycle.runs_row(run_id)['status']})")
        size = path.stat().st_size
        if size > MAX_RESOURCE_BYTES:
            raise ResourceError(f"{name} is {size / 2**20:,.0f} MiB, past the {MAX_RESOURCE_BYTES // 2**20} MiB a "
                                f"resource is sent whole; read it at {path}")
        if mime.startswith(("text/", "application/json", "application/x-subrip")):
            return path.read_text(encoding="utf-8")
        return path.read_bytes()


def is_yes(answer: str) -> bool:
    """The gate's yes, as the graph reads it (director.graph)."""
    return answer.strip().lower() in YES


def stdio(workspace: Path | None = None, **overrides: Any) -> None:
    """`director mcp`: serve one assistant on stdin and stdout until it closes them."""
    from director.api import Director

    director = Director(workspace, **overrides)
    try:
        Assistants(director).server.run("stdio")
    finally:  # the assistant closed the pipe: runs in flight are marked interrupted, to resume later
        director.lifecycle.stop_all(grace=1.0, kill=True)
