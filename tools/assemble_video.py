"""assemble_video: join the scenes into final.mp4 with sound and subtitles.

animate_image renders one clip per scene in the cut's own format, so
joining is a stream copy of their packets (director/transitions.py), never a re-encode
(bench/render.py measures it against MoviePy re-encoding everything). A
clip in another format (Veo's 24 fps, a different size) is normalised once
into a segment cached under <workspace>/cache/segments by the hash of its
inputs (clip, size, fps, length, x264 settings), several at a time up to the
core count; changing one scene re-encodes at most that scene's segment (and,
with --transition, the two short boundary segments either side of it). The
whole sound track is mixed in one filter graph and encoded once, so AAC
priming never leaves gaps at the joins as per-segment audio would; it is
cached too, by the hash of its inputs, so a change to a picture re-mixes
nothing and the final mux copies both streams.

Sound per scene: the narration (stories, trailers by default), the source
video's own audio under the scene's window (trailer --audio source), or both,
with the source ducked under the voice by a sidechain compressor (mix).
"""

from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from director.captions import (
    SPEAKER_COLOURS,
    ass_document,
    burned,
    card,
    cue_words,
    narration_words,
    spread,
)
from director.choices import ASPECT_SIZES, Aspect, AudioMode, Transition, input_size, size_inputs
from director.errors import MediaError, ToolArgumentError
from director.media import SPEECH_LEAD, Probe, probe, render_slot, run_ffmpeg, x264
from director.mixing import plan_sound
from director.state import NARRATOR, AssetRef, DirectorState, FinalCut, SceneTiming, Storyboard
from director.tooling import ToolContext, require_board, tool
from director.transitions import Part, Piece, boundary, frames_of, join, plan_join

if TYPE_CHECKING:
    from director.store import Workspace

class AssembleVideoInput(BaseModel):
    aspect: Aspect = Field(description="Frame shape of the final video; the same as the clips.")
    audio: AudioMode = Field(
        "narration", description="Sound: narration, the source videos' own audio (trailers), or mix (source ducked under narration)."
    )


class AssembleVideoOutput(BaseModel):
    video: AssetRef = Field(description="final.mp4: H.264 + AAC with a soft subtitle track.")
    subtitles: AssetRef = Field(description="subtitles.srt.")
    timings: list[SceneTiming] = Field(description="Where each scene sits in the cut.")
    transition: Transition = Field("cut", description="How the scenes join.")
    overlap: float = Field(0.0, description="Seconds each scene overlaps the next (the transition's length).")


def scene_inputs(state: DirectorState, audio: str, *, clips: bool) -> dict[str, object]:
    """What assembling (or mixing the sound of) every scene reads from the storyboard."""
    board = require_board(state)
    wants_voice = audio in ("narration", "mix")
    wants_source = audio in ("source", "mix")
    missing = [s.index for s in board.scenes if (clips and s.clip is None) or (wants_voice and s.audio is None)
               or (wants_source and s.source is None)]
    if not board.scenes:
        raise ToolArgumentError("there are no scenes to assemble")
    if missing:
        what = "narration" if wants_voice else "source window"
        raise ToolArgumentError(f"scenes {missing} have no {'clip or ' if clips else ''}{what} yet; make them first")
    footage = {f.index: {"path": f.path, "sha256": f.sha256, "has_audio": f.has_audio, "transcript": f.transcript}
               for f in board.footage}
    extra: dict[str, object] = {}
    goal = state.finish  # the goal's finishing, with any revision's changes
    if goal.music != "none":
        if board.music is None:
            raise ToolArgumentError("the music bed is not made yet: call make_music first")
        extra["music"] = board.music  # only then: a run without music keeps today's inputs and memo keys
    if goal.captions != "soft":
        burn: dict[str, object] = {"mode": goal.captions, "style": goal.caption_style}
        if any(s.lines for s in board.scenes):  # each speaker's burned words in their own colour, by cast order
            burn["speakers"] = [c.name for c in board.characters]
        extra["captions"] = burn
    if goal.title_card or goal.end_card:
        extra["cards"] = {"title": board.title if goal.title_card else None, "end": goal.end_card}
    if goal.transition != "cut":
        extra["transition"] = {"kind": goal.transition, "seconds": goal.transition_seconds}
    return {
        **extra,
        "title": board.title,
        "footage": footage,
        "scenes": [
            {"index": s.index, "clip": s.clip if clips else None, "audio": s.audio if wants_voice else None,
             "narration": s.narration, "length": s.length,
             # who speaks when, for the subtitles (only a scene with lines: the others keep their memo keys)
             **({"speech": [p.model_dump() for p in s.speech]} if s.speech and wants_voice else {}),
             "source": s.source.model_dump() if s.source and wants_source else None,
             # a video model's own sound (Omni's always; Veo's when kept), ducked under the narration
             **({"clip_sound": s.clip} if clips and s.clip_sound and goal.clip_sound != "off" and s.source is None
                else {})}
            for s in board.scenes
        ],
    }


