"""write_story: plan the piece (title, cast, art style, scenes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from director.errors import ProviderError
from director.limits import Prices
from director.state import Character, Place, Scene, Storyboard, StoryDraft
from director.tooling import ToolContext, tool


class WriteStoryInput(BaseModel):
    goal: str = Field(min_length=1, max_length=4000, description="What the video is about, in the user's words.")
    scenes: int = Field(ge=1, le=50, description="Exactly how many scenes the story has.")
    seconds: float | None = Field(None, ge=5, le=600, description="Target length of the whole video in seconds, "
                                                                  "when the user asked for one; the narration is "
                                                                  "sized to it.")


def _apply(board: Storyboard | None, args: WriteStoryInput, out: StoryDraft) -> Storyboard:
    return Storyboard(
        title=out.title,
        art_style=out.art_style,
        narrator=out.narrator,
        # Only what a writer plans: a sheet is made by draw_character, never taken from a model's reply.
        characters=[Character(name=c.name, kind=c.kind, look=c.look) for c in out.characters],
        places=[Place(name=p.name, look=p.look) for p in out.places],
        scenes=[Scene(index=i + 1, image_prompt=s.image_prompt, shot=s.shot, motion=s.motion, narration=s.narration)
                for i, s in enumerate(out.scenes)],
    )


def _estimate(args: WriteStoryInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.tokens(model, 1_500, 400 + 150 * args.scenes)


@tool(capability="story", patient=True, usual_for=("story",), modes=("story",), apply=_apply, estimate=_estimate, writes=("story",))
def write_story(args: WriteStoryInput, ctx: ToolContext) -> StoryDraft:
    """Write the story for the video: a title, one art style, a cast with stable looks, and for each scene an image prompt and one or two sentences of narration. Call this first, once."""
    draft = ctx.backends.story.write_story(args.goal, scenes=args.scenes, seed=ctx.seed, seconds=args.seconds)
    if len(draft.scenes) < args.scenes:
        raise ProviderError(
            f"the story came back with {len(draft.scenes)} scenes; {args.scenes} were asked for",
            provider=ctx.backends.story.name,
            model=ctx.backends.story.model,
            retryable=True,
        )
    draft = draft.model_copy(update={"scenes": draft.scenes[: args.scenes]})
    left_out = getattr(ctx.backends.story, "dropped", None)
    missing = left_out(args.goal, draft) if callable(left_out) else []
    if missing:  # never silent: what the writer could not fit in is named
        them = "them" if len(missing) > 1 else "it"
        ctx.warn(f"the offline story leaves out {', '.join(repr(w) for w in missing[:6])}: its templates have no "
                 f"place for {them} (a Gemini key or a model server of your own writes {them} in)")
    return draft
