"""animate_image: turn one scene's still into a clip as long as its narration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from director.backends import MOTIONS, animate
from director.backends.local.story import camera_move
from director.choices import ASPECT_SIZES, Aspect, Motion, input_size, size_inputs
from director.errors import MediaError, SafetyBlocked, ToolArgumentError
from director.media import SPEECH_LEAD, hold_still, probe, render_slot, scene_length
from director.models import clip_seconds, extension_plan, limits_of
from director.prices import Prices
from director.prompting import render
from director.speech import heard_in
from director.state import NARRATOR, AssetRef, DirectorState, Spoken, Storyboard
from director.tooling import ToolContext, require_board, require_scene, tool

NEGATIVE = ("on-screen text, captions, subtitles, watermarks, logos, distorted or morphing faces, extra limbs or "
            "fingers, flicker, sudden cuts")
"""What a generated clip must never show (Veo's negativePrompt; Omni reads it as 'Avoid: ...')."""


class AnimateImageInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1. The scene needs an image and a narration first.")
    aspect: Aspect = Field(description="Frame shape of the clip; the same as the images.")
    motion: Motion = Field("auto", description="Camera move; auto varies it from scene to scene; still holds the picture.")
    prompt: str | None = Field(None, max_length=2000, description="What should move, for video models; optional "
                                                                  "(by default the scene's own motion line).")


class AnimateImageOutput(BaseModel):
    clip: AssetRef = Field(description="The clip.")
    motion: str = Field(description="The camera move used; footage for a trailer shot made from its own footage.")
    sound: bool = Field(False, description="The clip carries its model's own sound, mixed under the narration.")
    note: str | None = Field(None, description="How the clip was made when not as asked (a local fallback).")
    speech: list[Spoken] = Field(default_factory=list, description="The scene's speech with the lines the clip "
                                                                   "says timed from the clip (empty: as recorded).")


def _needs(args: AnimateImageInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    board = require_board(state)
    # A scene is as long as its narration, unless its source audio fixed its length.
    timing = scene.audio if scene.length is None else "fixed"
    missing = [name for name, ref in (("image", scene.image), ("narration", timing)) if ref is None]
    if missing:
        raise ToolArgumentError(f"scene {args.scene} has no {' or '.join(missing)} yet; make it first")
    assert scene.image is not None
    goal = state.finish
    inputs: dict[str, object] = {"image": scene.image, "speech_seconds": scene.audio.duration if scene.audio else None,
                                 "length": scene.length, "image_prompt": scene.image_prompt,
                                 **size_inputs(goal, args.aspect)}
    if scene.motion or scene.shot:  # the writer's direction; older storyboards have none
        inputs.update(shot=scene.shot, scene_motion=scene.motion, art_style=board.art_style)
    if goal.clip_sound != "auto":
        inputs["clip_sound"] = goal.clip_sound
    if goal.flow and args.scene < len(board.scenes) and board.scene(args.scene + 1).image is not None:
        inputs["last_frame"] = board.scene(args.scene + 1).image  # the next scene's still ends this clip
    if goal.resolution not in ("auto", "720p"):
        inputs["resolution"] = goal.resolution
    in_shot = [p for p in scene.speech if p.speaker != NARRATOR and re.search(rf"\b{re.escape(p.speaker)}\b",
                                                                               scene.image_prompt)]
    if goal.lip_sync != "off" and goal.clip_sound != "off" and in_shot:  # lines a speaking video model can say
        inputs["lines"] = [p.model_dump(include={"speaker", "text", "start", "end"}) for p in in_shot]
        inputs["speech"] = [p.model_dump() for p in scene.speech]
    if scene.source is not None and state.storyboard is not None:  # a trailer shot: its footage, by content
        footage = next((f for f in state.storyboard.footage if f.index == scene.source.video), None)
        if footage is not None:
            inputs["footage"] = {"sha256": footage.sha256, "start": scene.source.start, "end": scene.source.end}
            inputs["footage_path"] = footage.path
    return inputs


def duration_of(inputs: Mapping[str, Any], fps: int) -> float:
    if inputs.get("length"):
        return max(1, round(float(inputs["length"]) * fps)) / fps
    return scene_length(float(inputs["speech_seconds"] or 0.0), fps)


def _apply(board: Storyboard | None, args: AnimateImageInput, out: AnimateImageOutput) -> Storyboard:
    assert board is not None
    board.set_clip(args.scene, out.clip)
    scene = board.scene(args.scene)
    scene.clip_sound, scene.clip_note = out.sound, out.note
    if out.speech:
        scene.speech = out.speech
    return board


def speaks(backend: Any) -> bool:
    """The video model can say a character's line in the clip: Omni Flash always makes sound; Veo 3.1 when
    asked (generateAudio)."""
    return getattr(backend, "name", "") in ("omni", "veo") and bool(limits_of(backend.model).sound
                                                                   or backend.name == "omni")


def said_in_clip(inputs: Mapping[str, Any]) -> str:
    """The lines for the prompt, as Google's video guides quote dialogue: who says it, a colon, the words in
    quotation marks; with roughly when (seconds into the clip), which the model may not keep."""
    return "\n".join(f'At about {SPEECH_LEAD + line["start"]:.0f} s, {line["speaker"]} says: "{line["text"]}"'
                     for line in inputs["lines"])


def timed_from_clip(clip: Path, inputs: Mapping[str, Any], warn: Any, scene: int) -> list[Spoken]:
    """The scene's speech with each line the clip says timed from its sound (the recorded take muted there); a
    line the clip did not say stays the recorded voice, and is said in a warning line."""
    speech = [Spoken(**p) for p in inputs["speech"]]
    asked = {(line["speaker"], line["text"]) for line in inputs["lines"]}
    windows = []
    for k, part in enumerate(speech):  # where to listen: around the recorded take, never into its neighbours
        before = speech[k - 1].end if k else 0.0
        after = speech[k + 1].start if k + 1 < len(speech) else part.end + 1.5
        windows.append((SPEECH_LEAD + max(before, part.start - 0.5), SPEECH_LEAD + min(after, part.end + 1.0)))
    heard = heard_in(clip, windows)
    missed = []
    for k, part in enumerate(speech):
        if (part.speaker, part.text) not in asked:
            continue
        if heard[k] is None:
            missed.append(part.speaker)
            continue
        a, b = heard[k]  # type: ignore[misc]
        speech[k] = part.model_copy(update={"start": round(a - SPEECH_LEAD, 3), "end": round(b - SPEECH_LEAD, 3),
                                            "clip": True, "muted": (part.start, part.end)})
    for k in range(1, len(speech)):  # one after another, as the subtitles show them
        if speech[k - 1].end > speech[k].start:
            earlier, later = speech[k - 1], speech[k]
            cut = later.start if later.clip else earlier.end
            speech[k - 1] = earlier.model_copy(update={"end": round(min(earlier.end, cut), 3)})
            speech[k] = later.model_copy(update={"start": round(max(later.start, speech[k - 1].end), 3)})
    if missed:
        warn(f"scene {scene}: the clip did not say {', '.join(missed)}'s line; the recorded voice says it")
    return speech


def pick_motion(scene: int, seed: int) -> str:
    return MOTIONS[(scene - 1 + seed) % len(MOTIONS)]


def motion_prompt(inputs: Mapping[str, Any], camera: str) -> str:
    """What moves, in the words Google's Veo guide asks for: the shot, the subject and its action, one camera
    move, the ambience and a sound cue (the writer's motion line), and the style kept from the first frame."""
    if "scene_motion" not in inputs:
        return f"{inputs['image_prompt']}\nCamera: slow {camera}. Gentle, natural motion; keep the characters and art style."
    return render("motion.md", shot=inputs["shot"] or "Medium shot", scene=inputs["image_prompt"],
                  motion=inputs["scene_motion"], camera=camera, art_style=inputs["art_style"])


def _estimate(args: AnimateImageInput, inputs: Mapping[str, Any], model: str, prices: Prices) -> float:
    if args.motion == "still":
        return 0.0  # held locally, whoever animates
    # A video model is billed for the clip length asked for, without its own sound where it can leave it
    # out (the narration replaces it); a model that always makes sound is priced with it (Prices.video).
    # A scene longer than the longest clip adds the extensions that cover it, each priced as it is billed.
    limits = limits_of(model)
    resolution = str(inputs.get("resolution") or limits.default_resolution or "720p")
    keep = inputs.get("clip_sound") == "keep"
    duration = duration_of(inputs, 30)
    first = clip_seconds(model, duration, resolution)
    cost = prices.video(model, first, resolution=resolution, audio=keep)
    for add in extension_plan(model, first, duration):
        cost += prices.video(model, limits.extension_asks or add, resolution=limits.extension_resolution or resolution,
                             audio=keep)
    return cost


@tool(capability="motion", version="2", gated=True, usual_for=("story", "trailer"), needs=_needs, apply=_apply,
      estimate=_estimate, renders=True, reads=("story", "image", "audio"), writes=("clip",), clears=("final",))
def animate_image(args: AnimateImageInput, ctx: ToolContext) -> AnimateImageOutput:
    """Animate one scene's still into a video clip exactly as long as its narration plus a short pause. Clips for different scenes can be made in the same turn."""
    fps = ctx.settings.fps
    duration = duration_of(dict(ctx.inputs), fps)
    size = input_size(ctx.inputs, ASPECT_SIZES[args.aspect])
    named = camera_move(str(ctx.inputs.get("scene_motion") or ""))
    motion = (named or pick_motion(args.scene, ctx.seed)) if args.motion == "auto" else args.motion
    tmp = ctx.store.temp_path(".mp4")
    if motion == "still":  # no camera and no model: hold the picture (free, on any backend)
        with render_slot(ctx.settings.render_jobs):
            hold_still(ctx.store.path(ctx.inputs["image"]), tmp, size=size, duration=duration,  # type: ignore[arg-type]
                       fps=fps, crf=ctx.settings.crf, preset=ctx.settings.x264_preset)
        return AnimateImageOutput(clip=ctx.store.put(tmp, "video"), motion=motion)
    footage = ctx.inputs.get("footage")
    if footage and getattr(ctx.backends.motion, "name", "") == "local":
        # Offline, a trailer shot is its own footage, styled as its still was: the shot moves, the camera does not.
        from director.backends.local.footage import render_footage

        with render_slot(ctx.settings.render_jobs):
            ops = render_footage(Path(str(ctx.inputs["footage_path"])), tmp, start=float(footage["start"]),
                                 end=float(footage["end"]), duration=duration, instruction=str(ctx.inputs["image_prompt"]),
                                 size=size, fps=fps, crf=ctx.settings.crf, preset=ctx.settings.x264_preset,  # type: ignore[arg-type]
                                 report=ctx.report)
        ctx.report(f"the shot's own footage, {', '.join(ops) or 'as it is'}")
        return AnimateImageOutput(clip=ctx.store.put(tmp, "video"), motion="footage")
    image = ctx.store.path(ctx.inputs["image"])
    last = ctx.inputs.get("last_frame")
    talk = bool(ctx.inputs.get("lines")) and speaks(ctx.backends.motion)
    prompt = args.prompt or motion_prompt(ctx.inputs, motion.replace("_", " "))
    shot = dict(prompt=f"{prompt}\n{said_in_clip(ctx.inputs)}" if talk else prompt, negative=NEGATIVE,
                duration=duration, motion=motion, size=size, fps=fps, out=tmp, report=ctx.report,
                seed=(ctx.seed * 1000 + args.scene) % 2**32, last_frame=ctx.store.path(last) if last else None,
                resolution=str(ctx.inputs.get("resolution") or "") or None,
                sound="speech" if talk else ctx.inputs.get("clip_sound", "auto"),
                job=ctx.job)
    if shot["resolution"] is None:
        shot["resolution"] = limits_of(ctx.backends.motion.model).default_resolution or "720p"
    note = None
    try:
        made = animate(ctx.backends.motion, image, **shot)
    except SafetyBlocked as exc:
        # One scene the video model will not make is that scene's Ken Burns move, never a failed run.
        from director.backends.local import KenBurns

        note = f"{ctx.backends.motion.name} would not make this clip ({exc}); it is a local {motion.replace('_', ' ')} instead"
        ctx.warn(note)
        tmp.unlink(missing_ok=True)
        local = KenBurns(crf=ctx.settings.crf, preset=ctx.settings.x264_preset, jobs=ctx.settings.render_jobs)
        made = animate(local, image, **{**shot, "motion": motion if motion in MOTIONS else "zoom_in"})
    got = probe(tmp)
    if not got.duration or got.width is None:
        raise MediaError(f"clip for scene {args.scene} has no video")
    sound = made.sound and got.audio_codec is not None and ctx.inputs.get("clip_sound", "auto") != "off"
    speech = timed_from_clip(tmp, ctx.inputs, ctx.warn, args.scene) if talk and sound and note is None else []
    return AnimateImageOutput(clip=ctx.store.put(tmp, "video"), motion=motion, sound=sound, note=note, speech=speech)
