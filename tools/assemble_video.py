"""assemble_video: join the scenes into final.mp4 with sound and subtitles.

animate_image renders one clip per scene in the cut's own format, so
joining is a stream copy through ffmpeg's concat demuxer, never a re-encode
(bench/render.py measures it against MoviePy re-encoding everything). A
clip in another format (Veo's 24 fps, a different size) is normalised once
into a segment cached under <workspace>/cache/segments by the hash of its
inputs (clip, size, fps, length, x264 settings), several at a time up to the
core count; changing one scene re-encodes at most that scene's segment. The
whole sound track is mixed in one filter graph and encoded once, so AAC
priming never leaves gaps at the joins as per-segment audio would; it is
cached too, by the hash of its inputs, so a change to a picture re-mixes
nothing and the final mux copies both streams.

Sound per scene: the narration (stories, trailers by default), the source
video's own audio under the scene's window (trailer --audio source), or both,
with the source ducked under the voice by a sidechain compressor (mix).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from director.errors import MediaError, ToolArgumentError
from director.media import SPEECH_LEAD, Probe, probe, render_slot, run_ffmpeg, scene_length, x264
from director.state import (ASPECT_SIZES, Aspect, AssetRef, AudioMode, DirectorState, FinalCut, SceneTiming,
                            Storyboard)
from director.tooling import ToolContext, require_board, tool

if TYPE_CHECKING:
    from director.store import AssetStore, Workspace

AUDIO_RATE = 48_000
STEREO = f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


class AssembleVideoInput(BaseModel):
    aspect: Aspect = Field(description="Frame shape of the final video; the same as the clips.")
    audio: AudioMode = Field(
        "narration", description="Sound: narration, the source videos' own audio (trailers), or mix (source ducked under narration)."
    )


class AssembleVideoOutput(BaseModel):
    video: AssetRef = Field(description="final.mp4: H.264 + AAC with a soft subtitle track.")
    subtitles: AssetRef = Field(description="subtitles.srt.")
    timings: list[SceneTiming] = Field(description="Where each scene sits in the cut.")


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
    return {
        "title": board.title,
        "footage": footage,
        "scenes": [
            {"index": s.index, "clip": s.clip if clips else None, "audio": s.audio if wants_voice else None,
             "narration": s.narration, "length": s.length,
             "source": s.source.model_dump() if s.source and wants_source else None}
            for s in board.scenes
        ],
    }


def _needs(args: AssembleVideoInput, state: DirectorState) -> dict[str, object]:
    return scene_inputs(state, args.audio, clips=True)


def _apply(board: Storyboard | None, args: AssembleVideoInput, out: AssembleVideoOutput) -> Storyboard:
    assert board is not None
    board.final = FinalCut(video=out.video, subtitles=out.subtitles, timings=out.timings)
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


def quote_concat(path: Path) -> str:
    """A path inside single quotes for ffmpeg's concat list."""
    return path.as_posix().replace("'", "'\\''")


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
SOUND_VERSION = "1"  # bump when SoundGraph changes what it mixes


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


def scene_seconds(sc: dict[str, Any], fps: int) -> float:
    if sc.get("length"):
        return max(1, round(float(sc["length"]) * fps)) / fps
    return scene_length(float(sc["audio"].duration or 0.0), fps)


class SoundGraph:
    """Inputs and filters for the sound track, one labelled stream per scene."""

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.filters: list[str] = []
        self.next = 0
        self.described: list[dict[str, Any]] = []
        """What each scene's sound is made of, by content hash rather than path: the cache key."""

    def add_input(self, *args: str) -> int:
        self.inputs += list(args)
        self.next += 1
        return self.next - 1

    def scene(self, n: int, length: float, voice: Path | None, source: dict[str, Any] | None,
              source_path: str | None, source_has_audio: bool, hashes: tuple[str | None, str | None]) -> None:
        self.described.append({"length": round(length, 6), "voice": hashes[0], "source": source,
                               "source_video": hashes[1], "source_audio": source_has_audio})
        end = f"apad,atrim=0:{length:.6f},asetpts=N/SR/TB"
        delay = f"adelay={int(SPEECH_LEAD * 1000)}:all=1"
        src_label = None
        if source is not None:
            if source_has_audio and source_path:
                i = self.add_input("-ss", f"{source['start']:.3f}", "-t", f"{length:.3f}", "-i", source_path)
            else:
                i = self.add_input("-f", "lavfi", "-t", f"{length:.3f}", "-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo")
            src_label = f"[{i}:a]"
        if voice is not None:
            v = self.add_input("-i", str(voice))
            if src_label is None:
                self.filters.append(f"[{v}:a]{STEREO},{delay},{end}[a{n}]")
            else:
                self.filters += [
                    f"[{v}:a]{STEREO},{delay},{end},asplit=2[v{n}a][v{n}b]",
                    f"{src_label}{STEREO},{end}[s{n}]",
                    f"[s{n}][v{n}a]sidechaincompress=threshold=0.015:ratio=12:attack=20:release=400[d{n}]",
                    f"[d{n}][v{n}b]amix=inputs=2:normalize=0:duration=first,{end}[a{n}]",
                ]
        elif src_label is not None:
            self.filters.append(f"{src_label}{STEREO},{end}[a{n}]")
        else:
            raise ToolArgumentError(f"scene {n} has no sound to assemble")

    def track(self, workspace: Workspace) -> Path:
        """The whole sound track as AAC in .m4a, mixed once per distinct set of inputs and cached.

        A change to a scene's picture leaves the sound alone, so re-assembling
        after it joins both streams by copy and encodes nothing.
        """
        n = len(self.described)
        graph = ";".join(self.filters) + ";" + "".join(f"[a{i}]" for i in range(1, n + 1)) + \
            f"concat=n={n}:v=0:a=1[aout]"

        def make(tmp: Path) -> None:
            run_ffmpeg([*self.inputs, "-filter_complex", graph, "-map", "[aout]", "-c:a", "aac", "-b:a", "160k",
                        "-ar", str(AUDIO_RATE), str(tmp)], what="mix the sound track")

        return workspace.cached("sound", {"v": SOUND_VERSION, "scenes": self.described}, ".m4a", make)


