"""plan_trailer: choose the shots of a trailer and write its lines."""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, Field

from director.errors import ToolArgumentError
from director.state import DirectorState, Scene, Shot, SourceWindow, Storyboard
from director.tooling import ToolContext, read_json, require_board, tool

WINDOW = (2.0, 6.0)  # seconds of source used per scene when the source audio plays
GENERIC = ("It began like any other day.", "But nothing stays the same for long.",
           "Every choice has a price.", "Some secrets refuse to stay buried.", "Old friends become strangers.",
           "The clock is running out.", "There is no going back.", "One moment changes everything.",
           "Nobody is who they seem.", "And now, everything is about to change.")


class Pick(BaseModel):
    video: int = Field(ge=1, description="Source video number.")
    shot: int = Field(ge=1, description="Shot number from detect_scenes.")


class PlanTrailerInput(BaseModel):
    max_scenes: int = Field(ge=1, le=50, description="At most this many scenes.")
    picks: list[Pick] | None = Field(
        None, description="Shots to use, in trailer order. Leave empty to let Director choose the longest, most distinct shots, spread across the sources."
    )
    lines: list[str] | None = Field(
        None, description="One narration line per scene (for narration or mix audio). Leave empty to write them from the title, plot and transcript."
    )


class PlannedScene(BaseModel):
    video: int = Field(description="Source video number.")
    shot: int = Field(description="Shot number.")
    start: float = Field(description="Window start in the source, seconds.")
    end: float = Field(description="Window end in the source, seconds.")
    transcript: str = Field(description="What is said during the shot.")
    narration: str = Field(description="The scene's narration line (empty with source audio).")
    length: float | None = Field(description="Scene length when the source audio sets it; else the narration does.")


class PlanTrailerOutput(BaseModel):
    scenes: list[PlannedScene] = Field(description="The trailer's scenes, in order.")


def _needs(args: PlanTrailerInput, state: DirectorState) -> dict[str, object]:
    board = require_board(state)
    missing = [f.index for f in board.footage if f.shots is None]
    if not board.footage:
        raise ToolArgumentError("plan_trailer needs source videos (--source)")
    if missing:
        raise ToolArgumentError(f"sources {missing} have no detected shots yet; call detect_scenes first")
    return {
        "title": board.title,
        "audio": state.goal.audio,
        "seed": state.goal.seed,
        "footage": [{"index": f.index, "shots": f.shots, "transcript": f.transcript, "plot": f.plot,
                     "title": f.title} for f in board.footage],
    }


def _apply(board: Storyboard | None, args: PlanTrailerInput, out: PlanTrailerOutput) -> Storyboard:
    assert board is not None
    board.scenes = [
        Scene(index=i, image_prompt="", narration=s.narration or s.transcript,
              source=SourceWindow(video=s.video, shot=s.shot, start=s.start, end=s.end, transcript=s.transcript),
              length=s.length)
        for i, s in enumerate(out.scenes, start=1)
    ]
    board.final = None
    board.narrator = board.narrator or TRAILER_NARRATOR
    return board


def choose_shots(shots: dict[int, list[Shot]], k: int) -> list[tuple[int, Shot]]:
    """Up to k shots: long ones first, each new pick as unlike the earlier ones as possible,
    taking turns across sources, never two neighbouring shots of one source."""
    pool = {v: [s for s in ss if s.duration >= 0.5] or list(ss) for v, ss in shots.items()}
    chosen: list[tuple[int, Shot]] = []
    videos = sorted(pool)
    turn = 0
    while len(chosen) < k and any(pool.values()):
        video = videos[turn % len(videos)]
        turn += 1
        if not pool[video]:
            continue

        def score(shot: Shot) -> float:
            length = min(shot.duration, 8.0) / 8.0
            if not chosen or not shot.mean_rgb:
                return length
            distance = min(float(np.linalg.norm(np.subtract(shot.mean_rgb, c.mean_rgb))) / 441.7
                           for _, c in chosen if c.mean_rgb) if any(c.mean_rgb for _, c in chosen) else 0.0
            return length + 0.8 * distance

        taken = {s.index for v, s in chosen if v == video}
        candidates = [s for s in pool[video] if s.index - 1 not in taken and s.index + 1 not in taken] or pool[video]
        best = max(candidates, key=score)
        pool[video].remove(best)
        chosen.append((video, best))
    return sorted(chosen, key=lambda pair: (pair[0], pair[1].start))


