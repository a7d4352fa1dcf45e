"""assemble_video: join the scenes into final.mp4 with narration and subtitles.

MoviePy renders the clips (animate_image); joining them is done with the
bundled ffmpeg directly: clips that already match the target format are
stream-copied through the concat demuxer instead of being decoded and
re-encoded (bench/assemble.py measures the difference), and the narration
track is built in one filter graph so AAC priming never drifts at the joins.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from pydantic import BaseModel, Field

from director.errors import MediaError, ToolArgumentError
from director.media import SPEECH_LEAD, Probe, probe, run_ffmpeg, scene_length
from director.state import ASPECT_SIZES, Aspect, AssetRef, DirectorState, FinalCut, SceneTiming, Storyboard
from director.tooling import ToolContext, require_board, tool

AUDIO_RATE = 48_000


class AssembleVideoInput(BaseModel):
    aspect: Aspect = Field(description="Frame shape of the final video; the same as the clips.")


class AssembleVideoOutput(BaseModel):
    video: AssetRef = Field(description="final.mp4: H.264 + AAC with a soft subtitle track.")
    subtitles: AssetRef = Field(description="subtitles.srt, one cue per scene.")
    timings: list[SceneTiming] = Field(description="Where each scene sits in the cut.")


def _needs(args: AssembleVideoInput, state: DirectorState) -> dict[str, object]:
    board = require_board(state)
    missing = [s.index for s in board.scenes if s.clip is None or s.audio is None]
    if missing:
        raise ToolArgumentError(f"scenes {missing} have no clip or narration yet; animate them first")
    return {
        "title": board.title,
        "scenes": [
            {"index": s.index, "clip": s.clip, "audio": s.audio, "narration": s.narration} for s in board.scenes
        ],
    }


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


def write_srt(timings: list[SceneTiming], texts: list[str]) -> str:
    cues = []
    for n, (t, text) in enumerate(zip(timings, texts, strict=True), start=1):
        lines = "\n".join(textwrap.wrap(" ".join(text.split()), width=42)) or " "
        cues.append(f"{n}\n{srt_time(t.speech_start)} --> {srt_time(t.speech_end)}\n{lines}\n")
    return "\n".join(cues)


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
        ["-i", str(src), "-vf", vf, "-t", f"{duration:.6f}", "-an", "-c:v", "libx264", "-preset", preset,
         "-crf", str(crf), "-movflags", "+faststart", str(dest)],
        what=f"normalise {src.name}",
    )


@tool(capability=None, version="1", needs=_needs, apply=_apply)
def assemble_video(args: AssembleVideoInput, ctx: ToolContext) -> AssembleVideoOutput:
    """Join every scene's clip and narration into the final video, with subtitles timed from the narration. Call once every scene has a clip."""
    fps, width, height = ctx.settings.fps, *ASPECT_SIZES[args.aspect]
    scenes = ctx.inputs["scenes"]
    timings: list[SceneTiming] = []
    start = 0.0
    segments: list[Path] = []
    temps: list[Path] = []
    try:
        for sc in scenes:
            clip: AssetRef = sc["clip"]
            audio: AssetRef = sc["audio"]
            speech = float(audio.duration or 0.0)
            length = scene_length(speech, fps)
            clip_path = ctx.store.path(clip)
            p = probe(clip_path)
            if matches(p, width, height, fps) and p.duration is not None and abs(p.duration - length) < 0.5 / fps:
                segments.append(clip_path)
            else:
                tmp = ctx.store.temp_path(".mp4")
                temps.append(tmp)
                normalise(clip_path, tmp, width=width, height=height, fps=fps, duration=length,
                          crf=ctx.settings.crf, preset=ctx.settings.x264_preset)
                segments.append(tmp)
            timings.append(SceneTiming(index=sc["index"], start=round(start, 4), duration=round(length, 4),
                                       speech_start=round(start + SPEECH_LEAD, 4),
                                       speech_end=round(start + SPEECH_LEAD + speech, 4)))
            start += length
        ctx.report(f"joining {len(segments)} scenes")
        srt_text = write_srt(timings, [sc["narration"] for sc in scenes])
        srt_tmp = ctx.store.temp_path(".srt")
        srt_tmp.write_text(srt_text, encoding="utf-8")
        temps.append(srt_tmp)
        concat = ctx.store.temp_path(".txt")
        temps.append(concat)
        concat.write_text("".join(f"file '{quote_concat(s)}'\n" for s in segments), encoding="utf-8")

        inputs = ["-f", "concat", "-safe", "0", "-i", str(concat)]
        parts = []
        for i, sc in enumerate(scenes, start=1):
            inputs += ["-i", str(ctx.store.path(sc["audio"]))]
            t = timings[i - 1]
            parts.append(
                f"[{i}:a]aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo,"
                f"adelay={int(SPEECH_LEAD * 1000)}:all=1,apad,atrim=0:{t.duration:.6f},asetpts=N/SR/TB[a{i}]"
            )
        n = len(scenes)
        graph = ";".join(parts) + ";" + "".join(f"[a{i}]" for i in range(1, n + 1)) + f"concat=n={n}:v=0:a=1[aout]"
        inputs += ["-i", str(srt_tmp)]
        out = ctx.store.temp_path(".mp4")
        run_ffmpeg(
            [*inputs, "-filter_complex", graph, "-map", "0:v", "-map", "[aout]", "-map", f"{n + 1}:s",
             "-c:v", "copy", "-c:a", "aac", "-b:a", "160k", "-ar", str(AUDIO_RATE),
             "-c:s", "mov_text", "-metadata:s:s:0", "language=eng",
             "-metadata", f"title={ctx.inputs['title']}", "-movflags", "+faststart", str(out)],
            what="assemble the final video",
        )
        got = probe(out)
        if got.duration is None or abs(got.duration - start) > 0.2:
            raise MediaError(f"final video is {got.duration} s long; the scenes add up to {start:.2f} s")
        video = ctx.store.put(out, "video")
        subtitles = ctx.store.put(srt_tmp, "subtitles")
        return AssembleVideoOutput(video=video, subtitles=subtitles, timings=timings)
    finally:
        for t in temps:
            t.unlink(missing_ok=True)
