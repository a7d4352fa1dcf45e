"""What an assistant is told as a run goes: a progress line per event worth one, and what it can do next."""

from __future__ import annotations

from typing import Any


def next_step(status: str, run_id: str, asked: bool) -> str:
    """What an assistant can do next with a run, in a sentence."""
    if asked:
        return ("show the user pending.ask; on their yes call approve (with quote_usd), or revise it, or answer no")
    return {
        "done": "read final.mp4, manifest.json and storyboard.html as resources, or revise the run",
        "running": f"call wait with run_id {run_id} to follow it",
        "queued": f"call wait with run_id {run_id}: it starts when a worker is free",
        "stopped": "it reached its budget: resume it with a budget the user allows",
        "failed": "read error; resume goes on from the last checkpoint",
        "interrupted": "resume goes on from the last checkpoint",
        "cancelled": "resume goes on from the last checkpoint, or fork it with a change",
    }.get(status, "call status again")


def progress_line(event: dict[str, Any]) -> str | None:
    """A progress notification's message for an event (None for the ones not worth a line)."""
    kind = event.get("type")
    if kind == "run_started":
        return f"run {event.get('run_id')} started: {event.get('scenes')} scenes, {event.get('aspect')}"
    if kind == "tool_finished":
        cost = f", ${event['cost_usd']:.3f}" if event.get("cost_usd") else ""
        return f"made {event.get('label')} ({(event.get('ms') or 0) / 1000:.1f} s{cost})"
    if kind == "tool_reused":
        return f"reused {event.get('label')}"
    if kind == "tool_failed":
        return f"failed {event.get('label')}: {event.get('error')}"
    if kind == "warning":
        return f"warning: {event.get('message')}"
    if kind == "brain" and (event.get("say") or event.get("give_up")):
        return str(event.get("say") or event.get("give_up"))
    if kind == "interrupt":
        quote = float(event.get("quote_usd") or 0)
        return f"waiting for approval: about ${quote:.2f} for the paid steps" if quote else "waiting for approval"
    if kind == "run_finished":
        return f"run {event.get('run_id')} {event.get('status')}" + (f": {event['error']}" if event.get("error") else "")
    return None
