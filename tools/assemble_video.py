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

import json
import math
import textwrap
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from director.captions import (
    CARD_SECONDS,
    SPEAKER_COLOURS,
    ass_document,
    burned,
    card,
    cue_words,
    narration_words,
    spread,
)
from director.errors import MediaError, ToolArgumentError
from director.media import SPEECH_LEAD, Probe, probe, render_slot, run_ffmpeg, scene_length, x264
from director.state import (
    ASPECT_SIZES,
    NARRATOR,
    Aspect,
    AssetRef,
    AudioMode,
    DirectorState,
    FinalCut,
    SceneTiming,
    Storyboard,
    Transition,
    size_inputs,
)
from director.tooling import ToolContext, require_board, tool
from director.transitions import Part, Piece, boundary, frames_of, join, overlap_frames, plan_join

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
SOUND_VERSION = "1"  # bump when SoundGraph changes what it mixes
MUSIC_VERSION = "1"  # bump when the music bed's mix (gain, ducking, fades, loudness) changes
MUSIC_GAIN = 0.2
"""The bed's level before ducking: about -14 dB, so between the lines it sits well under the voice."""
DUCKING = "threshold=0.02:ratio=8:attack=30:release=450:makeup=1"
"""Under speech the bed drops by about 10 dB more; it comes back up in the pauses."""
MUSIC_FADE_IN, MUSIC_FADE_OUT, MUSIC_CROSSFADE = 1.5, 2.5, 2.0
LOUDNESS_LUFS, TRUE_PEAK_DBTP = -16.0, -1.0
"""Integrated loudness and the true-peak ceiling of a mix with music."""
LOUDNORM = f"I={LOUDNESS_LUFS:g}:TP={TRUE_PEAK_DBTP - 1:g}:LRA=11"
"""loudnorm aims 1 dB under the ceiling: the AAC encode can add a few tenths of a dB of peak."""


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

    def __init__(self, overlap: float = 0.0) -> None:
        self.overlap = overlap
        """Seconds each stream overlaps the next (a transition): streams are laid at their starts and
        summed, a source's own sound fading across the overlap; 0 joins them end to end."""
        self.inputs: list[str] = []
        self.filters: list[str] = []
        self.next = 0
        self.described: list[dict[str, Any]] = []
        """What each scene's sound is made of, by content hash rather than path: the cache key."""

    def add_input(self, *args: str) -> int:
        self.inputs += list(args)
        self.next += 1
        return self.next - 1

    def silence(self, n: int, length: float) -> None:
        """A stretch with no voice (a title or end card); the music bed, if any, plays under it."""
        self.described.append({"card": round(length, 6)})
        i = self.add_input("-f", "lavfi", "-t", f"{length:.6f}", "-i", f"anullsrc=r={AUDIO_RATE}:cl=stereo")
        self.filters.append(f"[{i}:a]{STEREO},apad,atrim=0:{length:.6f},asetpts=N/SR/TB[a{n}]")

    def scene(self, n: int, length: float, voice: Path | None, source: dict[str, Any] | None,
              source_path: str | None, source_has_audio: bool, hashes: tuple[str | None, str | None],
              muted: list[tuple[float, float]] | None = None) -> None:
        """muted: stretches of the voice (seconds into it) left silent, where the clip says a line itself."""
        self.described.append({"length": round(length, 6), "voice": hashes[0], "source": source,
                               "source_video": hashes[1], "source_audio": source_has_audio,
                               **({"muted": [[round(a, 3), round(b, 3)] for a, b in muted]} if muted else {})})
        end = f"apad,atrim=0:{length:.6f},asetpts=N/SR/TB"
        delay = f"adelay={int(SPEECH_LEAD * 1000)}:all=1"
        if muted:
            spans = "+".join(f"between(t,{a:.3f},{b:.3f})" for a, b in muted)
            delay = f"volume=0:enable='{spans}',{delay}"
        fades = ""  # with a transition, the shot's own sound crossfades with its neighbours' across it
        if self.overlap:
            d = self.overlap
            fades = f",afade=t=in:d={d:.6f}:curve=tri,afade=t=out:st={length - d:.6f}:d={d:.6f}:curve=tri"
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
                    f"{src_label}{STEREO},{end}{fades}[s{n}]",
                    f"[s{n}][v{n}a]sidechaincompress=threshold=0.015:ratio=12:attack=20:release=400[d{n}]",
                    f"[d{n}][v{n}b]amix=inputs=2:normalize=0:duration=first,{end}[a{n}]",
                ]
        elif src_label is not None:
            self.filters.append(f"{src_label}{STEREO},{end}{fades}[a{n}]")
        else:
            raise ToolArgumentError(f"scene {n} has no sound to assemble")

    def track(self, workspace: Workspace, music: tuple[Path, str] | None = None) -> Path:
        """The whole sound track as AAC in .m4a, mixed once per distinct set of inputs and cached.

        A change to a scene's picture leaves the sound alone, so re-assembling
        after it joins both streams by copy and encodes nothing. With a music bed
        (path, sha256) the bed goes under the voices, ducked, and the whole mix is
        normalised to LOUDNESS (two passes of loudnorm: measure, then a linear gain).
        """
        n = len(self.described)
        lengths = [d.get("length", d.get("card", 0.0)) for d in self.described]
        seconds = sum(lengths) - self.overlap * (n - 1)
        if self.overlap and n > 1:
            # Each stream at its start in the overlapped cut (in samples, so nothing drifts), summed.
            starts = [sum(lengths[:i]) - self.overlap * i for i in range(n)]
            placed = [f"[a{i + 1}]adelay={round(s * AUDIO_RATE)}S:all=1[p{i + 1}]" for i, s in enumerate(starts)]
            total = round(seconds * AUDIO_RATE)
            graph = ";".join(self.filters + placed) + ";" + "".join(f"[p{i}]" for i in range(1, n + 1)) + \
                f"amix=inputs={n}:normalize=0:duration=longest,apad=whole_len={total},atrim=end_sample={total}[aout]"
        else:
            graph = ";".join(self.filters) + ";" + "".join(f"[a{i}]" for i in range(1, n + 1)) + \
                f"concat=n={n}:v=0:a=1[aout]"
        described: list[dict[str, Any]] = self.described + ([{"overlap": round(self.overlap, 6)}] if self.overlap else [])
        if music is None:
            def make(tmp: Path) -> None:
                run_ffmpeg([*self.inputs, "-filter_complex", graph, "-map", "[aout]", "-c:a", "aac", "-b:a", "160k",
                            "-ar", str(AUDIO_RATE), str(tmp)], what="mix the sound track")

            return workspace.cached("sound", {"v": SOUND_VERSION, "scenes": described}, ".m4a", make)

        def make_with_music(tmp: Path) -> None:
            inputs, mixed = self.with_bed(graph.replace("[aout]", "[voice]"), music[0], seconds)
            measure = f"{mixed};[mix]loudnorm={LOUDNORM}:print_format=json[aout]"
            printed = run_ffmpeg([*inputs, "-filter_complex", measure, "-map", "[aout]", "-f", "null", "-"],
                                 what="measure the mix's loudness", loglevel="info")
            found = json.loads(printed[printed.rindex("{"):printed.rindex("}") + 1])
            second = (f"{mixed};[mix]loudnorm={LOUDNORM}:measured_I={found['input_i']}:measured_TP={found['input_tp']}"
                      f":measured_LRA={found['input_lra']}:measured_thresh={found['input_thresh']}"
                      f":offset={found['target_offset']}:linear=true,aresample={AUDIO_RATE},"
                      f"apad=whole_len={round(seconds * AUDIO_RATE)},atrim=end_sample={round(seconds * AUDIO_RATE)}[aout]")
            run_ffmpeg([*inputs, "-filter_complex", second, "-map", "[aout]", "-c:a", "aac", "-b:a", "160k",
                        "-ar", str(AUDIO_RATE), str(tmp)], what="mix the sound track with music")

        key = {"v": SOUND_VERSION, "scenes": described, "music": music[1], "bed": MUSIC_VERSION}
        return workspace.cached("sound", key, ".m4a", make_with_music)

    def with_bed(self, voices: str, music: Path, seconds: float) -> tuple[list[str], str]:
        """Inputs and a graph ending in [mix]: the voices over the bed, looped with crossfades to
        `seconds`, faded in and out, and ducked by a sidechain compressor keyed on the voices."""
        length = probe(music).duration or 0.0
        if length <= 0.5:
            raise MediaError(f"the music track {music.name} is too short to use ({length:.2f} s)")
        fade = min(MUSIC_CROSSFADE, length / 4)
        copies = 1 if length >= seconds else math.ceil((seconds - fade) / (length - fade))
        first = self.next  # the number of inputs so far: the copies of the bed come after them
        inputs = [*self.inputs]
        for _ in range(copies):
            inputs += ["-i", str(music)]
        chain = [f"[{first + i}:a]{STEREO}[m{i}]" for i in range(copies)]
        label = "m0"
        for i in range(1, copies):
            chain.append(f"[{label}][m{i}]acrossfade=d={fade:.3f}:c1=tri:c2=tri[x{i}]")
            label = f"x{i}"
        out = max(0.0, seconds - MUSIC_FADE_OUT)
        chain += [
            f"[{label}]atrim=0:{seconds:.6f},asetpts=N/SR/TB,volume={MUSIC_GAIN},"
            f"afade=t=in:d={MUSIC_FADE_IN},afade=t=out:st={out:.3f}:d={MUSIC_FADE_OUT}[bed]",
            "[voice]asplit=2[key][over]",
            f"[bed][key]sidechaincompress={DUCKING}[ducked]",
            "[over][ducked]amix=inputs=2:normalize=0:duration=first[mix]",
        ]
        return inputs, voices + ";" + ";".join(chain)


