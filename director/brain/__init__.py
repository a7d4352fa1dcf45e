"""What decides the next tool calls. Every brain returns a Decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from director.state import DirectorState, ToolCall


@dataclass
class Decision:
    """The brain's answer for one step."""

    calls: list[ToolCall] = field(default_factory=list)
    """Calls to run now, concurrently: none of them depends on another."""
    say: str = ""
    """One line for the user."""
    done: bool = False
    """The goal is met; publish."""
    give_up: str | None = None
    """Why the run cannot go on (it stops as failed and can be resumed later)."""


@dataclass
class ModelCall:
    """One function call in a model's reply, as the model made it."""

    id: str | None
    name: str
    args: dict[str, Any]
    signature: str | None = None


@dataclass
class BrainTurn:
    """A function-calling model's reply, whichever API it came through."""

    text: str = ""
    calls: list[ModelCall] = field(default_factory=list)
    problem: str | None = None
    """Why the reply is unusable, when it is: MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
    MAX_TOKENS, BLOCKED or EMPTY. The brain retries these with a corrective note."""
    detail: str = ""


class Brain(Protocol):
    name: str
    model: str

    def decide(self, state: DirectorState) -> Decision: ...


def last_results(state: DirectorState) -> list:
    """Results of the most recent tool batch, if the last message holds them."""
    if state.messages and state.messages[-1].role == "tool":
        return state.messages[-1].results
    return []


def summarize(calls: list) -> str:
    """'Next: 3×create_image, 3×narrate.' (the approval gate may still hold them back)."""
    counts: dict[str, int] = {}
    for c in calls:
        counts[c.name] = counts.get(c.name, 0) + 1
    return "Next: " + ", ".join(f"{n}×{name}" for name, n in counts.items()) + "."