def window(shot: Shot, audio: str) -> tuple[float, float]:
    if audio != "source":
        return shot.start, shot.end
    length = min(max(shot.duration, WINDOW[0]), WINDOW[1], shot.duration)
    middle = (shot.start + shot.end) / 2
    return round(middle - length / 2, 3), round(middle + length / 2, 3)


WORDS_PER_SECOND = 2.9
"""What the trailer narrator reads (TRAILER_NARRATOR: 'measured', about 172 words a minute): a shot's line is at
most its length's worth, so the picture is not held waiting for the words."""
TRAILER_NARRATOR = "a deep, measured trailer voice, with weight and a pause before the title"
"""The persona a trailer is read in, unless the plan gives one: it sets the offline voice's pace (voice.stretch)."""


def _sentence(text: str) -> str:
    """A line that ends as a sentence, so the title after it is its own phrase ('... in a meadow. Big Buck Bunny.')."""
    text = text.strip()
    return text if text[-1:] in ".!?…\"”'" else f"{text}."


def _words(line: str) -> int:
    return len(line.split())


def lines_for(title: str, plots: list[str], quotes: list[str], n: int, seconds: list[float] | None = None) -> list[str]:
    """Narration lines from the plot's sentences, then what is said, ending on the title as a phrase of its own.
    With the shots' lengths, each line is one that fits its shot (the first unused one that does, else the
    shortest left)."""
    sentences = [_sentence(s) for p in plots for s in re.split(r"(?<=[.!?])\s+", p) if len(s.strip()) > 3]
    pool = list(dict.fromkeys(sentences)) + [f"“{q[:120]}”" for q in quotes if q] + list(GENERIC)
    ending = _sentence(title)
    if n == 1:
        opening = [line for line in sentences if not seconds or _words(line) + _words(ending) <= seconds[0] * WORDS_PER_SECOND]
        return [f"{opening[0]} {ending}" if opening else ending]
    while len(pool) < n - 1:  # a long trailer with little to quote: the generic lines come round again
        pool += list(GENERIC)
    if not seconds:
        return pool[: n - 1] + [f"{ending} Coming soon."]
    lines: list[str] = []
    for length in seconds[: n - 1]:
        fits = [line for line in pool if _words(line) <= max(4, length * WORDS_PER_SECOND)]
        line = fits[0] if fits else min(pool, key=_words)
        pool.remove(line)
        lines.append(line)
    return lines + [f"{ending} Coming soon."]


@tool(capability=None, version="2", needs=_needs, apply=_apply, reads=("shots", "transcript"), writes=("story",), modes=("trailer",))
def plan_trailer(args: PlanTrailerInput, ctx: ToolContext) -> PlanTrailerOutput:
    """Plan the trailer: pick up to max_scenes shots (or use the picks given) and give each scene a narration line. Call once, after detect_scenes (and transcribe) for every source."""
    footage = {f["index"]: f for f in ctx.inputs["footage"]}
    shots = {v: [Shot.model_validate(s) for s in read_json(ctx, f["shots"])] for v, f in footage.items()}
    cues = {v: read_json(ctx, f["transcript"]) if f["transcript"] else [] for v, f in footage.items()}
    if args.picks:
        picked = []
        for p in args.picks[: args.max_scenes]:
            if p.video not in shots:
                raise ToolArgumentError(f"pick names source {p.video}; sources are {sorted(shots)}")
            match = next((s for s in shots[p.video] if s.index == p.shot), None)
            if match is None:
                raise ToolArgumentError(f"source {p.video} has no shot {p.shot}; it has 1..{len(shots[p.video])}")
            picked.append((p.video, match))
    else:
        picked = choose_shots(shots, args.max_scenes)
    audio = ctx.inputs["audio"]
    said = [" ".join(c["text"] for c in cues[v] if c["end"] > s.start and c["start"] < s.end)[:300]
            for v, s in picked]
    if audio == "source":
        lines = [""] * len(picked)
    elif args.lines:
        if len(args.lines) < len(picked):
            raise ToolArgumentError(f"{len(args.lines)} lines for {len(picked)} scenes; give one line per scene")
        lines = args.lines[: len(picked)]
    else:
        plots = list(dict.fromkeys(f["plot"] for f in footage.values() if f["plot"]))
        lines = lines_for(str(ctx.inputs["title"]), plots, said, len(picked), [s.duration for _, s in picked])
    scenes = []
    for (video, shot), text, line in zip(picked, said, lines, strict=True):
        start, end = window(shot, audio)
        scenes.append(PlannedScene(video=video, shot=shot.index, start=start, end=end, transcript=text, narration=line,
                                   length=round(end - start, 3) if audio == "source" else None))
    return PlanTrailerOutput(scenes=scenes)
