"""detect_scenes: find the cuts in a source video with PySceneDetect."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field

from director.errors import MediaError
from director.state import AssetRef, DirectorState, Shot, Storyboard
from director.tooling import ToolContext, require_footage, tool

KEEP_LONGEST = 12


class DetectScenesInput(BaseModel):
    video: int = Field(ge=1, description="Source video number, from 1 (the order of --source).")
    detector: Literal["content", "adaptive"] = Field(
        "content", description="content: colour/brightness jumps between frames; adaptive: the same against a rolling average (fewer false cuts on fast motion)."
    )
    threshold: float | None = Field(None, gt=0, description="Detector threshold; leave empty for PySceneDetect's default.")
    min_scene_seconds: float = Field(1.0, ge=0.1, le=30, description="Shortest shot to report, in seconds.")


class DetectScenesOutput(BaseModel):
    video: int = Field(description="Source video number.")
    count: int = Field(description="How many shots were found (a video with no cut is one shot).")
    duration: float = Field(description="Length of the video in seconds.")
    shots: AssetRef = Field(description="JSON file with every shot: index, start, end, frames, mean colour.")
    longest: list[Shot] = Field(description=f"Up to {KEEP_LONGEST} of the longest shots, in time order.")


def _needs(args: DetectScenesInput, state: DirectorState) -> dict[str, object]:
    footage = require_footage(state, args.video)
    return {"path": footage.path, "sha256": footage.sha256}


def _apply(board: Storyboard | None, args: DetectScenesInput, out: DetectScenesOutput) -> Storyboard:
    assert board is not None
    footage = board.video(args.video)
    footage.shots, footage.shot_count = out.shots, out.count
    return board


def detect(path: str, *, detector: str, threshold: float | None, min_seconds: float,
           report: object = None) -> tuple[list[Shot], float, float]:
    """Shots of a video (downscaled for speed, so 4K costs little more than 720p)."""
    import logging

    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    logging.getLogger("pyscenedetect").setLevel(logging.WARNING)  # it logs each run at INFO on its own handler
    video = open_video(path)
    fps = float(video.frame_rate)
    min_frames = max(1, round(min_seconds * fps))
    if detector == "adaptive":
        det = AdaptiveDetector(min_scene_len=min_frames, **({"adaptive_threshold": threshold} if threshold else {}))
    else:
        det = ContentDetector(min_scene_len=min_frames, **({"threshold": threshold} if threshold else {}))
    manager = SceneManager()
    manager.auto_downscale = True
    manager.add_detector(det)
    total = video.duration.frame_num if video.duration is not None else 0
    step = max(1, total // 10)

    def progress(_frame: object, timecode: object) -> None:
        n = timecode.frame_num  # type: ignore[attr-defined]
        if report and total and n % step == 0:
            report(f"scanned {100 * n // total}%")  # type: ignore[operator]

    manager.detect_scenes(video, callback=progress)
    duration = video.duration.seconds if video.duration is not None else 0.0
    scenes = manager.get_scene_list(start_in_scene=True)
    if not scenes:
        return [Shot(index=1, start=0.0, end=round(duration, 3), start_frame=0, end_frame=total)], duration, fps
    shots = [Shot(index=i, start=round(a.seconds, 3), end=round(b.seconds, 3),
                  start_frame=a.frame_num, end_frame=b.frame_num) for i, (a, b) in enumerate(scenes, start=1)]
    return shots, duration, fps


def mean_colours(path: str, shots: list[Shot]) -> None:
    """Average colour of each shot's middle frame (for choosing distinct shots)."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        if time_base is None:  # a demuxed stream has one; PyAV types it optional
            raise MediaError("the video stream has no time base to seek by")
        for shot in shots:
            middle = (shot.start + shot.end) / 2
            container.seek(int(middle / time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if frame.time is None or frame.time >= middle - 0.05:
                    rgb = frame.to_ndarray(format="rgb24", width=64, height=36)
                    shot.mean_rgb = [int(v) for v in rgb.reshape(-1, 3).mean(axis=0)]
                    break


@tool(capability=None, version="1", needs=_needs, apply=_apply, writes=("shots",), modes=("trailer",))
def detect_scenes(args: DetectScenesInput, ctx: ToolContext) -> DetectScenesOutput:
    """Find the shots (cuts) of one source video with PySceneDetect. Returns the number of shots, the longest ones, and a file listing all of them. A video with no cut is one shot. Call once per source."""
    path = str(ctx.inputs["path"])
    try:
        shots, duration, _fps = detect(path, detector=args.detector, threshold=args.threshold,
                                       min_seconds=args.min_scene_seconds, report=ctx.report)
        mean_colours(path, shots)
    except (OSError, RuntimeError, ValueError) as exc:
        raise MediaError(f"scene detection failed on source {args.video}: {exc}") from exc
    tmp = ctx.store.temp_path(".json")
    tmp.write_text(json.dumps([s.model_dump() for s in shots]), encoding="utf-8")
    longest = sorted(sorted(shots, key=lambda s: -s.duration)[:KEEP_LONGEST], key=lambda s: s.start)
    return DetectScenesOutput(video=args.video, count=len(shots), duration=round(duration, 3),
                              shots=ctx.store.put(tmp, "document"), longest=longest)
