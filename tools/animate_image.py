"""animate_image: turn one scene's still into a clip as long as its narration."""

from __future__ import annotations


from pydantic import BaseModel, Field

from director.backends import MOTIONS
from director.errors import MediaError, ToolArgumentError
from director.limits import Prices
from director.models import clip_seconds
from director.media import hold_still, probe, render_slot, scene_length
from director.state import ASPECT_SIZES, Aspect, AssetRef, DirectorState, Motion, Storyboard
from director.tooling import ToolContext, require_scene, tool



class AnimateImageInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1. The scene needs an image and a narration first.")
    aspect: Aspect = Field(description="Frame shape of the clip; the same as the images.")
    motion: Motion = Field("auto", description="Camera move; auto varies it from scene to scene; still holds the picture.")
    prompt: str | None = Field(None, max_length=2000, description="What should move, for video models; optional.")


class AnimateImageOutput(BaseModel):
    clip: AssetRef = Field(description="The silent H.264 clip.")
    motion: str = Field(description="The camera move used.")


def _needs(args: AnimateImageInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    # A scene is as long as its narration, unless its source audio fixed its length.
    timing = scene.audio if scene.length is None else "fixed"
    missing = [name for name, ref in (("image", scene.image), ("narration", timing)) if ref is None]
    if missing:
        raise ToolArgumentError(f"scene {args.scene} has no {' or '.join(missing)} yet; make it first")
    assert scene.image is not None
    return {"image": scene.image, "speech_seconds": scene.audio.duration if scene.audio else None,
            "length": scene.length, "image_prompt": scene.image_prompt}


def duration_of(inputs: dict, fps: int) -> float:
    if inputs.get("length"):
        return max(1, round(float(inputs["length"]) * fps)) / fps
    return scene_length(float(inputs["speech_seconds"] or 0.0), fps)


def _apply(board: Storyboard | None, args: AnimateImageInput, out: AnimateImageOutput) -> Storyboard:
    assert board is not None
    board.set_clip(args.scene, out.clip)
    return board


def pick_motion(scene: int, seed: int) -> str:
    return MOTIONS[(scene - 1 + seed) % len(MOTIONS)]


def _estimate(args: AnimateImageInput, inputs: dict, model: str, prices: Prices) -> float:
    if args.motion == "still":
        return 0.0  # held locally, whoever animates
    # A video model is billed for the clip length asked for, without its own sound where it can leave it
    # out (the narration replaces it); a model that always makes sound is priced with it (Prices.video).
    return prices.video(model, clip_seconds(model, duration_of(inputs, 30)), resolution="720p", audio=False)


@tool(capability="motion", gated=True, usual_for=("story", "trailer"), needs=_needs, apply=_apply, estimate=_estimate, renders=True,
      reads=("story", "image", "audio"), writes=("clip",), clears=("final",))
def animate_image(args: AnimateImageInput, ctx: ToolContext) -> AnimateImageOutput:
    """Animate one scene's still into a video clip exactly as long as its narration plus a short pause. Clips for different scenes can be made in the same turn."""
    fps = ctx.settings.fps
    duration = duration_of(dict(ctx.inputs), fps)
    motion = pick_motion(args.scene, ctx.seed) if args.motion == "auto" else args.motion
    tmp = ctx.store.temp_path(".mp4")
    if motion == "still":  # no camera and no model: hold the picture (free, on any backend)
        with render_slot(ctx.settings.render_jobs):
            hold_still(ctx.store.path(ctx.inputs["image"]), tmp, size=ASPECT_SIZES[args.aspect], duration=duration,
                       fps=fps, crf=ctx.settings.crf, preset=ctx.settings.x264_preset)
        return AnimateImageOutput(clip=ctx.store.put(tmp, "video"), motion=motion)
    ctx.backends.motion.animate(
        ctx.store.path(ctx.inputs["image"]),
        prompt=args.prompt or str(ctx.inputs["image_prompt"]),
        duration=duration,
        motion=motion,
        size=ASPECT_SIZES[args.aspect],
        fps=fps,
        out=tmp,
        report=ctx.report,
    )
    got = probe(tmp)
    if not got.duration or got.width is None:
        raise MediaError(f"clip for scene {args.scene} has no video")
    return AnimateImageOutput(clip=ctx.store.put(tmp, "video"), motion=motion)
