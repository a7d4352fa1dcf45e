"""A model brain: a function-calling model (Gemini, or an OpenAI-compatible server) reads the conversation and
answers with function calls.

The conversation is the run's message log (goal, calls, results), sent with
the registry's declarations; the model may batch several calls in one turn.
Its mistakes (unknown tools, bad arguments) come back to it as errors from
the runner. It stops when it answers without calls; a run without a final
video at that point ends as failed, with the model's words as the reason.
"""

from __future__ import annotations

from typing import Protocol

from director.brain import Decision, summarize
from director.prompting import render
from director.state import DirectorState, Message, ToolCall
from director.tools import declarations

MAX_FAILED_TURNS = 3


class ChatModel(Protocol):
    name: str
    model: str

    def turn(self, *, system: str, messages: list[Message], declarations: list[dict]) -> object: ...


class ModelBrain:
    def __init__(self, chat: ChatModel, *, retries: int = 2) -> None:
        self.chat = chat
        self.retries = retries
        self.name = chat.name
        self.model = chat.model
        self.paid = bool(getattr(chat, "paid", True))
        """Whether its turns cost money: a server of the user's own says it does not."""

    def decide(self, state: DirectorState) -> Decision:
        stuck = _failed_turns(state)
        if stuck >= MAX_FAILED_TURNS:
            last = state.messages[-1].results[-1].error if state.messages[-1].results else "unknown"
            return Decision(give_up=f"the model's last {stuck} batches of calls all failed; last error: {last}")
        goal = state.goal
        footage = state.storyboard.footage if state.storyboard else []
        system = render("system.md", goal=goal.text, scenes=goal.scenes, aspect=goal.aspect, mode=goal.mode,
                        style=goal.style or "diorama", audio=goal.audio, sources=footage, approve=goal.approve,
                        music=state.finish.music, duration=goal.duration)
        messages = list(state.messages)
        offered = declarations(mode=goal.mode)  # only the tools this run's mode can use
        turn = self.chat.turn(system=system, messages=messages, declarations=offered)
        tries = 1
        while getattr(turn, "problem", None) and tries <= self.retries:
            # A bad reply is not the run's end: tell the model what was wrong and ask again.
            # The note goes to this request only; the log keeps what really happened.
            note = render("retry.md", problem=turn.problem, detail=turn.detail)  # type: ignore[attr-defined]
            messages.append(Message(role="user", text=note))
            turn = self.chat.turn(system=system, messages=messages, declarations=offered)
            tries += 1
        if getattr(turn, "problem", None):
            return Decision(give_up=f"the model gave no usable reply in {tries} tries; the last was "
                                    f"{turn.problem}: {turn.detail}")  # type: ignore[attr-defined]
        step = len(state.messages)
        calls = [
            ToolCall(id=f"g{step}.{i}", name=c.name, args=c.args, model_id=c.id, signature=c.signature)
            for i, c in enumerate(turn.calls, start=1)  # type: ignore[attr-defined]
        ]
        text = (turn.text or "").strip()  # type: ignore[attr-defined]
        if calls:
            return Decision(calls=calls, say=text.splitlines()[0][:200] if text else summarize(calls))
        board = state.storyboard
        if board is not None and board.final is not None:
            return Decision(done=True, say=text[:300] or f"Finished “{board.title}”.")
        broken = [s for s in board.scenes if s.error] if board else []
        detail = "; ".join(f"scene {s.index}: {s.error}" for s in broken)
        reason = f"the model stopped without a final video: {text[:300] or 'no reason given'}"
        return Decision(give_up=f"{reason} ({detail})" if detail else reason)


def _failed_turns(state: DirectorState) -> int:
    """How many of the latest tool batches failed entirely, in a row, since the user last spoke (a resume or a
    change is a fresh start: the batches before it do not count against the model)."""
    count = 0
    for message in reversed(state.messages):
        if message.role == "user":
            break
        if message.role != "tool":
            continue
        if message.results and not any(r.ok for r in message.results):
            count += 1
        else:
            break
    return count
