"""The final cut as an editorial timeline (OpenTimelineIO), for finishing in an NLE.

`timeline.otio` is written next to final.mp4. It has:

- a video track "Director" with one clip per scene: the scene's rendered clip from the store,
  placed and trimmed exactly as the cut uses it (SceneTiming), and gaps where title and end cards are;
  with --transition, each join between two scenes is an OTIO Transition centred on the cut point,
  taking half the overlap from either clip (a join with a card is a plain cut at the same point);
- for a trailer, a video track "Source" with each scene's window of the source footage
  (in and out points in the original file);
- an audio track "Narration" with each scene's voice at the moment it is spoken;
- an audio track "Music" with the music bed, when the run has one;
- the subtitles as markers on the timeline, one per cue.

`director export RUN --format otio|fcpxml|edl` writes it in another format through OTIO's
adapters (the FCP X XML and CMX 3600 EDL adapters are installed with Director).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from director.backends.local.vision import parse_subtitles
from director.errors import InputError
from director.state import NARRATOR, AssetRef, DirectorState
from director.store import Workspace

FORMATS = {"otio": ("otio_json", ".otio"), "fcpxml": ("fcpx_xml", ".fcpxml"), "edl": ("cmx_3600", ".edl")}
FCPX_RATES = (23.98, 24, 25, 29.97, 30, 50, 59.94, 60)
"""The frame rates the FCP X XML adapter can write."""


def suffix_of(fmt: str) -> str:
    """The file suffix of a timeline format; InputError for one we do not write."""
    if fmt not in FORMATS:
        raise InputError(f"unknown timeline format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return FORMATS[fmt][1]


def build_timeline(state: DirectorState, workspace: Workspace, fps: int,
                   locate: Callable[[AssetRef], Path] | None = None) -> Any:
    """The OTIO Timeline of a run's final cut; InputError when it has none yet."""
    import opentimelineio as otio

    board = state.storyboard
    if board is None or board.final is None:
        raise InputError(f"run {state.run_id} has no final cut yet: nothing to put on a timeline")

    def rt(seconds: float) -> Any:
        return otio.opentime.RationalTime(round(seconds * fps), fps)

    def span(start: float, duration: float) -> Any:
        return otio.opentime.TimeRange(rt(start), rt(duration))

    def laid(source_start: float, at: float, until: float) -> Any:
        """A range of `until - at` seconds on the cut, counted in whole frames from the cut's own frame of each end
        (not start and length rounded apart, which leaves an end a frame off): whatever came before it on its
        track, a clip laid this way starts and ends within half a frame of its times."""
        return otio.opentime.TimeRange(rt(source_start), otio.opentime.RationalTime(
            round(until * fps) - round(at * fps), fps))

    def gap(at: float, until: float) -> Any:
        return otio.schema.Gap(source_range=laid(0, at, until))

    def media(ref: AssetRef, duration: float) -> Any:
        path = locate(ref) if locate else workspace.abspath(ref.path)
        return otio.schema.ExternalReference(target_url=path.as_uri(), available_range=span(0, duration))

    timeline = otio.schema.Timeline(name=board.title or state.goal.text)
    timeline.global_start_time = rt(0)
    timeline.metadata["director"] = {"run_id": state.run_id, "goal": state.goal.text, "fps": fps,
                                     "final": board.final.video.sha256}
    video = otio.schema.Track(name="Director", kind=otio.schema.TrackKind.Video)
    narration = otio.schema.Track(name="Narration", kind=otio.schema.TrackKind.Audio)
    dialogue = otio.schema.Track(name="Dialogue", kind=otio.schema.TrackKind.Audio)
    source = otio.schema.Track(name="Source", kind=otio.schema.TrackKind.Video)
    scenes = {s.index: s for s in board.scenes}
    spoken_until = said_until = 0.0
    timings = sorted(board.final.timings, key=lambda t: t.start)
    half = board.final.overlap / 2  # each join's cut point sits mid-blend
    kind = {"crossfade": otio.schema.TransitionTypes.SMPTE_Dissolve}.get(board.final.transition,
                                                                           otio.schema.TransitionTypes.Custom)
    total = board.final.video.duration or (timings[-1].start + timings[-1].duration if timings else 0.0)
    title = bool(timings) and timings[0].start > 0.5 / fps  # a title card opens the cut
    if title:
        video.append(otio.schema.Gap(name="Title card", source_range=span(0, timings[0].start + half)))
        source.append(otio.schema.Gap(source_range=span(0, timings[0].start + half)))
    for k, t in enumerate(timings):
        scene = scenes.get(t.index)
        if scene is None or scene.clip is None:
            continue
        clip_length = scene.clip.duration or t.duration
        into = half if (k > 0 or title) else 0.0
        ends_cut = k == len(timings) - 1 and total - (t.start + t.duration) <= 0.5 / fps
        out_of = 0.0 if ends_cut else half
        if half and k > 0:
            video.append(otio.schema.Transition(name=f"{board.final.transition} {k}", transition_type=kind,
                                                in_offset=rt(half), out_offset=rt(half),
                                                metadata={"director": {"transition": board.final.transition,
                                                                       "seconds": board.final.overlap}}))
        video.append(otio.schema.Clip(name=f"Scene {t.index}", media_reference=media(scene.clip, clip_length),
                                      source_range=span(into, t.duration - into - out_of),
                                      metadata={"director": {"scene": t.index, "prompt": scene.image_prompt}}))
        if scene.source is not None and board.footage:
            footage = next((f for f in board.footage if f.index == scene.source.video), None)
            if footage is not None:
                ref = otio.schema.ExternalReference(target_url=Path(footage.path).as_uri(),
                                                    available_range=span(0, footage.duration))
                shown = t.duration - into - out_of  # what the video track shows of the scene
                length = max(0.0, min(shown, scene.source.end - scene.source.start - into))
                source.append(otio.schema.Clip(name=f"Scene {t.index} source", media_reference=ref,
                                               source_range=span(scene.source.start + into, length)))
                if length < shown:
                    source.append(otio.schema.Gap(source_range=span(0, shown - length)))
        if scene.audio is not None and scene.speech:  # the narration on its track, each line on Dialogue's
            for k, part in enumerate(scene.speech):
                track = narration if part.speaker == NARRATOR else dialogue
                at, until = t.speech_start + part.start, (spoken_until if track is narration else said_until)
                if at > until:
                    track.append(gap(until, at))
                # A line's words go in its metadata: a name is kept plain (FCP X XML looks clips up by name).
                name = f"Narration {t.index}" if track is narration else f"{part.speaker.replace(chr(39), '’')} {t.index}.{k}"
                track.append(otio.schema.Clip(name=name, source_range=laid(part.start, at, t.speech_start + part.end),
                                              media_reference=media(scene.audio, scene.audio.duration or part.end),
                                              metadata={} if track is narration else {"director": {
                                                  "speaker": part.speaker, "line": part.text}}))
                if track is narration:
                    spoken_until = t.speech_start + part.end
                else:
                    said_until = t.speech_start + part.end
        elif scene.audio is not None and t.speech_end > t.speech_start:
            if t.speech_start > spoken_until:
                narration.append(gap(spoken_until, t.speech_start))
            length = t.speech_end - t.speech_start
            narration.append(otio.schema.Clip(name=f"Narration {t.index}",
                                              source_range=laid(0, t.speech_start, t.speech_end),
                                              media_reference=media(scene.audio, scene.audio.duration or length)))
            spoken_until = t.speech_end
    if timings and board.final.video.duration:
        tail = board.final.video.duration - (timings[-1].start + timings[-1].duration)
        if tail > 0.5 / fps:  # an end card closes it
            video.append(otio.schema.Gap(name="End card", source_range=span(0, tail + half)))
    timeline.tracks.append(video)
    if any(isinstance(item, otio.schema.Clip) for item in source):
        timeline.tracks.append(source)
    timeline.tracks.append(narration)
    if len(dialogue):
        timeline.tracks.append(dialogue)
    if board.music is not None and board.music.duration:
        # The bed as the mix lays it: the track from the start, repeated to the end (the mix crossfades
        # the repeats and ducks the bed under the voice; an editor redoes both with its own tools).
        music = otio.schema.Track(name="Music", kind=otio.schema.TrackKind.Audio)
        total = video.duration().to_seconds()  # the whole cut, cards included
        placed = 0.0
        while total - placed > 0.5 / fps:
            length = min(board.music.duration, total - placed)
            music.append(otio.schema.Clip(name="Music", media_reference=media(board.music, board.music.duration),
                                          source_range=span(0, length)))
            placed += length
        timeline.tracks.append(music)
    srt = locate(board.final.subtitles) if locate else workspace.abspath(board.final.subtitles.path)
    for cue in parse_subtitles(srt.read_text(encoding="utf-8")) if srt.is_file() else []:
        timeline.tracks.markers.append(otio.schema.Marker(name=cue.text, marked_range=laid(cue.start, cue.start, cue.end),
                                                          color=otio.schema.MarkerColor.YELLOW,
                                                          metadata={"director": {"caption": cue.text}}))
    return timeline


