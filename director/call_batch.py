"""A batch of tool calls, as pure functions: which calls must wait for which (their scopes overlap and
their tools conflict), and what the batch's results make of the storyboard (fold)."""

from __future__ import annotations

from collections.abc import Mapping

from director.state import Storyboard, ToolCall, ToolResult
from director.tooling import Tool


def overlaps(a: tuple[str, int | str] | None, b: tuple[str, int | str] | None) -> bool:
    """Whether two call scopes can touch the same thing (scenes, videos and characters are not comparable)."""
    return a is None or b is None or a[0] != b[0] or a == b


def conflicts(first: Tool, then: Tool) -> bool:
    """Whether `then` must wait for `first` when both touch the same scope."""
    return bool((first.writes | first.clears) & then.reads or first.reads & (then.writes | then.clears)
                or first.writes & then.writes)


def fold(
    board: Storyboard | None,
    calls: list[ToolCall],
    results: list[ToolResult],
    tools: Mapping[str, Tool],
) -> Storyboard | None:
    """Apply a batch's outputs to a copy of the storyboard; failed scene calls mark the scene."""
    board = board.model_copy(deep=True) if board is not None else None
    by_id = {c.id: c for c in calls}
    for result in results:
        call, tool = by_id.get(result.call_id), tools.get(result.name)
        if call is None or tool is None:
            continue
        if result.ok and tool.apply is not None and result.output is not None:
            args = tool.input.model_validate(call.args)
            board = tool.apply(board, args, tool.output.model_validate(result.output))
        elif not result.ok and board is not None and isinstance(call.args.get("scene"), int):
            try:
                # Kept under the part the tool makes, so whatever sets that part clears it.
                part = next(iter(tool.writes)) if len(tool.writes) == 1 else tool.name
                board.scene(call.args["scene"]).errors[part] = f"{result.name}: {result.error or 'failed'}"
            except KeyError:
                pass  # the call named a scene that does not exist; the brain read the error
    return board
