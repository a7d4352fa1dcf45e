"""transcribe: what is said in a source video, as timed cues."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field

from director.state import AssetRef, DirectorState, Storyboard
from director.tooling import ToolContext, require_footage, tool

PREVIEW = 600


class TranscribeInput(BaseModel):
    video: int = Field(ge=1, description="Source video number, from 1.")
    start: float | None = Field(None, ge=0, description="Only from this second; empty for the start.")
    end: float | None = Field(None, gt=0, description="Only up to this second; empty for the end.")


class TranscribeOutput(BaseModel):
    video: int = Field(description="Source video number.")
    transcript: AssetRef = Field(description="JSON list of cues: start, end, text.")
    source: str = Field(description="Where the words came from: sidecar, whisper, gemini, or none (with why).")
    cues: int = Field(description="How many cues.")
    text: str = Field(description=f"The first {PREVIEW} characters of what is said (empty when nothing is).")


def _needs(args: TranscribeInput, state: DirectorState) -> dict[str, object]:
    from director.backends.local.vision import subtitle_sidecar
    from director.store import sha256_file

    footage = require_footage(state, args.video)
    side = subtitle_sidecar(Path(footage.path))
    # The sidecar's bytes are part of the key: editing the .srt makes a new transcript.
    return {"path": footage.path, "sha256": footage.sha256, "has_audio": footage.has_audio,
            "sidecar": sha256_file(side) if side else None}


def _apply(board: Storyboard | None, args: TranscribeInput, out: TranscribeOutput) -> Storyboard:
    assert board is not None
    footage = board.video(args.video)
    footage.transcript, footage.transcript_source = out.transcript, out.source
    return board


@tool(capability="vision", version="1", needs=_needs, apply=_apply, writes=("transcript",), modes=("trailer",))
def transcribe(args: TranscribeInput, ctx: ToolContext) -> TranscribeOutput:
    """Transcribe the speech of one source video (or part of it) into timed cues. A subtitle file next to the video (.srt or .vtt) is used when present. Call once per source."""
    from director.backends.local.vision import parse_subtitles, subtitle_sidecar

    path = Path(str(ctx.inputs["path"]))
    side = subtitle_sidecar(path)
    if side is not None:
        cues, source = parse_subtitles(side.read_text(encoding="utf-8", errors="replace")), f"sidecar {side.name}"
        cues = [c for c in cues if (args.start is None or c.end > args.start) and (args.end is None or c.start < args.end)]
    elif not ctx.inputs["has_audio"]:
        cues, source = [], "none (the video has no audio stream)"
        ctx.warn(f"source {args.video} ({path.name}) has no audio stream: nothing is said in it, so its lines come "
                 f"from the plot and the title")
    else:
        cues, source = ctx.backends.vision.transcribe(path, start=args.start, end=args.end)
        if not cues and source in ("whisper", "gemini"):
            source = f"{source} (no speech found)"
    tmp = ctx.store.temp_path(".json")
    tmp.write_text(json.dumps([c.as_dict() for c in cues]), encoding="utf-8")
    text = " ".join(c.text for c in cues)
    return TranscribeOutput(video=args.video, transcript=ctx.store.put(tmp, "document"), source=source,
                            cues=len(cues), text=text[:PREVIEW])
