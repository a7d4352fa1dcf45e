"""extract_frames: take still frames from chosen shots of a source video."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from director.errors import MediaError, ToolArgumentError
from director.media import write_png
from director.state import AssetRef, DirectorState, Shot, Storyboard
from director.tooling import ToolContext, read_json, require_footage, tool

MAX_WIDTH = 1920


class ExtractFramesInput(BaseModel):
    video: int = Field(ge=1, description="Source video number, from 1.")
    scenes: list[int] = Field(min_length=1, max_length=200, description="Shot numbers from detect_scenes.")
    at: float | None = Field(
        None, ge=0, description="Seconds into each shot to take the frame (kept inside the shot); empty for the middle."
    )
    per_scene: int = Field(1, ge=1, le=8, description="Frames per shot, spread evenly across it.")


class Frame(BaseModel):
    shot: int = Field(description="Shot number.")
    time: float = Field(description="Seconds into the source video.")
    image: AssetRef = Field(description="The frame as a PNG (at most 1920 px wide).")


class ExtractFramesOutput(BaseModel):
    video: int = Field(description="Source video number.")
    frames: list[Frame] = Field(description="Frames in the order asked.")


def _needs(args: ExtractFramesInput, state: DirectorState) -> dict[str, object]:
    footage = require_footage(state, args.video)
    if footage.shots is None:
        raise ToolArgumentError(f"source {args.video} has no detected shots yet; call detect_scenes first")
    return {"path": footage.path, "sha256": footage.sha256, "shots": footage.shots}


def _apply(board: Storyboard | None, args: ExtractFramesInput, out: ExtractFramesOutput) -> Storyboard:
    assert board is not None
    for scene in board.scenes:
        window = scene.source
        if window is None or window.video != args.video:
            continue
        frames = [f for f in out.frames if f.shot == window.shot]
        inside = [f for f in frames if window.start <= f.time <= window.end]
        if frames:
            board.set_frame(scene.index, (inside or frames)[len(inside or frames) // 2].image)
    return board


def times_for(shot: Shot, *, at: float | None, per_scene: int, fps: float) -> list[float]:
    last = max(shot.start, shot.end - 1.0 / fps)
    if per_scene == 1:
        t = shot.start + at if at is not None else (shot.start + shot.end) / 2
        return [min(max(t, shot.start), last)]
    return [shot.start + (last - shot.start) * (i + 0.5) / per_scene for i in range(per_scene)]


def grab(path: str, times: list[float], out_dir: Path) -> list[Path]:
    """Decode the frame shown at each time (PyAV: seek to the keyframe before, decode forward)."""
    import av
    from PIL import Image

    files: list[Path] = []
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        time_base = stream.time_base
        if time_base is None:  # a demuxed stream has one; PyAV types it optional
            raise MediaError("the video stream has no time base to seek by")
        for t in times:
            container.seek(int(max(0.0, t - 0.001) / time_base), stream=stream, backward=True)
            chosen = None  # the frame on screen at t: the last one that starts at or before it
            for frame in container.decode(stream):
                if frame.time is None:
                    chosen = frame
                    break
                if frame.time <= t + 1e-3:
                    chosen = frame
                    continue
                chosen = chosen or frame
                break
            if chosen is None:
                raise MediaError(f"no frame at {t:.2f} s")
            img = chosen.to_image()
            if img.width > MAX_WIDTH:
                img = img.resize((MAX_WIDTH, round(img.height * MAX_WIDTH / img.width)), Image.Resampling.LANCZOS)
            target = out_dir / f"frame-{len(files)}-{t:.3f}.png"
            write_png(img, target)
            files.append(target)
    return files


@tool(capability=None, version="1", needs=_needs, apply=_apply, modes=("trailer",),
      reads=("story", "shots"), writes=("frame",),
      clears=("prompt", "image", "clip", "final"))
def extract_frames(args: ExtractFramesInput, ctx: ToolContext) -> ExtractFramesOutput:
    """Take frames from shots of one source video: by default one from the middle of each shot, or `at` seconds into it, or several spread across it. Frames for the trailer's planned scenes become their source frames."""
    from director.media import probe

    shots = {s.index: s for s in (Shot.model_validate(x) for x in read_json(ctx, ctx.inputs["shots"]))}
    unknown = [n for n in args.scenes if n not in shots]
    if unknown:
        raise ToolArgumentError(f"source {args.video} has no shot {unknown[0]}; it has shots 1..{len(shots)}")
    fps = probe(Path(str(ctx.inputs["path"]))).fps or 25.0
    plan = [(n, t) for n in args.scenes for t in times_for(shots[n], at=args.at, per_scene=args.per_scene, fps=fps)]
    work = ctx.store.temp_path("")
    work.mkdir()
    try:
        files = grab(str(ctx.inputs["path"]), [t for _, t in plan], work)
        frames = [Frame(shot=n, time=round(t, 3), image=ctx.store.put(f, "image")) for (n, t), f in zip(plan, files)]
    finally:
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()
    return ExtractFramesOutput(video=args.video, frames=frames)
