"""A story as a writer returns it: title, style, cast, places and scenes, with no assets.

The same models are the structured-output schema the story models are asked for; the storyboard
(director.state) builds its characters, places and scenes on them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class CastPlan(BaseModel):
    """One member of the cast as a writer plans it (the story's schema: no assets)."""

    name: str = Field(description="What the story calls them.")
    kind: str = Field(description="Species or role, e.g. 'cat', 'girl', 'robot'.")
    look: str = Field(description="Stable visual description: colours, clothes, features.")


class Line(BaseModel):
    """Words a character says aloud in a scene, after its narration."""

    # No length limits in the schema (OpenAI's strict mode refuses them): write_story.spoken_lines checks them.
    speaker: str = Field(description="Who says it: a cast member's name as the characters list spells it.")
    text: str = Field(description="Exactly what they say, with no stage directions and no quotation marks.")


class PlacePlan(BaseModel):
    """A place the story returns to, as a writer plans it."""

    name: str = Field(description="What the story calls it, as the image prompts name it, e.g. 'the lighthouse'.")
    look: str = Field(description="Stable visual description: shape, colours, landmarks.")


class ScenePlan(BaseModel):
    """One scene as a writer plans it: picture, camera, movement and words."""

    image_prompt: str = Field(description="Who is where doing what, the setting and the light; at most 40 words.")
    shot: str = Field(description="Shot size and camera angle, e.g. 'wide shot, eye level' or 'close-up, low angle'.")
    motion: str = Field(description="What moves during the clip, one camera move, the ambience and one sound cue; "
                                    "at most 40 words, e.g. 'Pip trots to the pond as leaves drift down; slow "
                                    "dolly in; a quiet garden afternoon; a frog plops into the water.'")
    narration: str = Field(description="One or two sentences read aloud over the scene.")
    lines: list[Line] = Field(default_factory=list, description="What characters say aloud after the narration, in "
                                                                "order; empty when nobody speaks.")


class StoryDraft(BaseModel):
    """A story as a writer returns it (also the structured-output schema for Gemini)."""

    title: str = Field(description="Short title of the piece.")
    art_style: str = Field(description="One concrete art style for every image.")
    narrator: str = Field(description="Who reads the narration and how, for the voice: persona, tone and pace in "
                                      "at most 15 words, e.g. 'a warm grandparent, soft and unhurried, at bedtime'.")
    characters: list[CastPlan] = Field(description="Recurring characters with stable looks.")
    places: list[PlacePlan] = Field(default_factory=list, description="A place two or more scenes return to, with a "
                                                                      "stable look; empty when there is none.")
    scenes: list[ScenePlan] = Field(description="The scenes, in order.")
