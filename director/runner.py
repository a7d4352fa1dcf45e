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
from director.config import Settings
from director.errors import DirectorError
from director.state import DirectorState, ToolCall, ToolResult
from director.store import AssetStore, Catalog, CallRow, canonical_json
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
    ) -> None:
        self.settings = settings
        self.backends = backends
        self.store = store
        self.catalog = catalog
        self.tools = tools

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
            "render": {"fps": self.settings.fps, "crf": self.settings.crf, "preset": self.settings.x264_preset},
        }
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    def run_batch(self, state: DirectorState, calls: list[ToolCall], emit: Emit) -> list[ToolResult]:
        """Run calls concurrently (bounded by settings.workers); results in call order."""
        lock = threading.Lock()

        def safe_emit(event: dict[str, Any]) -> None:
            with lock:
                emit(event)

        async def main() -> list[ToolResult]:
            gate = asyncio.Semaphore(self.settings.workers)

            async def one(call: ToolCall) -> ToolResult:
                async with gate:
                    return await asyncio.to_thread(self.run_one, state, call, safe_emit)

            return list(await asyncio.gather(*(one(c) for c in calls)))

        # A fresh thread owns the event loop, so this works even when the caller
        # already runs one (notebooks, async web handlers). The copied context
        # carries LangGraph's run config, which its stream writer needs.
        context = contextvars.copy_context()
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(context.run, asyncio.run, main()).result()

    def run_one(self, state: DirectorState, call: ToolCall, emit: Emit) -> ToolResult:
        label = describe_call(call)
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

        emit({"type": "tool_started", "call_id": call.id, "tool": tool.name, "label": label})
        ctx = ToolContext(
            settings=self.settings,
            backends=self.backends,
            store=self.store,
            run_id=state.run_id,
            seed=seed,
            inputs=inputs,
            report=lambda note: emit({"type": "tool_progress", "call_id": call.id, "tool": tool.name,
                                      "label": label, "note": note}),
        )
        started = time.perf_counter()
        output: BaseModel | None = None
        error: str | None = None
        try:
            output = tool(args, ctx)
        except DirectorError as exc:
            error = str(exc)
        except Exception as exc:  # a bug in a tool or backend: keep the run alive, log the traceback
            log.exception("tool %s failed", tool.name)
            error = f"internal error in {tool.name}: {type(exc).__name__}: {exc}"
        ms = int((time.perf_counter() - started) * 1000)
        self.catalog.record_call(CallRow(
            run_id=state.run_id, call_id=call.id, key=key, tool=tool.name, args_json=args_json,
            result_json=output.model_dump_json() if output is not None else None,
            backend=backend, model=model, ms=ms, error=error,
        ))
        if output is None:
            emit({"type": "tool_failed", "call_id": call.id, "tool": tool.name, "label": label, "error": error, "ms": ms})
            return ToolResult(call_id=call.id, name=tool.name, ok=False, error=error, ms=ms, key=key)
        emit({"type": "tool_finished", "call_id": call.id, "tool": tool.name, "label": label, "ms": ms})
        return ToolResult(call_id=call.id, name=tool.name, ok=True, output=output.model_dump(mode="json"), ms=ms, key=key)

    def _refuse(self, call: ToolCall, label: str, error: str, emit: Emit) -> ToolResult:
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
        if not all(self.store.exists(ref) for ref in asset_refs(output)):
            log.info("memo hit for %s lost an asset file; running again", tool.name)
            return None
        return output