@dataclass
class SoundPlan:
    """Where every scene sits, what is said when, and the graph that mixes the sound."""

    sound: SoundGraph
    lengths: list[float]
    timings: list[SceneTiming]
    cues: list[tuple[float, float, str]]
    seconds: float
    music: tuple[Path, str] | None = None
    """The music bed (path, sha256), when the run has one."""
    overlap: int = 0
    """Frames each piece (card or scene) overlaps the next: the transition's length; 0 for cuts."""

    def track(self, workspace: Workspace) -> Path:
        return self.sound.track(workspace, self.music)


def plan_sound(inputs: Mapping[str, Any], store: AssetStore, fps: int) -> SoundPlan:
    scenes: list[dict[str, Any]] = inputs["scenes"]
    footage: dict[int, dict[str, Any]] = inputs["footage"]
    timings: list[SceneTiming] = []
    cues: list[tuple[float, float, str]] = []
    transcripts: dict[int, list[dict[str, Any]]] = {}
    lengths = [scene_seconds(sc, fps) for sc in scenes]
    cards = inputs.get("cards") or {}
    pieces = [CARD_SECONDS] * bool(cards.get("title")) + lengths + [CARD_SECONDS] * bool(cards.get("end"))
    transition = inputs.get("transition")
    overlap = overlap_frames(transition["seconds"], fps, [round(p * fps) for p in pieces]) if transition else 0
    step = overlap / fps  # each piece starts this much before the one before it ends
    sound = SoundGraph(step)
    start, n = 0.0, 0
    if cards.get("title"):
        n += 1
        sound.silence(n, CARD_SECONDS)
        start = CARD_SECONDS - step
    for sc, length in zip(scenes, lengths):
        n += 1
        voice: AssetRef | None = sc["audio"]
        source = sc["source"]
        video = footage.get(source["video"]) if source else None
        own: AssetRef | None = sc.get("clip_sound")
        if own is not None and source is None:  # the clip's own sound plays from its start, under the voice
            said = [(float(p["muted"][0]), float(p["muted"][1])) for p in sc.get("speech") or []
                    if p.get("clip") and p.get("muted")]
            sound.scene(n, length, store.path(voice) if voice else None, {"clip": own.sha256, "start": 0.0},
                        str(store.path(own)), True, (voice.sha256 if voice else None, own.sha256),
                        muted=said)
        else:
            sound.scene(n, length, store.path(voice) if voice else None, source,
                        video["path"] if video else None, bool(video and video["has_audio"]),
                        (voice.sha256 if voice else None, video["sha256"] if video else None))
        speech = float(voice.duration or 0.0) if voice else 0.0
        timing = SceneTiming(index=sc["index"], start=round(start, 4), duration=round(length, 4),
                             speech_start=round(start + (SPEECH_LEAD if voice else 0.0), 4),
                             speech_end=round(start + (SPEECH_LEAD + speech if voice else length), 4))
        timings.append(timing)
        if voice is not None and sc.get("speech"):  # the narration, then each line with its speaker's name
            cues += [(round(timing.speech_start + p["start"], 3), round(timing.speech_start + p["end"], 3),
                      p["text"] if p["speaker"] == NARRATOR else f"{p['speaker'].upper()}: {p['text']}")
                     for p in sc["speech"]]
        elif voice is not None:
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
        start += length - step
    if cards.get("end"):
        sound.silence(n + 1, CARD_SECONDS)
        start += CARD_SECONDS - step
    start += step  # the last piece plays to its end
    if not cues:  # a trailer of silent footage still gets a (title) subtitle track
        cues.append((0.0, min(3.0, start), str(inputs["title"])))
    bed: AssetRef | None = inputs.get("music")
    music = (store.path(bed), bed.sha256) if bed is not None else None
    return SoundPlan(sound, lengths, timings, cues, start, music, overlap)


@tool(capability=None, gated=True, version="3", needs=_needs, apply=_apply, renders=True,
      reads=("story", "clip", "audio", "transcript", "sound", "music"), writes=("final",))
def assemble_video(args: AssembleVideoInput, ctx: ToolContext) -> AssembleVideoOutput:
    """Join every scene's clip and sound into the final video, with subtitles. Call once every scene has a clip."""
    fps, (width, height) = ctx.settings.fps, tuple(ctx.inputs.get("size") or ASPECT_SIZES[args.aspect])
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