def _needs(args: AssembleVideoInput, state: DirectorState) -> dict[str, object]:
    return {**scene_inputs(state, args.audio, clips=True), **size_inputs(state.finish, args.aspect)}


def _apply(board: Storyboard | None, args: AssembleVideoInput, out: AssembleVideoOutput) -> Storyboard:
    assert board is not None
    board.final = FinalCut(video=out.video, subtitles=out.subtitles, timings=out.timings, transition=out.transition,
                           overlap=out.overlap)
    return board


def srt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def write_srt(cues: list[tuple[float, float, str]]) -> str:
    blocks = []
    for n, (start, end, text) in enumerate(cues, start=1):
        lines = "\n".join(textwrap.wrap(" ".join(text.split()), width=42)) or " "
        blocks.append(f"{n}\n{srt_time(start)} --> {srt_time(end)}\n{lines}\n")
    return "\n".join(blocks)


def matches(p: Probe, width: int, height: int, fps: int) -> bool:
    return (
        p.video_codec == "h264"
        and p.pix_fmt == "yuv420p"
        and (p.width, p.height) == (width, height)
        and p.fps is not None
        and abs(p.fps - fps) < 0.01
        and p.audio_codec is None
    )


def normalise(src: Path, dest: Path, *, width: int, height: int, fps: int, duration: float, crf: int, preset: str) -> None:
    """Re-encode a clip to the cut's format and exact length (hold the last frame if short)."""
    vf = (
        f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
        f"fps={fps},format=yuv420p,tpad=stop_mode=clone:stop_duration={duration:.3f}"
    )
    run_ffmpeg(
        ["-i", str(src), "-vf", vf, "-t", f"{duration:.6f}", "-an", *x264(crf, preset), str(dest)],
        what=f"normalise {src.name}",
    )


SEGMENT_VERSION = "1"  # bump when normalise() changes what it writes
def segment(clip: Path, clip_sha: str, workspace: Workspace, *, width: int, height: int, fps: int, length: float,
            crf: int, preset: str, jobs: int) -> Path:
    """The clip itself if it already is the cut's format and length; else its cached normalised segment."""
    p = probe(clip)
    if matches(p, width, height, fps) and p.duration is not None and abs(p.duration - length) < 0.5 / fps:
        return clip

    def make(tmp: Path) -> None:
        with render_slot(jobs):
            normalise(clip, tmp, width=width, height=height, fps=fps, duration=length, crf=crf, preset=preset)

    inputs = {"v": SEGMENT_VERSION, "clip": clip_sha, "size": [width, height], "fps": fps,
              "length": round(length, 6), "crf": crf, "preset": preset}
    return workspace.cached("segments", inputs, ".mp4", make)


@tool(capability=None, gated=True, version="3", needs=_needs, apply=_apply, renders=True,
      reads=("story", "clip", "audio", "transcript", "sound", "music"), writes=("final",))
