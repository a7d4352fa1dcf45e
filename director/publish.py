"""The finish step: put a run's outputs in runs/<run_id>/ and describe them.

final.mp4 and subtitles.srt are hard links to the content-addressed assets
(so forks and re-runs share bytes); storyboard.html and manifest.json are
written for this run. Every write replaces the whole file atomically, so the
step can run again after a crash without harm.
"""

from __future__ import annotations

import html
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from director.backends import Backends
from director.brain import Brain
from director.config import Settings
from director.errors import DirectorError
from director.state import AssetRef, Character, DirectorState, Place, Storyboard
from director.store import AssetStore, Catalog, Workspace
from director.version import __version__

log = logging.getLogger(__name__)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class Publisher:
    workspace: Workspace
    store: AssetStore
    catalog: Catalog
    settings: Settings
    backends: Backends
    brain: Brain

    def __call__(self, state: DirectorState) -> dict[str, Any]:
        run_dir = self.workspace.run_dir(state.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        board = state.storyboard
        outputs: dict[str, str] = {}
        damaged = [ref.path for ref in (board.final.video, board.final.subtitles)
                   if not self.store.verify(ref)] if board is not None and board.final is not None else []
        if damaged and state.status == "running":
            # Never publish bytes that are not what was made: the cut is made again on resume.
            board = board.model_copy(update={"final": None})  # type: ignore[union-attr]
            state = state.model_copy(update={"storyboard": board, "status": "failed", "error": (
                f"the assembled video is damaged or missing on disk ({', '.join(damaged)}); "
                f"director resume {state.run_id} assembles it again")})
        if state.status == "running" and board is not None and board.final is not None:
            self.store.publish(board.final.video, run_dir / "final.mp4")
            self.store.publish(board.final.subtitles, run_dir / "subtitles.srt")
            outputs = {"final.mp4": f"runs/{state.run_id}/final.mp4",
                       "subtitles.srt": f"runs/{state.run_id}/subtitles.srt"}
            if self.timeline(state, run_dir / "timeline.otio"):
                outputs["timeline.otio"] = f"runs/{state.run_id}/timeline.otio"
            status, error = "done", None
        elif state.status == "cancelled":
            status, error = "cancelled", state.error
        else:
            status = "failed"
            error = state.error or "the run ended without a final video"
        if board is not None:
            write_atomic(run_dir / "storyboard.html", storyboard_html(board, state, run_dir, self.workspace,
                                                                         self.store.path))
            outputs["storyboard.html"] = f"runs/{state.run_id}/storyboard.html"
        outputs["manifest.json"] = f"runs/{state.run_id}/manifest.json"
        manifest = self.manifest(state, status, error, outputs)
        write_atomic(run_dir / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        final = str(self.workspace.abspath(outputs["final.mp4"])) if "final.mp4" in outputs else None
        self.catalog.update_run(state.run_id, status=status, error=error, final_path=final)
        update: dict[str, Any] = {"status": status, "error": error, "outputs": outputs}
        if damaged:
            update["storyboard"] = board
            (run_dir / "final.mp4").unlink(missing_ok=True)  # no stale or partial cut next to a failed run
        return update

    def timeline(self, state: DirectorState, out: Path) -> bool:
        """timeline.otio next to the cut; a timeline that cannot be written is a warning, never a lost video."""
        from director.timeline import build_timeline, write_timeline

        try:
            write_timeline(build_timeline(state, self.workspace, self.settings.fps, self.store.path), out)
            return True
        except (DirectorError, OSError, ValueError) as exc:
            log.warning("no timeline.otio for run %s: %s", state.run_id, self.settings.redact(str(exc)))
            out.unlink(missing_ok=True)
            return False

    def preview(self, state: DirectorState) -> str | None:
        """storyboard.html as it stands (for the approval gate); its absolute path."""
        if state.storyboard is None:
            return None
        run_dir = self.workspace.run_dir(state.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / "storyboard.html"
        write_atomic(path, storyboard_html(state.storyboard, state, run_dir, self.workspace,
                                                    self.store.path))
        return str(path)

    def manifest(self, state: DirectorState, status: str, error: str | None, outputs: dict[str, str]) -> dict[str, Any]:
        board = state.storyboard
        rows = self.catalog.run_calls(state.run_id)
        calls = [c for c in rows if c.tool != "brain"]
        turns = [c for c in rows if c.tool == "brain"]
        run = self.catalog.get_run(state.run_id)
        # The full prompt behind each picture: the output of whichever call made that very image.
        image_prompts: dict[str, str] = {}
        for row in calls:
            result = json.loads(row.result_json) if row.result_json else {}
            image = result.get("image") if isinstance(result, dict) else None
            if isinstance(image, dict) and image.get("sha256") and isinstance(result.get("prompt"), str):
                image_prompts[image["sha256"]] = result["prompt"]
        scenes = []
        if board is not None:
            timings = {t.index: t for t in board.final.timings} if board.final else {}
            for s in board.scenes:
                t = timings.get(s.index)
                scenes.append({
                    "index": s.index,
                    "image_prompt": s.image_prompt,
                    "full_image_prompt": image_prompts.get(s.image.sha256) if s.image else None,
                    "shot": s.shot,
                    "motion": s.motion,
                    "narration": s.narration,
                    # what the characters say, and who speaks when in the audio (seconds into it)
                    "lines": [line.model_dump() for line in s.lines],
                    "speech": [p.model_dump() for p in s.speech],
                    "image": _asset(s.image),
                    "audio": _asset(s.audio),
                    "clip": _asset(s.clip),
                    # The clip carries its model's sound (under the voice); how it was made if not as asked.
                    "clip_sound": s.clip_sound,
                    "clip_note": s.clip_note,
                    "start": t.start if t else None,
                    "duration": t.duration if t else None,
                    # The reference sheets the still was drawn from, and how well it matched them.
                    "references": [{"character" if isinstance(c, Character) else "place": c.name,
                                    **(_asset(c.sheet) or {})} for c in board.references_of(s.index)],
                    "continuity": {"score": s.continuity.score, "passed": s.continuity.passed,
                                   "reasons": s.continuity.reasons, "retakes": s.retakes,
                                   "threshold": state.goal.continuity}
                    if s.continuity and s.image and s.continuity.image == s.image.sha256 else None,
                    "error": s.error,
                })
        executed = [c for c in calls if not c.reused and c.error is None]
        return {
            "director_version": __version__,
            "run_id": state.run_id,
            "status": status,
            "error": error,
            "created": run.created.isoformat() if run else None,
            "published": datetime.now(UTC).isoformat(),
            "goal": state.goal.model_dump(),
            # What the video is now, after any revision ("now 9:16", "voice …", "faster narration").
            "aspect": (board.aspect if board else None) or state.goal.aspect,
            "voice": (board.voice if board else None) or state.goal.voice,
            # How the scenes join in the cut, and by how much they overlap (0 for cuts).
            "transition": {"kind": board.final.transition, "seconds": board.final.overlap}
            if board is not None and board.final is not None else None,
            "pace": board.pace if board else 1.0,
            "seed": state.goal.seed,
            "backends": {"brain": {"backend": self.brain.name, "model": self.brain.model}, **self.backends.describe(),
                         "assemble": {"backend": "local", "model": "ffmpeg"}},
            "settings": self.settings.public_dict(),
            "title": board.title if board else None,
            "art_style": board.art_style if board else None,
            "narrator": board.narrator if board else None,
            "characters": [c.model_dump() for c in board.characters] if board else [],
            "places": [p.model_dump() for p in board.places] if board else [],
            "music": _asset(board.music) if board else None,
            "scenes": scenes,
            "outputs": {name: {"path": rel, **_file_info(self.workspace.abspath(rel))} for name, rel in outputs.items()
                        if name in ("final.mp4", "subtitles.srt", "timeline.otio")},
            "final": _asset(board.final.video) if board and board.final else None,
            "calls": [
                {"call_id": c.call_id, "tool": c.tool, "args": json.loads(c.args_json), "backend": c.backend,
                 "model": c.model, "key": c.key, "ms": c.ms, "reused": c.reused, "error": c.error,
                 "cost_usd": round(c.cost_usd, 6), "input_tokens": c.input_tokens, "output_tokens": c.output_tokens,
                 "attempts": c.attempts, "retries": json.loads(c.retry_log) if c.retry_log else []}
                for c in calls
            ],
            "brain_turns": [
                {"call_id": t.call_id, "backend": t.backend, "model": t.model, "ms": t.ms, "error": t.error,
                 "cost_usd": round(t.cost_usd, 6), "input_tokens": t.input_tokens, "output_tokens": t.output_tokens,
                 "attempts": t.attempts}
                for t in turns
            ],
            "totals": {
                "calls": len(calls),
                "executed": len(executed),
                "reused": sum(1 for c in calls if c.reused),
                "failed": sum(1 for c in calls if c.error),
                "retries": sum(c.attempts - 1 for c in rows),
                "tool_ms": sum(c.ms for c in calls),
                "brain_turns": len(turns),
                "input_tokens": sum(c.input_tokens for c in rows),
                "output_tokens": sum(c.output_tokens for c in rows),
                "cost_usd": round(sum(c.cost_usd for c in rows), 6),
                "budget_usd": run.budget_usd if run else None,
            },
        }


def _asset(ref: AssetRef | None) -> dict[str, Any] | None:
    return ref.model_dump(exclude_none=True) if ref else None


def _file_info(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size} if path.is_file() else {}


def storyboard_html(board: Storyboard, state: DirectorState, run_dir: Path, workspace: Workspace,
                    locate: Callable[[AssetRef], Path] | None = None) -> str:
    """The contact sheet; locate gives each asset's local file (fetching it from a shared store)."""
    def rel(ref: AssetRef | None) -> str | None:
        return os.path.relpath(locate(ref) if locate else workspace.abspath(ref.path), run_dir) if ref else None

    e = html.escape
    timings = {t.index: t for t in board.final.timings} if board.final else {}
    cards = []
    for s in board.scenes:
        image, clip, t = rel(s.image), rel(s.clip), timings.get(s.index)
        media = (f'<video src="{e(clip)}" poster="{e(image or "")}" controls muted loop></video>' if clip
                 else f'<img src="{e(image)}" alt="scene {s.index}">' if image else '<div class="missing">no image yet</div>')
        when = f"{t.start:.2f}s – {t.start + t.duration:.2f}s" if t else ""
        error = f'<p class="error">{e(s.error)}</p>' if s.error else ""
        motion = (f'<p class="prompt"><b>Camera:</b> {e(s.shot)}{"; " if s.shot and s.motion else ""}{e(s.motion)}</p>'
                  if s.shot or s.motion else "")
        note = f'<p class="note">{e(s.clip_note)}</p>' if s.clip_note else ""
        verdict = s.continuity if s.continuity and s.image and s.continuity.image == s.image.sha256 else None
        check = ""
        if verdict is not None:
            names = ", ".join(c.name for c in board.references_of(s.index) if isinstance(c, Character))
            redrawn = f", redrawn {s.retakes}×" if s.retakes else ""
            reasons = "".join(f"<li>{e(r)}</li>" for r in verdict.reasons)
            check = (f'<p class="continuity {"ok" if verdict.passed else "low"}"><b>Continuity</b> with {e(names)}: '
                     f'{verdict.score:.2f}{" ✓" if verdict.passed else " (under " + format(state.goal.continuity, ".2f") + ")"}'
                     f'{redrawn}</p>' + (f'<ul class="reasons">{reasons}</ul>' if reasons else ""))
        said = "".join(f'<p class="line"><b>{e(line.speaker)}:</b> “{e(line.text)}”</p>' for line in s.lines)
        cards.append(f"""<section class="scene">
  {media}
  <h2>Scene {s.index} <small>{e(when)}</small></h2>
  <p class="narration">{e(s.narration)}</p>{said}
  <p class="prompt"><b>Prompt:</b> {e(s.image_prompt)}</p>{motion}{note}{check}{error}
</section>""")
    def member(c: Character | Place) -> str:
        sheet = f'<img class="sheet" src="{e(rel(c.sheet) or "")}" alt="{e(c.name)}\'s reference sheet">' if c.sheet else ""
        kind = c.kind if isinstance(c, Character) else "place"
        voice = f' <small>voice: {e(c.voice)}</small>' if isinstance(c, Character) and c.voice else ""
        return f"<li>{sheet}<b>{e(c.name)}</b> ({e(kind)}): {e(c.look)}{voice}</li>"

    cast = "".join(member(m) for m in board.members())
    final = '<p><a href="final.mp4">▶ final.mp4</a> · <a href="subtitles.srt">subtitles.srt</a> · <a href="manifest.json">manifest.json</a></p>' if board.final else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(board.title)} · storyboard</title>
<style>
body{{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}}
.grid{{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:1.2rem}}
.scene{{border:1px solid #ddd;border-radius:8px;padding:.8rem;background:#fafafa}}
.scene img,.scene video{{width:100%;border-radius:4px;background:#000}}
.scene h2{{font-size:1.05rem;margin:.5rem 0 .2rem}} small{{color:#777;font-weight:normal}}
.narration{{font-style:italic}} .line{{margin:.2rem 0}} .prompt{{color:#555;font-size:.9em}} .error{{color:#b00}}
.cast{{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}} .cast li{{max-width:260px}}
.sheet{{display:block;width:160px;height:160px;border-radius:6px;border:1px solid #ddd;margin-bottom:.3rem}}
.continuity{{font-size:.9em}} .continuity.ok{{color:#176b2c}} .continuity.low{{color:#9a5b00}} .reasons{{font-size:.85em;color:#555}}
</style></head><body>
<h1>{e(board.title)}</h1>
<p><b>Goal:</b> {e(state.goal.text)}<br><b>Art style:</b> {e(board.art_style)}<br><b>Run:</b> {e(state.run_id)}</p>
<ul class="cast">{cast}</ul>
{final}
<div class="grid">
{chr(10).join(cards)}
</div>
</body></html>
"""
