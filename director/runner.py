"""Executes a batch of tool calls: validation, memo, catalog, concurrency, events.

Every call is keyed by sha256 of (tool, version, canonical args, backend,
model, resolved input assets, seed, render settings). A key that already
succeeded in this workspace is served from the catalog and runs nothing.
Errors of any kind become ToolResults the brain can read; they never escape.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ValidationError

from director.backends import Backends
from director.call_batch import conflicts, fold, overlaps
from director.choices import sheet_inputs, size_inputs
from director.cluster import Executed, fingerprint
from director.config import Settings
from director.errors import BudgetExceeded, DirectorError, StorageError
from director.limits import CURRENT_CALL, BudgetGuard, CallMeter
from director.prices import Prices, Unpriced
from director.state import Character, DirectorState, Scene, Storyboard, ToolCall, ToolResult, finishing
from director.store import AssetStore, CallRow, Catalog, canonical_json, disk_full
from director.tooling import Tool, ToolContext, asset_refs, key_view

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], None]


def describe_call(call: ToolCall) -> str:
    """Short human label: 'create_image scene 2'."""
    scene = call.args.get("scene") if isinstance(call.args, dict) else None
    return f"{call.name} scene {scene}" if scene is not None else call.name


def validation_message(tool: Tool, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        problems.append(f"{where}: {err['msg']}")
    return f"bad arguments for {tool.name}: " + "; ".join(problems)


class Runner:
    def __init__(
        self,
        *,
        settings: Settings,
        backends: Backends,
        store: AssetStore,
        catalog: Catalog,
        tools: Mapping[str, Tool],
        prices: Prices | None = None,
        budget: BudgetGuard | None = None,
        stop: threading.Event | None = None,
        cluster: Callable[..., Executed] | None = None,
        family: str = "local",
    ) -> None:
        self.settings = settings
        self.stop = stop
        """Set when the user cancels the run: calls not yet started are not run."""
        self.backends = backends
        self.store = store
        self.catalog = catalog
        self.tools = tools
        self.prices = prices or Prices()
        self.budget = budget or BudgetGuard(None, 0.0)
        self.cluster = cluster
        """Sends a call to the Ray cluster (director.tasks.submit), or None to run calls here."""
        self.family = family

    def meter(self, emit: Emit, call_id: str, tool: str, label: str, tier: str = "standard") -> CallMeter:
        return CallMeter(
            prices=self.prices.with_tier(tier),
            report=lambda note: emit({"type": "tool_progress", "call_id": call_id, "tool": tool, "label": label,
                                      "note": self.settings.redact(note)}),
            on_retry=lambda info: emit({"type": "tool_retry", "call_id": call_id, "tool": tool, "label": label,
                                        **{k: self.settings.redact(str(v)) if k == "error" else v
                                           for k, v in info.items()}}),
            warn=lambda line: emit({"type": "warning", "call_id": call_id, "tool": tool,
                                    "message": self.settings.redact(f"{label}: {line}")}),
        )

    def quote(self, state: DirectorState, board: Storyboard | None = None) -> dict[str, Any]:
        """Expected USD of the paid media still to make (stills, narration, motion), by the tools'
        own estimates in their billing units (images; audio tokens; the Veo seconds requested).
        Each missing part of a scene is counted as a call of the tool that usually makes it (Tool.usual_for)."""
        board = board if board is not None else state.storyboard
        mode = state.goal.mode
        makers = {part: t for t in self.tools.values() if mode in t.usual_for for part in t.writes}
        steps: dict[str, int] = {}
        usd: dict[str, float] = {}
        standard = [0.0]  # what the same work costs on the standard tier, for a flex run's quote

        def add(part: str, **fields: Any) -> None:
            tool = makers.get(part)
            if tool is None:
                return
            inputs = fields.pop("inputs", {})
            args = tool.input.model_construct(**fields)
            cost = self._estimate(tool, args, inputs, state.goal.tier if tool.patient else "standard")
            standard[0] += self._estimate(tool, args, inputs) if tool.patient else cost
            steps[tool.name] = steps.get(tool.name, 0) + 1
            usd[tool.name] = usd.get(tool.name, 0.0) + cost

        aspect = (board.aspect if board else None) or state.goal.aspect
        for member in board.members() if board else []:
            if member.sheet is None:
                add("sheet", character=member.name, inputs=sheet_inputs(state.finish))
        for scene in board.scenes if board else []:
            if scene.image is None:
                add("image", scene=scene.index, prompt=scene.image_prompt, instruction=scene.image_prompt,
                    picture="frame", aspect=aspect, inputs=size_inputs(state.finish, aspect))
                if state.goal.continuity > 0 and board is not None and board.cast_of(scene.index):
                    add("continuity", scene=scene.index)
            needs_voice = state.goal.audio in ("narration", "mix") or mode == "story"
            if needs_voice and scene.audio is None and scene.narration:
                # The loop runs only over a board's scenes; mypy cannot see that board is set here.
                add("audio", scene=scene.index, text=scene.narration, voice=None,
                    pace=board.pace if board is not None else 1.0)
            if scene.clip is None:
                seconds = scene.audio.duration if scene.audio else len(scene.narration.split()) / 2.5
                inputs = {"length": scene.length} if scene.length else {"speech_seconds": seconds}
                add("clip", scene=scene.index, aspect=aspect, motion=state.goal.motion, inputs=inputs)
        if finishing(state.goal, board).music != "none" and board is not None and board.music is None:
            add("music", mood="auto", prompt="")
        return {"usd": round(sum(usd.values()), 4), "steps": steps, "by_tool": {k: round(v, 4) for k, v in usd.items()},
                "tier": state.goal.tier, "standard_usd": round(standard[0], 4)}

    def quote_plan(self, state: DirectorState) -> dict[str, Any]:
        """A quote before anything exists: the goal's scenes, each with a typical narration, and the story."""
        if state.storyboard is not None and state.storyboard.scenes:
            return self.quote(state)
        typical = " ".join(["word"] * 20)  # about 8 s of speech: one or two sentences
        cast = [Character(name=name, kind="", look="") for name in ("A", "B")] if state.goal.mode == "story" else []
        board = Storyboard(title="", art_style="", characters=cast,  # a story's usual two, in every scene
                           scenes=[Scene(index=i, image_prompt="A and B", narration=typical)
                                   for i in range(1, state.goal.scenes + 1)])
        quote = self.quote(state, board)
        for story in (t for t in self.tools.values() if state.goal.mode in t.usual_for and "story" in t.writes):
            args = story.input.model_construct(goal=state.goal.text, scenes=state.goal.scenes)
            cost = self._estimate(story, args, {}, state.goal.tier)
            if cost:
                quote["usd"] = round(quote["usd"] + cost, 4)
                quote["standard_usd"] = round(quote["standard_usd"] + self._estimate(story, args, {}), 4)
                quote["by_tool"][story.name] = round(cost, 4)
        return quote

    def raise_cap(self, run_id: str, quote: float) -> None:
        """An approval of `quote` under a default cap: the cap grows to cover it, for this run."""
        limit = self.budget.allow(quote)
        self.catalog.update_run(run_id, budget_usd=limit)

    def _estimate(self, tool: Tool, args: BaseModel, inputs: Mapping[str, Any], tier: str = "standard") -> float:
        """The expected USD of a call on its service tier. A model with no price raises Unpriced while a budget
        holds (a paid run always has one): it is never taken for free."""
        backend, model = self.identity(tool)
        if backend == "local" or tool.estimate is None:
            return 0.0
        try:
            return tool.estimate(args, inputs, model, self.prices.with_tier(tier))
        except Unpriced:
            if self.budget.limit is None and self.budget.remote is None:
                return 0.0  # no budget to keep: the call goes ahead, and the meter says it could not price it
            raise

    def run_brain(self, brain: Any, state: DirectorState, emit: Emit) -> Any:
        """One brain turn, metered, budget-checked and recorded like a call (never memoised)."""
        if brain.name == "local":
            return brain.decide(state)
        chars = sum(len(m.text) + len(canonical_json([c.args for c in m.calls])) +
                    len(canonical_json([r.output or r.error for r in m.results])) for m in state.messages)
        try:
            estimate = self.prices.tokens(brain.model, 2_000 + chars // 3, 800)
        except Unpriced:
            if self.budget.limit is not None or self.budget.remote is not None:
                raise
            estimate = 0.0
        self.budget.reserve(estimate, "the next brain turn")
        call_id = f"brain.{len(state.messages)}"
        meter = self.meter(emit, call_id, "brain", "brain")
        token = CURRENT_CALL.set(meter)
        started = time.perf_counter()
        error: str | None = None
        try:
            decision = brain.decide(state)
        except DirectorError as exc:
            error = self.settings.redact(str(exc))
            raise
        finally:
            CURRENT_CALL.reset(token)
            self.budget.settle(estimate, meter.cost_usd)
            ms = int((time.perf_counter() - started) * 1000)
            result = None if error else canonical_json({"calls": [c.name for c in decision.calls], "say": decision.say})
            self.catalog.record_call(CallRow(
                run_id=state.run_id, call_id=call_id, key=f"brain:{state.run_id}:{call_id}", tool="brain",
                args_json=canonical_json({"messages": len(state.messages)}), result_json=result,
                backend=brain.name, model=brain.model, ms=ms, error=error, cost_usd=meter.cost_usd,
                input_tokens=meter.input_tokens, output_tokens=meter.output_tokens, attempts=1 + len(meter.retries),
                retry_log=canonical_json(meter.retries) if meter.retries else None))
        return decision

    def identity(self, tool: Tool) -> tuple[str, str]:
        """(backend, model) that does a tool's work; part of the memo key."""
        if tool.capability is None:
            return "local", f"{tool.name}-v{tool.version}"
        backend = self.backends.for_capability(tool.capability)
        return backend.name, backend.model

    def memo_key(self, tool: Tool, args: BaseModel, inputs: Mapping[str, Any], seed: int) -> str:
        backend, model = self.identity(tool)
        payload = {
            "tool": tool.name,
            "version": tool.version,
            "args": args.model_dump(mode="json"),
            "backend": backend,
            "model": model,
            "inputs": key_view(inputs),
            "seed": seed,
            "render": {"fps": self.settings.fps, "crf": self.settings.crf, "preset": self.settings.x264_preset}
            if tool.renders else None,
        }
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    def depends(self, calls: list[ToolCall]) -> dict[str, list[str]]:
        """For each call, the earlier calls of the batch it must wait for.

        Two calls are ordered, in the order given, when their scopes (scene, source
        video, or the whole storyboard) overlap and one writes or clears a part of
        the storyboard the other reads, or both write it. Everything else runs at
        once, so a scene's clip starts as soon as its own image and narration are done.
        """
        touched: list[tuple[str, tuple[str, int | str] | None, Tool]] = []
        deps: dict[str, list[str]] = {}
        for call in calls:
            tool = self.tools.get(call.name)
            try:
                args = tool.input.model_validate(call.args) if tool else None
            except ValidationError:
                args = None
            if tool is None or args is None:  # it will fail on its own, at once
                deps[call.id] = []
                continue
            scope = tool.scope(args)
            deps[call.id] = [earlier_id for earlier_id, earlier_scope, earlier in touched
                             if overlaps(scope, earlier_scope) and conflicts(earlier, tool)]
            touched.append((call.id, scope, tool))
        return deps

    def run_batch(self, state: DirectorState, calls: list[ToolCall], emit: Emit) -> list[ToolResult]:
        """Run a batch: independent calls at once (at most settings.workers), dependent ones in order.

        A call that depends on others starts when they are done, reading the
        storyboard with their outputs folded in; if one of them failed it does
        not run. Results come back in call order.
        """
        lock = threading.Lock()
        deps = self.depends(calls)
        awaited = {d for ds in deps.values() for d in ds}  # results a later call must read
        labels = {c.id: describe_call(c) for c in calls}
        view = {"board": state.storyboard}

        def safe_emit(event: dict[str, Any]) -> None:
            with lock:
                emit(event)

        async def main() -> list[ToolResult | BaseException]:
            gate = asyncio.Semaphore(self.settings.workers)
            tasks: dict[str, asyncio.Future[ToolResult]] = {}

            async def one(call: ToolCall) -> ToolResult:
                for dep in deps[call.id]:
                    try:
                        ok = (await tasks[dep]).ok
                    except BaseException:  # noqa: BLE001 - e.g. the budget stopped it; reported by gather
                        ok = False
                    if not ok:
                        error = f"not run: {labels[dep]} failed first"
                        safe_emit({"type": "tool_failed", "call_id": call.id, "tool": call.name,
                                   "label": labels[call.id], "error": error})
                        return ToolResult(call_id=call.id, name=call.name, ok=False, error=error)
                async with gate:
                    with lock:
                        current = state if view["board"] is state.storyboard else \
                            state.model_copy(update={"storyboard": view["board"]})
                    result = await asyncio.to_thread(self.run_one, current, call, safe_emit)
                if call.id in awaited:
                    with lock:
                        view["board"] = fold(view["board"], [call], [result], self.tools)
                return result

            for call in calls:
                tasks[call.id] = asyncio.ensure_future(one(call))
            return list(await asyncio.gather(*tasks.values(), return_exceptions=True))

        # A fresh thread owns the event loop, so this works even when the caller
        # already runs one (notebooks, async web handlers). The copied context
        # carries LangGraph's run config, which its stream writer needs.
        context = contextvars.copy_context()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="director-batch")
        try:
            outcomes = pool.submit(context.run, asyncio.run, main()).result()
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: stop the encodes and do not wait for the batch to drain; what
            # finished is in the catalog, so a resume reuses it.
            from director.media import kill_children

            kill_children()
            raise
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        # A call the budget refused stops the run only after the rest of the batch
        # finished and was recorded, so a resume pays for none of it again.
        results: list[ToolResult] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            results.append(outcome)
        return results

    def run_one(self, state: DirectorState, call: ToolCall, emit: Emit) -> ToolResult:
        from director.media import STOPPING

        label = describe_call(call)
        if STOPPING.is_set():  # the process is being interrupted: start nothing new
            return ToolResult(call_id=call.id, name=call.name, ok=False, error="not run: interrupted")
        if self.stop is not None and self.stop.is_set():
            return ToolResult(call_id=call.id, name=call.name, ok=False, error="not run: the run was cancelled")
        tool = self.tools.get(call.name)
        if tool is None:
            error = f"unknown tool {call.name!r}; available: {', '.join(sorted(self.tools))}"
            emit({"type": "tool_failed", "call_id": call.id, "tool": call.name, "label": label, "error": error})
            return ToolResult(call_id=call.id, name=call.name, ok=False, error=error)
        try:
            args = tool.input.model_validate(call.args)
            inputs = tool.resolve(args, state)
        except ValidationError as exc:
            return self._refuse(call, label, validation_message(tool, exc), emit)
        except DirectorError as exc:
            return self._refuse(call, label, str(exc), emit)

        seed = state.goal.seed
        key = self.memo_key(tool, args, inputs, seed)
        backend, model = self.identity(tool)
        args_json = canonical_json(args.model_dump(mode="json"))
        reused = self._reuse(tool, key)
        if reused is not None:
            self.catalog.record_call(CallRow(run_id=state.run_id, call_id=call.id, key=key, tool=tool.name,
                                             args_json=args_json, result_json=reused.model_dump_json(),
                                             backend=backend, model=model, ms=0, reused=True))
            emit({"type": "tool_reused", "call_id": call.id, "tool": tool.name, "label": label})
            return ToolResult(call_id=call.id, name=tool.name, ok=True, output=reused.model_dump(mode="json"),
                              reused=True, key=key)

        tier = state.goal.tier if tool.patient else "standard"  # a call that can wait goes on the run's tier
        estimate = self._estimate(tool, args, inputs, tier)
        self.budget.reserve(estimate, label)  # BudgetExceeded: this call does not run
        emit({"type": "tool_started", "call_id": call.id, "tool": tool.name, "label": label,
              "estimate_usd": round(estimate, 4)})
        try:
            if self.cluster is not None:  # a Ray task: progress notes and retries arrive with the result
                try:
                    done = self.cluster(self.job(tool, args, inputs, key=key, run_id=state.run_id, call_id=call.id,
                                                 seed=seed, tier=tier), cpus=self.cpus(tool))
                except Exception as exc:  # Ray gave up on it (its workers kept dying, the cluster went away)
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
                    done = Executed(output=None, error=self.settings.redact(
                        f"the cluster could not run {tool.name}: {type(exc).__name__}: {first}"))
                meter = self.meter(emit, call.id, tool.name, label)
                for note in done.notes:  # a worker's warnings come back as notes marked so
                    (meter.warn(note.removeprefix("warning: ")) if note.startswith("warning: ") else meter.report(note))
                for info in done.retries:
                    meter.on_retry(info)
            else:
                done = self.execute(tool, args, inputs, key=key, run_id=state.run_id, call_id=call.id, seed=seed,
                                    meter=self.meter(emit, call.id, tool.name, label, tier))
        except BaseException:
            self.budget.settle(estimate, 0.0)  # the call never came back: nothing was recorded as spent
            raise
        self.budget.settle(estimate, done.cost_usd)
        if done.stop is not None:
            kind, message = done.stop
            raise BudgetExceeded(message) if kind == "budget" else StorageError(message)
        if done.output is None:
            emit({"type": "tool_failed", "call_id": call.id, "tool": tool.name, "label": label, "error": done.error,
                  "ms": done.ms})
            return ToolResult(call_id=call.id, name=tool.name, ok=False, error=done.error, ms=done.ms, key=key)
        if done.reused:  # a Ray task run again after its worker died found its own first run's result
            emit({"type": "tool_reused", "call_id": call.id, "tool": tool.name, "label": label})
            return ToolResult(call_id=call.id, name=tool.name, ok=True, output=done.output, reused=True, key=key)
        emit({"type": "tool_finished", "call_id": call.id, "tool": tool.name, "label": label, "ms": done.ms,
              "cost_usd": round(done.cost_usd, 4), **({"node": done.node} if done.node else {})})
        return ToolResult(call_id=call.id, name=tool.name, ok=True, output=done.output, ms=done.ms, key=key)

    def cpus(self, tool: Tool) -> float:
        """The Ray resource hint: an encode, or a model on the worker's own CPU, takes a core; a hosted
        model's call waits on the network and takes none."""
        return 1.0 if tool.renders or self.identity(tool)[0] == "local" else 0.0

    def job(self, tool: Tool, args: BaseModel, inputs: Mapping[str, Any], *, key: str, run_id: str, call_id: str,
            seed: int, tier: str = "standard") -> dict[str, Any]:
        """A tool call as plain data for a Ray task: no secrets (workers read their own keys)."""
        settings = self.settings.model_dump(mode="json", exclude=self.settings.secret_fields())
        return {"settings": canonical_json(settings), "root": str(self.store.workspace.root), "family": self.family,
                "database": fingerprint(self.store.workspace.database_url),
                "tool": tool.name, "args": args.model_dump(mode="json"), "inputs": dict(inputs), "key": key,
                "run_id": run_id, "call_id": call_id, "seed": seed, "tier": tier}

    def execute(self, tool: Tool, args: BaseModel, inputs: Mapping[str, Any], *, key: str, run_id: str,
                call_id: str, seed: int, meter: CallMeter | None = None, tier: str = "standard") -> Executed:
        """Run one tool call here and record it in the catalog. On a Ray worker, a call whose key was
        already recorded (its first worker died after finishing) is reused instead."""
        backend, model = self.identity(tool)
        args_json = canonical_json(args.model_dump(mode="json"))
        if meter is None:  # on a Ray worker: notes and retries go back with the result
            notes: list[str] = []
            retries: list[dict[str, Any]] = []
            meter = CallMeter(prices=self.prices.with_tier(tier), report=notes.append, on_retry=retries.append,
                              warn=lambda line: notes.append(f"warning: {line}"))
            reused = self._reuse(tool, key)
            if reused is not None:
                self.catalog.record_call(CallRow(run_id=run_id, call_id=call_id, key=key, tool=tool.name,
                                                 args_json=args_json, result_json=reused.model_dump_json(),
                                                 backend=backend, model=model, ms=0, reused=True))
                return Executed(output=reused.model_dump(mode="json"), error=None, reused=True)
        else:
            notes, retries = [], []
        from director.backends import Job

        ctx = ToolContext(settings=self.settings, backends=self.backends, store=self.store, run_id=run_id, seed=seed,
                          inputs=inputs, report=meter.report, warn=meter.warn,
                          job=Job(key, self.catalog, run_id))
        started = time.perf_counter()
        output: BaseModel | None = None
        error: str | None = None
        stop: tuple[str, str] | None = None
        token = CURRENT_CALL.set(meter)
        try:
            output = tool(args, ctx)
        except BudgetExceeded as exc:  # e.g. a provider's credits ran out: stop the run, resumable
            stop, error = ("budget", str(exc)), str(exc)
        except DirectorError as exc:
            error = str(exc)
        except Exception as exc:
            if disk_full(exc):  # every later call would fail the same way: stop the run, resumable
                error = f"the disk is full writing {getattr(exc, 'filename', None) or self.store.workspace.root}"
                stop = ("storage", f"{error}: free some space, then resume the run")
            else:  # a bug in a tool or backend: keep the run alive, log the traceback
                log.info("tool %s failed", tool.name, exc_info=True)  # the traceback only with -v
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                error = (f"internal error in {tool.name}: {type(exc).__name__}: {first} "
                         f"(traceback in the log with -v)")
        finally:
            CURRENT_CALL.reset(token)
        error = self.settings.redact(error) if error else None
        ms = int((time.perf_counter() - started) * 1000)
        self.catalog.record_call(CallRow(
            run_id=run_id, call_id=call_id, key=key, tool=tool.name, args_json=args_json,
            result_json=output.model_dump_json() if output is not None else None,
            backend=backend, model=model, ms=ms, error=error, cost_usd=meter.cost_usd,
            input_tokens=meter.input_tokens, output_tokens=meter.output_tokens, attempts=1 + len(meter.retries),
            retry_log=canonical_json(meter.retries) if meter.retries else None,
        ))
        return Executed(output=output.model_dump(mode="json") if output is not None else None, error=error,
                        stop=stop, ms=ms, cost_usd=meter.cost_usd, notes=notes, retries=retries)

    def _refuse(self, call: ToolCall, label: str, error: str, emit: Emit) -> ToolResult:
        error = self.settings.redact(error)
        emit({"type": "tool_failed", "call_id": call.id, "tool": call.name, "label": label, "error": error})
        return ToolResult(call_id=call.id, name=call.name, ok=False, error=error)

    def _reuse(self, tool: Tool, key: str) -> BaseModel | None:
        """The memoised output for `key`, if its assets are all still on disk."""
        row = self.catalog.find_memo(key)
        if row is None or row.result_json is None:
            return None
        try:
            output = tool.output.model_validate(json.loads(row.result_json))
        except (ValidationError, ValueError):
            log.warning("memo entry for %s is unreadable; running again", tool.name)
            return None
        if not all(self.store.verify(ref) for ref in asset_refs(output)):
            log.info("memo hit for %s lost an asset file; running again", tool.name)
            return None
        return output
