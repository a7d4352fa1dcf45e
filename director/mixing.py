"""The sound track of a cut: each scene's voice (its narration and lines, a line the clip says muted in the
recording), a trailer shot's own sound or a clip's, laid at the scene's start (overlapping by a transition), the
music bed ducked under the voices, and the loudness normalised; mixed in one ffmpeg graph and cached by the hash
of its inputs (assemble_video and mix_sound use it)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from director.captions import CARD_SECONDS
from director.errors import MediaError, ToolArgumentError
from director.media import SPEECH_LEAD, probe, run_ffmpeg, scene_length
from director.state import NARRATOR, AssetRef, SceneTiming
from director.transitions import overlap_frames

if TYPE_CHECKING:
    from director.store import AssetStore, Workspace

AUDIO_RATE = 48_000
STEREO = f"aresample={AUDIO_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
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
        normalised to LOUDNESS (two passes of loudnorm: measure, then a linear gain where the
        peaks allow it, else loudnorm's dynamic mode: a Piper voice under a -14 dB bed measured about -21.7 LUFS
        with -3 dBTP peaks, which +5.7 dB would push to +2.7).
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
