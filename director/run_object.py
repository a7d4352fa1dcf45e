"""The run object of the HTTP API: a run's catalog row and newest checkpoint, with asset URLs."""

from __future__ import annotations

from typing import Any

from director.state import DirectorState


def asset_url(sha: str | None) -> str | None:
    return f"/api/assets/{sha}" if sha else None


def describe_run(row: Any, state: DirectorState | None, asked: dict[str, Any] | None, *, status: str,
                 cost: float) -> dict[str, Any]:
    """The run object of the API: the catalog row and the newest checkpoint, with asset URLs."""
    board = state.storyboard if state else None
    scenes = []
    for s in board.scenes if board else []:
        scene_status = ("failed" if s.errors else "animated" if s.clip else "drawn" if s.image
                        else "written")
        verdict = s.continuity if s.continuity and s.image and s.continuity.image == s.image.sha256 else None
        scenes.append({"number": s.index, "prompt": s.image_prompt, "narration": s.narration,
                       "status": scene_status, "error": s.error, "image": asset_url(s.image.sha256 if s.image else None),
                       "audio": asset_url(s.audio.sha256 if s.audio else None), "clip": asset_url(s.clip.sha256 if s.clip else None),
                       "continuity": {"score": verdict.score, "passed": verdict.passed, "reasons": verdict.reasons,
                                      "retakes": s.retakes} if verdict else None})
    characters = [{"name": c.name, "kind": c.kind, "look": c.look, "sheet": asset_url(c.sheet.sha256 if c.sheet else None)}
                  for c in (board.characters if board else [])]
    characters += [{"name": p.name, "kind": "place", "look": p.look, "sheet": asset_url(p.sheet.sha256 if p.sheet else None)}
                   for p in (board.places if board else [])]
    final = board.final if board else None
    pending = None
    if asked is not None:
        pending = {k: asked.get(k) for k in ("ask", "quote_usd", "by_tool", "steps", "spent_usd", "cap_usd")}
    goal = state.goal if state else None
    return {
        "id": row.id, "status": status, "goal": row.goal, "backend": row.backend,
        "aspect": (board.aspect if board and board.aspect else None) or (goal.aspect if goal else None),
        "mode": goal.mode if goal else None, "title": board.title if board else None,
        "created": row.created.isoformat(timespec="seconds"), "error": row.error if status != "done" else None,
        "cost_usd": round(cost, 4), "budget_usd": row.budget_usd,
        "parent": row.parent_run, "parent_checkpoint": row.parent_checkpoint,
        "characters": characters, "scenes": scenes, "pending": pending,
        "final": asset_url(final.video.sha256) if final else None,
        "subtitles": f"/api/runs/{row.id}/subtitles.vtt" if final else None,
    }