def voices_on_one_track(timeline: Any) -> Any:
    """The timeline with its Narration and Dialogue tracks laid on one track, Voices (they never overlap): an
    EDL takes two audio tracks at most, and music is the other."""
    import opentimelineio as otio

    tracks = {t.name: t for t in timeline.tracks}
    if "Dialogue" not in tracks or "Narration" not in tracks:
        return timeline
    rate = timeline.duration().rate
    parts = sorted(((c.range_in_parent().start_time, c) for name in ("Narration", "Dialogue")
                    for c in tracks[name].find_clips()), key=lambda p: p[0].to_seconds())
    voices = otio.schema.Track(name="Voices", kind=otio.schema.TrackKind.Audio)
    at = otio.opentime.RationalTime(0, rate)
    for start, clip in parts:
        if start > at:
            voices.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, rate), start - at)))
        voices.append(clip.deepcopy())
        at = start + clip.source_range.duration
    merged = otio.schema.Timeline(name=timeline.name, global_start_time=timeline.global_start_time)
    for track in timeline.tracks:
        if track.name == "Narration":
            merged.tracks.append(voices)
        elif track.name != "Dialogue":
            merged.tracks.append(track.deepcopy())
    for marker in timeline.tracks.markers:
        merged.tracks.markers.append(marker.deepcopy())
    return merged


