"""The agent graph: brain -> tools -> brain ... -> finish.

build_graph() wires injected dependencies; nothing is built at import time.
Each super-step is checkpointed by the checkpointer the caller passes in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import Checkpointer, interrupt

from director.brain import Brain
from director.call_batch import fold
from director.runner import Runner
from director.state import DirectorState, Message

log = logging.getLogger(__name__)

Finish = Callable[[DirectorState], dict[str, Any]]


YES = ("yes", "y", "ok", "approve", "go")
"""The approval gate's yes; "no", "n", "cancel" or "stop" cancels, and anything else is a change."""
ROUNDS = 3
"""The same batch asked for this many turns running, each served whole from the memo, is a plan going in circles."""


def going_round(messages: list[Message], calls: list[Any]) -> bool:
    """Whether `calls` is the batch the brain asked for in each of its last ROUNDS - 1 turns, where every call was
    served from the memo: a brain that will never be satisfied (a state it cannot change), not a retry of a failure."""

    def signature(batch: list[Any]) -> list[tuple[str, str]]:
        return sorted((c.name, repr(sorted(c.args.items()))) for c in batch)

    wanted = signature(calls)
    turns = 0
    for i in range(len(messages) - 1, 0, -1):
        tool, brain = messages[i], messages[i - 1]
        if tool.role == "user":
            return False  # the user said something since: the brain answers that
        if tool.role != "tool" or brain.role != "brain":
            continue
        if signature(brain.calls) != wanted or not tool.results or not all(r.ok and r.reused for r in tool.results):
            return False
        turns += 1
        if turns >= ROUNDS - 1:
            return True
    return False


def build_graph(
    *,
    brain: Brain,
    runner: Runner,
    finish: Finish,
    checkpointer: Checkpointer,
) -> Any:
    tools = runner.tools if runner is not None else {}

    def brain_node(state: DirectorState) -> dict[str, Any]:
        emit = get_stream_writer()
        decision = runner.run_brain(brain, state, emit)
        emit({"type": "brain", "say": decision.say, "calls": len(decision.calls),
                             "done": decision.done, "give_up": decision.give_up})
        if decision.calls and not decision.give_up and going_round(state.messages, decision.calls):
            names = ", ".join(sorted({c.name for c in decision.calls}))
            decision.give_up = (f"the plan went round in a circle: the same {names} three turns running, each served "
                                f"from the memo with nothing new; the run stops here rather than at its step limit")
            decision.calls = []
        update: dict[str, Any] = {
            "calls": decision.calls,
            "messages": [Message(role="brain", text=decision.give_up or decision.say, calls=decision.calls)],
        }
        if decision.give_up:
            update.update(status="failed", error=decision.give_up, calls=[])
        return update

    def route_after_brain(state: DirectorState) -> Literal["gate", "finish"]:
        # A batch to run goes past the approval gate; a finished or abandoned plan gets published.
        return "gate" if state.calls and state.status == "running" else "finish"

    def gate_node(state: DirectorState) -> dict[str, Any]:
        asked = state.goal.approve and any(tools[c.name].gated for c in state.calls if c.name in tools)
        if state.approved or not state.calls:
            return {}
        quote = runner.quote(state)
        over = runner.budget.over(quote["usd"])  # a default cap that the rest would pass
        if not (asked or over):
            return {}
        if not over and state.approvals and quote["usd"] <= 0:
            return {}  # a revision after approval that costs nothing does not ask again
        # interrupt() runs this node again from the top on resume: everything above is
        # side-effect free, and the preview below rewrites the same file.
        preview = finish.preview(state) if hasattr(finish, "preview") else None
        answer = interrupt({"quote_usd": quote["usd"], "steps": quote["steps"], "by_tool": quote["by_tool"],
                            "spent_usd": round(runner.budget.spent, 4), "storyboard": preview,
                            "cap_usd": runner.budget.limit if over else None,
                            "ask": "approve the paid steps? yes, no, or a change"})
        text = str(answer).strip()
        if text.lower() in YES:
            if runner.budget.default:
                runner.raise_cap(state.run_id, quote["usd"])
            return {"approved": True, "approvals": state.approvals + 1,
                    "messages": [Message(role="user", text="approved", intent="approval")]}
        if text.lower() in ("no", "n", "cancel", "stop"):
            return {"status": "cancelled", "error": "cancelled at the approval gate", "calls": [],
                    "messages": [Message(role="user", text="cancelled", intent="approval")]}
        return {"calls": [], "messages": [Message(role="user", text=text, intent="revision")]}

    def route_after_gate(state: DirectorState) -> Literal["tools", "brain", "finish"]:
        # Approved (or nothing to approve) runs the batch; a change goes back to the brain; no ends it.
        if state.status != "running":
            return "finish"
        return "tools" if state.calls else "brain"

    def tools_node(state: DirectorState) -> dict[str, Any]:
        results = runner.run_batch(state, state.calls, get_stream_writer())
        board = fold(state.storyboard, state.calls, results, tools)
        return {"storyboard": board, "calls": [],
                "messages": [Message(role="tool", results=[r.for_log() for r in results])]}

    def finish_node(state: DirectorState) -> dict[str, Any]:
        return finish(state)

    graph = StateGraph(DirectorState)
    graph.add_node("brain", brain_node)
    graph.add_node("gate", gate_node)
    graph.add_node("tools", tools_node)
    graph.add_node("finish", finish_node)
    graph.add_edge(START, "brain")  # every run starts by asking the brain what is missing
    graph.add_conditional_edges("brain", route_after_brain, ["gate", "finish"])
    graph.add_conditional_edges("gate", route_after_gate, ["tools", "brain", "finish"])
    graph.add_edge("tools", "brain")  # results always go back to the brain
    graph.add_edge("finish", END)  # publishing ends the run
    return graph.compile(checkpointer=checkpointer)
