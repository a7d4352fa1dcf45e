"""write_story: plan the piece (title, cast, art style, scenes)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from director.errors import ProviderError
from director.prices import Prices
from director.state import NARRATOR, Character, DirectorState, Place, Scene, Storyboard
from director.story_draft import StoryDraft
from director.tooling import ToolContext, tool
from director.voices import cast


class WriteStoryInput(BaseModel):
    goal: str = Field(min_length=1, max_length=4000, description="What the video is about, in the user's words.")
    scenes: int = Field(ge=1, le=50, description="Exactly how many scenes the story has.")
    seconds: float | None = Field(None, ge=5, le=600, description="Target length of the whole video in seconds, "
                                                                  "when the user asked for one; the narration is "
                                                                  "sized to it.")


def _needs(args: WriteStoryInput, state: DirectorState) -> dict[str, object]:
    # The user's choice, never the brain's: part of the memo key, so "--dialogue lots" writes anew.
    return {"dialogue": state.goal.dialogue} if state.goal.dialogue != "some" else {}


def _apply(board: Storyboard | None, args: WriteStoryInput, out: StoryDraft) -> Storyboard:
    # A voice for each character, chosen from their kind and look and kept for the whole run (director.voices).
    voices = cast((c.name, c.kind, c.look) for c in out.characters)
    return Storyboard(
        title=out.title,
        art_style=out.art_style,
        narrator=out.narrator,
        # Only what a writer plans: a sheet is made by draw_character, never taken from a model's reply.
        characters=[Character(name=c.name, kind=c.kind, look=c.look, voice=voices.get(c.name))
                    for c in out.characters],
        places=[Place(name=p.name, look=p.look) for p in out.places],
        scenes=[Scene(index=i + 1, image_prompt=s.image_prompt, shot=s.shot, motion=s.motion, narration=s.narration,
                      lines=s.lines)
                for i, s in enumerate(out.scenes)],
    )


MAX_LINE_CHARS = 300


def spoken_lines(draft: StoryDraft, dialogue: str) -> tuple[StoryDraft, list[str]]:
    """The draft with only the lines a cast member speaks (a model's line for 'the narrator' or a name not in
    the cast is dropped, and said), and none at all when the user asked for no dialogue."""
    cast_names = {c.name.lower(): c.name for c in draft.characters}
    dropped: list[str] = []
    scenes = []
    for scene in draft.scenes:
        kept = []
        for line in scene.lines if dialogue != "none" else []:
            name = cast_names.get(line.speaker.strip().lower())
            text = " ".join(line.text.replace('"', "").split())
            if name and text and len(text) <= MAX_LINE_CHARS:
                kept.append(line.model_copy(update={"speaker": name, "text": text}))
            elif name and len(text) > MAX_LINE_CHARS:
                dropped.append(f"{name} (a line of {len(text)} characters; at most {MAX_LINE_CHARS})")
            elif line.speaker.strip().lower() != NARRATOR:
                dropped.append(f"{line.speaker[:60]!r}, who is not in the cast")
        scenes.append(scene.model_copy(update={"lines": kept}))
    return draft.model_copy(update={"scenes": scenes}), dropped


def _estimate(args: WriteStoryInput, inputs: object, model: str, prices: Prices) -> float:
    return prices.tokens(model, 1_500, 400 + 150 * args.scenes)


@tool(capability="story", version="2", patient=True, usual_for=("story",), modes=("story",), needs=_needs, apply=_apply, estimate=_estimate, writes=("story",))
def write_story(args: WriteStoryInput, ctx: ToolContext) -> StoryDraft:
    """Write the story for the video: a title, one art style, a cast with stable looks, and for each scene an image prompt and one or two sentences of narration. Call this first, once."""
    dialogue = str(ctx.inputs.get("dialogue", "some"))
    draft = ctx.backends.story.write_story(args.goal, scenes=args.scenes, seed=ctx.seed, seconds=args.seconds,
                                           dialogue=dialogue)
    if len(draft.scenes) < args.scenes:
        raise ProviderError(
            f"the story came back with {len(draft.scenes)} scenes; {args.scenes} were asked for",
            provider=ctx.backends.story.name,
            model=ctx.backends.story.model,
            retryable=True,
        )
    draft = draft.model_copy(update={"scenes": draft.scenes[: args.scenes]})
    names = [c.name.strip().lower() for c in draft.characters]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # sheets, voices and lines are kept by name: two of one name would never both be drawn
        raise ProviderError(f"the story gave two characters the name {twice[0]!r}; each needs a name of its own",
                            provider=ctx.backends.story.name, model=ctx.backends.story.model, retryable=True)
    draft, strangers = spoken_lines(draft, dialogue)
    if strangers:
        ctx.warn(f"lines left unsaid: {'; '.join(sorted(set(strangers)))}")
    left_out = getattr(ctx.backends.story, "dropped", None)
    missing = left_out(args.goal, draft) if callable(left_out) else []
    if missing:  # never silent: what the writer could not fit in is named
        them = "them" if len(missing) > 1 else "it"
        ctx.warn(f"the offline story leaves out {', '.join(repr(w) for w in missing[:6])}: its templates have no "
                 f"place for {them} (a Gemini key or a model server of your own writes {them} in)")
    return draft