def write_timeline(timeline: Any, out: Path, fmt: str = "otio") -> Path:
    """Write through OTIO's adapter for `fmt` (otio, fcpxml, edl), atomically."""
    import opentimelineio as otio

    suffix_of(fmt)
    adapter, _ = FORMATS[fmt]
    rate = timeline.duration().rate
    if fmt == "fcpxml" and rate not in FCPX_RATES:
        raise InputError(f"FCP X XML takes {', '.join(f'{r:g}' for r in FCPX_RATES)} fps; this cut is {rate:g} fps "
                         f"(DIRECTOR_FPS): export --format otio or edl instead")
    if fmt == "edl":
        try:
            otio.opentime.to_timecode(otio.opentime.RationalTime(0, rate), rate)
        except ValueError:  # OTIO's own check of the rates SMPTE timecode has
            raise InputError(f"an EDL's SMPTE timecode takes rates such as 23.976, 24, 25, 29.97, 30, 50 or 60 fps; "
                             f"this cut is {rate:g} fps (DIRECTOR_FPS): export --format otio instead") from None
        timeline = voices_on_one_track(timeline)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter)
    except Exception as exc:  # an adapter's own limits (for example an EDL's one video track)
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write the timeline as {fmt}: {type(exc).__name__}: {exc}") from None
    tmp.replace(out)
    return out
