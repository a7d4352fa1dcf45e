"""check_continuity: score a scene's still against the reference sheets of the characters in it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from director.errors import ProviderError, ToolArgumentError
from director.prices import Prices
from director.state import AssetRef, Character, Continuity, DirectorState, Storyboard
from director.tooling import ToolContext, require_scene, tool


class CheckContinuityInput(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1; the scene needs its still first.")


class CharacterScore(BaseModel):
    name: str = Field(description="The character.")
    score: float = Field(ge=0.0, le=1.0, description="How closely the still shows them as on their sheet, 0 to 1.")
    reason: str = Field("", description="What differs; empty when nothing does.")


class CheckContinuityOutput(BaseModel):
    score: float = Field(ge=0.0, le=1.0, description="The still's score: its worst-matching character's.")
    reasons: list[str] = Field(description="What differs, one line per finding; empty when nothing does.")
    characters: list[CharacterScore] = Field(description="The score of each character the scene shows.")
    passed: bool = Field(description="The score reached the run's threshold.")
    retake: bool = Field(description="Redraw it: call create_image again with the reasons as `fix` (the run allows "
                                     "a limited number of redraws per scene).")


def _needs(args: CheckContinuityInput, state: DirectorState) -> dict[str, object]:
    scene = require_scene(state, args.scene)
    assert state.storyboard is not None
    if scene.image is None:
        raise ToolArgumentError(f"scene {args.scene} has no still yet; make it with create_image first")
    sheets = {c.name: c.sheet for c in state.storyboard.references_of(args.scene) if isinstance(c, Character)}
    if not sheets:
        raise ToolArgumentError(f"scene {args.scene} shows no character with a reference sheet; "
                                f"draw_character first, or there is nothing to check")
    return {"image": scene.image, "references": sheets, "threshold": state.goal.continuity,
            "retakes_left": max(0, state.goal.retakes - scene.retakes), "scene_prompt": scene.image_prompt}


def _apply(board: Storyboard | None, args: CheckContinuityInput, out: CheckContinuityOutput) -> Storyboard:
    assert board is not None
    scene = board.scene(args.scene)
    assert scene.image is not None
    sheets = {c.name: c.sheet.sha256 for c in board.references_of(args.scene)
              if isinstance(c, Character) and c.sheet is not None}
    scene.continuity = Continuity(score=out.score, reasons=out.reasons, passed=out.passed, image=scene.image.sha256,
                                  references=sheets)
    return board


def _estimate(args: CheckContinuityInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.tokens(model, 4 * 1_290 + 300, 120)


def check(vision: object, image: Path, references: list[tuple[str, Path]], *, scene: str) -> dict[str, tuple[float, str]]:
    """check_continuity with the scene's own words, for a provider that takes them (what the scene asks for, a
    costume or night, is no fault); a provider written before that gets the pictures alone."""
    import inspect

    method = vision.check_continuity  # type: ignore[attr-defined]
    if "scene" in inspect.signature(method).parameters:
        return method(image, references, scene=scene)  # type: ignore[no-any-return]
    return method(image, references)  # type: ignore[no-any-return]


@tool(capability="vision", patient=True, version="1", usual_for=("story",), modes=("story",), needs=_needs, apply=_apply, estimate=_estimate,
      reads=("story", "sheet", "image"), writes=("continuity",))
def check_continuity(args: CheckContinuityInput, ctx: ToolContext) -> CheckContinuityOutput:
    """Score one scene's still against the reference sheets of the characters it shows (places are drawn from their sheets but not scored): 0 to 1, with a reason for each difference. Call it after each create_image of a scene with characters. When the result says retake, call create_image again for that scene with the same prompt and the reasons as fix; a still that passes, or has used its redraws, is kept."""
    refs: dict[str, AssetRef] = dict(ctx.inputs["references"])
    found = check(ctx.backends.vision, ctx.store.path(ctx.inputs["image"]),
                  [(name, ctx.store.path(ref)) for name, ref in refs.items()], scene=str(ctx.inputs.get("scene_prompt", "")))
    scores = [CharacterScore(name=name, score=round(score, 3), reason=reason) for name, (score, reason) in found.items()]
    missing = sorted(set(refs) - set(found))
    if missing:  # a vision backend's reply is input too
        raise ProviderError(f"the continuity check gave no score for {', '.join(missing)}",
                            provider=ctx.backends.vision.name, model=ctx.backends.vision.model)
    score = min(s.score for s in scores)
    passed = score >= float(ctx.inputs["threshold"])
    return CheckContinuityOutput(score=score, reasons=[f"{s.name}: {s.reason}" for s in scores if s.reason],
                                 characters=scores, passed=passed,
                                 retake=not passed and int(ctx.inputs["retakes_left"]) > 0)
