"""The run's message log as a conversation a function-calling API accepts.

The log is written in the order things happened: the brain's calls, then
perhaps a user's word at the approval gate ("approved", or a change), then
the tool results; a change at the gate means the calls never ran at all; a
crash can leave calls with no results. Function-calling APIs refuse that:

- a model turn with N function calls is followed at once by one user turn
  whose first N parts answer them, with the same names, ids and order;
- a function response answers a call of the turn just before it, and only then;
- a function-call turn follows a user turn (never another model turn, never
  the start of the conversation), and the conversation ends with a user turn;
- thought signatures go back on the parts they came on.

conversation() is the one place that enforces this. It is pure, so it reads
runs saved in any order, including runs saved before it existed: calls with
no result get a response saying why they did not run (the user asked for a
change, cancelled, or the run stopped), and user words that came between a
call turn and its responses move after the responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from director.state import Message, ToolCall

Role = Literal["user", "model"]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Call:
    """A function call as the model made it (its id and thought signature included)."""

    call: ToolCall


@dataclass(frozen=True)
class Response:
    """The answer to one call: the tool's output, or an error the model reads."""

    call: ToolCall
    output: dict | None = None
    error: str | None = None


Part = Text | Call | Response


@dataclass
class Turn:
    role: Role
    parts: list[Part] = field(default_factory=list)

    @property
    def calls(self) -> list[ToolCall]:
        return [p.call for p in self.parts if isinstance(p, Call)]


CONTINUE = "Continue."


def conversation(messages: list[Message]) -> list[Turn]:
    """The log as alternating user/model turns that obey the function-calling rules above."""
    turns: list[Turn] = []
    pending: list[ToolCall] = []  # calls of the last model turn, still unanswered
    saved = {r.call_id: r for m in messages if m.role == "tool" for r in m.results}  # wherever they landed
    answered: set[str] = set()  # pending calls whose results have been read so far
    held: list[Message] = []  # user words that arrived while calls were pending

    def add(role: Role, parts: list[Part]) -> None:
        if not parts:
            return
        if turns and turns[-1].role == role:
            turns[-1].parts.extend(parts)
        else:
            turns.append(Turn(role, list(parts)))

    def settle() -> None:
        """Answer every pending call (results, or why it did not run), then the held words."""
        if pending:
            why = _not_run_reason(held)
            parts: list[Part] = []
            for call in pending:
                result = saved.get(call.id)
                if result is None:
                    parts.append(Response(call, error=why))
                elif result.ok:
                    parts.append(Response(call, output=result.output or {}))
                else:
                    parts.append(Response(call, error=result.error or "failed"))
            turns.append(Turn("user", parts))  # always a turn of its own, right after the calls
            pending.clear()
            answered.clear()
        add("user", [Text(m.text) for m in held if m.text.strip()])
        held.clear()

    for message in messages:
        if message.role == "user":
            if pending:
                held.append(message)
            elif message.text.strip():
                add("user", [Text(message.text)])
        elif message.role == "tool":
            ids = {c.id for c in pending}
            answered.update(r.call_id for r in message.results if r.call_id in ids)
            # Results of calls that are not pending (already answered, or never asked) have no
            # call turn to follow; they are dropped rather than sent as orphans.
            if pending and all(c.id in answered for c in pending):
                settle()
        else:  # the brain
            settle()
            if not message.calls and not message.text.strip():
                continue
            if not turns or message.calls and turns[-1].role == "model" and turns[-1].calls:
                add("user", [Text(CONTINUE)])  # the model speaks after a user turn, never first
            if message.calls:
                add("model", [Call(c) for c in message.calls])
                pending.extend(message.calls)
            else:
                add("model", [Text(message.text)])
    settle()
    if not turns or turns[-1].role == "model":
        add("user", [Text(CONTINUE)])
    return turns


def _not_run_reason(held: list[Message]) -> str:
    """Why calls got no result, from what the user said while they waited."""
    for message in held:
        if message.intent == "revision" and message.text.strip():
            return f"not run: the user asked for a change instead: {message.text.strip()}"
        if message.intent == "approval" and message.text.strip().lower() == "cancelled":
            return "not run: the user cancelled the paid steps at the approval gate"
    return "not run: the run stopped before this call ran; call it again if it is still needed"