@dataclass
class SoundPlan:
    """Where every scene sits, what is said when, and the graph that mixes the sound."""

    sound: SoundGraph
    lengths: list[float]
    timings: list[SceneTiming]
    cues: list[tuple[float, float, str]]
    seconds: float


def plan_sound(inputs: Mapping[str, Any], store: AssetStore, fps: int) -> SoundPlan:
    scenes: list[dict[str, Any]] = inputs["scenes"]
    footage: dict[int, dict[str, Any]] = inputs["footage"]
    timings: list[SceneTiming] = []
    cues: list[tuple[float, float, str]] = []
    sound = SoundGraph()
    transcripts: dict[int, list[dict[str, Any]]] = {}
    lengths = [scene_seconds(sc, fps) for sc in scenes]
    start = 0.0
    for n, (sc, length) in enumerate(zip(scenes, lengths), start=1):
        voice: AssetRef | None = sc["audio"]
        source = sc["source"]
        video = footage.get(source["video"]) if source else None
        sound.scene(n, length, store.path(voice) if voice else None, source,
                    video["path"] if video else None, bool(video and video["has_audio"]),
                    (voice.sha256 if voice else None, video["sha256"] if video else None))
        speech = float(voice.duration or 0.0) if voice else 0.0
        timing = SceneTiming(index=sc["index"], start=round(start, 4), duration=round(length, 4),
                             speech_start=round(start + (SPEECH_LEAD if voice else 0.0), 4),
                             speech_end=round(start + (SPEECH_LEAD + speech if voice else length), 4))
        timings.append(timing)
        if voice is not None:
            cues.append((timing.speech_start, timing.speech_end, sc["narration"]))
        elif source is not None and video and video["transcript"]:
            if source["video"] not in transcripts:
                transcripts[source["video"]] = json.loads(store.path(video["transcript"]).read_text())
            for cue in transcripts[source["video"]]:
                if cue["end"] > source["start"] and cue["start"] < source["start"] + length:
                    a = start + max(0.0, cue["start"] - source["start"])
                    b = start + min(length, cue["end"] - source["start"])
                    if b - a > 0.2:
                        cues.append((round(a, 3), round(b, 3), cue["text"]))
        start += length
    if not cues:  # a trailer of silent footage still gets a (title) subtitle track
        cues.append((0.0, min(3.0, start), str(inputs["title"])))
    return SoundPlan(sound, lengths, timings, cues, start)


@tool(capability=None, gated=True, version="3", needs=_needs, apply=_apply, renders=True,
      reads=("story", "clip", "audio", "transcript", "sound"), writes=("final",))
def assemble_video(args: AssembleVideoInput, ctx: ToolContext) -> AssembleVideoOutput:
    """Join every scene's clip and sound into the final video, with subtitles. Call once every scene has a clip."""
    fps, width, height = ctx.settings.fps, *ASPECT_SIZES[args.aspect]
    scenes: list[dict[str, Any]] = ctx.inputs["scenes"]
    plan = plan_sound(ctx.inputs, ctx.store, fps)
    timings, cues, start, sound, lengths = plan.timings, plan.cues, plan.seconds, plan.sound, plan.lengths
    temps: list[Path] = []
    # The sound track (cached, or made by mix_sound already) and any segments that
    # need normalising are made side by side.
    workspace, jobs = ctx.store.workspace, ctx.settings.render_jobs
    with ThreadPoolExecutor(max_workers=jobs + 1) as pool:
        track = pool.submit(sound.track, workspace)
        segments = list(pool.map(
            lambda sc, length: segment(ctx.store.path(sc["clip"]), sc["clip"].sha256, workspace,
                                       width=width, height=height, fps=fps, length=length, crf=ctx.settings.crf,
                                       preset=ctx.settings.x264_preset, jobs=jobs),
            scenes, lengths))
        sound_track = track.result()
    try:
        ctx.report(f"joining {len(segments)} scenes")
        srt_tmp = ctx.store.temp_path(".srt")
        srt_tmp.write_text(write_srt(cues), encoding="utf-8")
        temps.append(srt_tmp)
        concat = ctx.store.temp_path(".txt")
        temps.append(concat)
        concat.write_text("".join(f"file '{quote_concat(s)}'\n" for s in segments), encoding="utf-8")
        out = ctx.store.temp_path(".mp4")
        run_ffmpeg(
            ["-f", "concat", "-safe", "0", "-i", str(concat), "-i", str(sound_track), "-i", str(srt_tmp),
             "-map", "0:v", "-map", "1:a", "-map", "2:s", "-c:v", "copy", "-c:a", "copy",
             "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
             "-metadata", f"title={ctx.inputs['title']}", "-movflags", "+faststart", str(out)],
            what="assemble the final video",
        )
        got = probe(out)
        if got.duration is None or abs(got.duration - start) > 0.2:
            raise MediaError(f"final video is {got.duration} s long; the scenes add up to {start:.2f} s")
        video_ref = ctx.store.put(out, "video")
        subtitles = ctx.store.put(srt_tmp, "subtitles")
        return AssembleVideoOutput(video=video_ref, subtitles=subtitles, timings=timings)
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
