"""Turn LangGraph state snapshots into a readable history: what each step changed."""

from __future__ import annotations

from collections import Counter
from typing import Any

from director.state import DirectorState, Storyboard


def _state(values: Any) -> DirectorState | None:
    if not values:
        return None
    if isinstance(values, DirectorState):
        return values
    try:
        return DirectorState.model_validate(values)
    except Exception:
        return None


def _scene_changes(before: Storyboard | None, after: Storyboard | None) -> list[str]:
    if after is None:
        return []
    if before is None:
        return [f"story “{after.title}” with {len(after.scenes)} scenes"]
    out: list[str] = []
    for field in ("image", "audio", "clip"):
        changed = []
        for s in after.scenes:
            old = next((o for o in before.scenes if o.index == s.index), None)
            new_ref, old_ref = getattr(s, field), getattr(old, field) if old else None
            if new_ref is not None and (old_ref is None or old_ref.sha256 != new_ref.sha256):
                changed.append(str(s.index))
        if changed:
            out.append(f"{field} for scene {', '.join(changed)}")
    errors = [f"scene {s.index} failed" for s in after.scenes if s.error and not any(
        o.index == s.index and o.error == s.error for o in before.scenes)]
    out += errors
    if after.final is not None and (before.final is None or before.final.video.sha256 != after.final.video.sha256):
        total = sum(t.duration for t in after.final.timings)
        out.append(f"final cut {total:.1f} s")
    return out


def describe_change(prev: DirectorState | None, cur: DirectorState | None, node: str) -> str:
    if cur is None:
        return "run created"
    if prev is None:
        return f"goal: {cur.goal.text}"
    parts: list[str] = []
    if node == "brain":
        if cur.calls:
            counts = Counter(c.name for c in cur.calls)
            parts.append("planned " + ", ".join(f"{n}×{name}" for name, n in counts.items()))
        elif cur.status == "failed" and prev.status != "failed":
            parts.append(f"gave up: {cur.error}")
        else:
            parts.append("done: nothing left to make")
    elif node == "gate":
        if cur.status == "cancelled" and prev.status != "cancelled":
            parts.append("cancelled at the approval gate")
        elif cur.approvals > prev.approvals:
            parts.append("approved")
        elif cur.messages and len(cur.messages) > len(prev.messages):
            parts.append(f"change at the gate: {cur.messages[-1].text}")
        else:
            parts.append("passed (no approval needed)")
    elif node == "tools":
        parts += _scene_changes(prev.storyboard, cur.storyboard)
        last = cur.messages[-1] if cur.messages and cur.messages[-1].role == "tool" else None
        for result in last.results if last is not None else []:
            changed = (result.output or {}).get("changed") if result.ok else None
            if isinstance(changed, list) and changed:  # a revision says what it changed
                parts.append("revised: " + ", ".join(map(str, changed)))
        if last is not None:
            reused = sum(r.reused for r in last.results)
            failed = sum(not r.ok for r in last.results)
            parts.append(f"{len(last.results)} calls ({reused} reused, {failed} failed)")
    elif node == "finish":
        parts.append(f"status {cur.status}" + (f": published {', '.join(cur.outputs)}" if cur.outputs else ""))
    else:
        if cur.messages and len(cur.messages) > len(prev.messages) and cur.messages[-1].role == "user":
            parts.append(f"user: {cur.messages[-1].text}")
    return "; ".join(parts) or "no change"


def describe_history(snapshots: list[Any]) -> list[dict[str, Any]]:
    """Newest-first rows: checkpoint, parent, step, the node that produced it, what changed.

    Each checkpoint is compared with its parent (not with the one before it in time),
    so branches made by replays read correctly.
    """
    by_id = {snap.config["configurable"]["checkpoint_id"]: snap for snap in snapshots}
    rows: list[dict[str, Any]] = []
    for snap in snapshots:
        meta = snap.metadata or {}
        parent_id = (snap.parent_config or {}).get("configurable", {}).get("checkpoint_id") if snap.parent_config else None
        parent = by_id.get(parent_id) if parent_id else None
        if parent is not None and parent.next:
            node = ",".join(parent.next)
        else:
            node = meta.get("source") or ""
        node = "input" if node in ("__start__", "input") else node
        if meta.get("source") == "update":
            node = "edit"  # written by resume/say/fork through update_state
        prev_state = _state(parent.values) if parent is not None else None
        cur = _state(snap.values)
        change = describe_change(prev_state, cur, node)
        if node == "edit" and cur is not None and cur.messages and cur.messages[-1].role == "user":
            change = f"{cur.messages[-1].intent or 'user'}: {cur.messages[-1].text}"
        if snap.interrupts:
            quote = snap.interrupts[0].value if isinstance(snap.interrupts[0].value, dict) else {}
            change += f"; waiting for approval (quote ${quote.get('quote_usd', 0):.2f})"
        rows.append({
            "checkpoint": snap.config["configurable"]["checkpoint_id"],
            "parent": parent_id,
            "step": meta.get("step"),
            "node": node,
            "created": snap.created_at,
            "next": list(snap.next),
            "change": change,
        })
    return rows