def assemble_video(args: AssembleVideoInput, ctx: ToolContext) -> AssembleVideoOutput:
    """Join every scene's clip and sound into the final video, with subtitles. Call once every scene has a clip."""
    fps, (width, height) = ctx.settings.fps, input_size(ctx.inputs, ASPECT_SIZES[args.aspect])
    scenes: list[dict[str, Any]] = ctx.inputs["scenes"]
    plan = plan_sound(ctx.inputs, ctx.store, fps)
    timings, cues, start, lengths = plan.timings, plan.cues, plan.seconds, plan.lengths
    temps: list[Path] = []
    # The sound track (cached, or made by mix_sound already) and any segments that
    # need normalising are made side by side.
    workspace, jobs = ctx.store.workspace, ctx.settings.render_jobs
    captions = ctx.inputs.get("captions") or {"mode": "soft"}
    burn, soft = captions["mode"] in ("burn", "both"), captions["mode"] in ("soft", "both")

    def scene_segment(sc: dict[str, Any], length: float) -> Path:
        crf, preset = ctx.settings.crf, ctx.settings.x264_preset
        seg = segment(ctx.store.path(sc["clip"]), sc["clip"].sha256, workspace, width=width, height=height, fps=fps,
                      length=length, crf=crf, preset=preset, jobs=jobs)
        if not burn:
            return seg
        turns = None
        if sc["audio"] is not None and sc.get("speech"):  # each turn's words, the characters' in their colours
            cast = captions.get("speakers") or []
            words, turns = [], []
            for p in sc["speech"]:
                if p.get("clip"):  # said in the clip: its words over the stretch the clip says them in
                    said = spread(p["text"].split(), p["start"], p["end"] - p["start"])
                else:
                    said = narration_words(ctx.store.path(sc["audio"]), p["text"], workspace, sc["audio"].sha256,
                                           window=(p["start"], p["end"]))
                words += said
                who = p["speaker"]
                turns.append((len(said), None if who == NARRATOR else
                              SPEAKER_COLOURS[(cast.index(who) if who in cast else 0) % len(SPEAKER_COLOURS)]))
            offset = SPEECH_LEAD
        elif sc["audio"] is not None:
            words = narration_words(ctx.store.path(sc["audio"]), sc["narration"], workspace, sc["audio"].sha256)
            offset = SPEECH_LEAD
        else:  # a trailer shot with its own sound: what its transcript says there, as the subtitles have it
            timing = next(t for t in timings if t.index == sc["index"])
            words, offset = cue_words(cues, timing.start, length), 0.0
            if not words:
                return seg
        document = ass_document(words, offset=offset, length=length, size=(width, height),
                                karaoke=captions.get("style") == "karaoke", turns=turns)
        source = {"clip": sc["clip"].sha256, "length": round(length, 6), "size": [width, height], "fps": fps}
        return burned(seg, source, document, workspace, crf=crf, preset=preset, jobs=jobs)

    cards = ctx.inputs.get("cards") or {}

    def card_segment(text: str, at_end: bool) -> Path:
        sc = scenes[-1] if at_end else scenes[0]
        return card(ctx.store.path(sc["clip"]), sc["clip"].sha256, text, workspace, at_end=at_end,
                    size=(width, height), fps=fps, crf=ctx.settings.crf, preset=ctx.settings.x264_preset, jobs=jobs)

    transition = ctx.inputs.get("transition")
    kind: Transition = transition["kind"] if transition else "cut"  # without a transition, plan.overlap is 0

    def blend(step: list[Part]) -> Part:
        if len(step) == 1:
            return step[0]  # a body: copied as it is
        return boundary(step, plan.overlap, kind, workspace, size=(width, height), fps=fps,
                        crf=ctx.settings.crf, preset=ctx.settings.x264_preset, jobs=jobs)

    with ThreadPoolExecutor(max_workers=jobs + 1) as pool:
        track = pool.submit(plan.track, workspace)
        title = pool.submit(card_segment, cards["title"], False) if cards.get("title") else None
        end = pool.submit(card_segment, cards["end"], True) if cards.get("end") else None
        segments = list(pool.map(scene_segment, scenes, lengths))
        segments = ([title.result()] if title else []) + segments + ([end.result()] if end else [])
        pieces = [Piece(s, frames_of(s, fps)[0]) for s in segments]
        steps = plan_join(pieces, plan.overlap, fps)
        if plan.overlap:
            ctx.report(f"blending {sum(len(s) > 1 for s in steps)} {kind} transitions")
        parts = list(pool.map(blend, steps))
        sound_track = track.result()
    try:
        ctx.report(f"joining {len(segments)} scenes")
        srt_tmp = ctx.store.temp_path(".srt")
        srt_tmp.write_text(write_srt(cues), encoding="utf-8")
        temps.append(srt_tmp)
        picture = ctx.store.temp_path(".mp4")
        temps.append(picture)
        frames = join(parts, picture, fps)
        expected = sum(p.frames for p in pieces) - plan.overlap * (len(pieces) - 1)
        if frames != expected:
            raise MediaError(f"the joined picture has {frames} frames; the pieces add up to {expected}")
        out = ctx.store.temp_path(".mp4")
        run_ffmpeg(
            ["-i", str(picture), "-i", str(sound_track),
             *(["-i", str(srt_tmp)] if soft else []), "-map", "0:v", "-map", "1:a",
             *(["-map", "2:s", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng"] if soft else []),
             "-c:v", "copy", "-c:a", "copy",
             "-metadata", f"title={ctx.inputs['title']}", "-movflags", "+faststart", str(out)],
            what="assemble the final video",
        )
        got = probe(out)
        if got.duration is None or abs(got.duration - start) > 0.2:
            raise MediaError(f"final video is {got.duration} s long; the scenes add up to {start:.2f} s")
        video_ref = ctx.store.put(out, "video")
        subtitles = ctx.store.put(srt_tmp, "subtitles")
        return AssembleVideoOutput(video=video_ref, subtitles=subtitles, timings=timings,
                                   transition=kind if plan.overlap else "cut",
                                   overlap=round(plan.overlap / fps, 6))
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
