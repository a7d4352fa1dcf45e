"""revise_storyboard: change the plan; what the change touches is made again, the rest is kept."""

from __future__ import annotations

from pydantic import BaseModel, Field

from director.backends.local.music import MOODS
from director.choices import Aspect
from director.errors import ToolArgumentError
from director.state import DirectorState, FinishChange, Scene, Storyboard
from director.tooling import ToolContext, require_board, tool
from director.voices import GEMINI_VOICES


class SceneUpdate(BaseModel):
    scene: int = Field(ge=1, description="Scene number, from 1.")
    image_prompt: str | None = Field(None, min_length=1, description="New picture description; empty keeps it.")
    narration: str | None = Field(None, min_length=1, description="New narration; empty keeps it.")


class CharacterUpdate(BaseModel):
    name: str = Field(min_length=1, description="The character (or recurring place), as the story names them.")
    look: str = Field(min_length=1, max_length=500, description="Their whole new look (colours, clothes, features); "
                                                                "their reference sheet and the stills they are in "
                                                                "are made again.")


class VoiceChange(BaseModel):
    name: str = Field(min_length=1, description="The character, as the story names them.")
    voice: str = Field(min_length=1, description="Their new voice: a Gemini prebuilt voice name (Leda youthful, "
                                                 "Zephyr bright, Vindemiatrix gentle, Puck upbeat, Gacrux mature, "
                                                 "Orus firm, Algenib gravelly, or any other).")


class NewScene(BaseModel):
    after: int = Field(ge=0, description="Insert after this scene number (0 = first).")
    image_prompt: str = Field(min_length=1, description="What the new scene's picture shows.")
    narration: str = Field(min_length=1, description="What is said over it.")


class ReviseStoryboardInput(BaseModel):
    updates: list[SceneUpdate] = Field(default_factory=list, description="Scenes to change.")
    characters: list[CharacterUpdate] = Field(default_factory=list, description="Characters (or recurring places) "
                                                                               "whose look changes.")
    speakers: list[VoiceChange] = Field(default_factory=list, description="Characters whose speaking voice changes; "
                                                                          "only the scenes where they speak are "
                                                                          "voiced again.")
    add: list[NewScene] = Field(default_factory=list, description="Scenes to insert.")
    remove: list[int] = Field(default_factory=list, description="Scene numbers to delete.")
    aspect: Aspect | None = Field(None, description="New frame shape for everything; every picture is redone.")
    voice: str | None = Field(None, description="New narration voice; every narration is redone.")
    pace: float | None = Field(None, ge=0.5, le=2.0, description="New speaking speed (1 is normal).")
    finish: FinishChange | None = Field(None, description="New finishing: music (auto, none or a mood), captions, "
                                                          "caption style, title card, end card (empty removes it) or "
                                                          "transition; only the cut (and, for music, the bed) is redone.")


class ReviseStoryboardOutput(BaseModel):
    scenes: int = Field(description="How many scenes the story has now.")
    changed: list[str] = Field(description="What changed, in words.")


def _needs(args: ReviseStoryboardInput, state: DirectorState) -> dict[str, object]:
    board = require_board(state)
    count = len(board.scenes)
    for n in [u.scene for u in args.updates] + list(args.remove) + [a.after for a in args.add if a.after]:
        if not 1 <= n <= count:
            raise ToolArgumentError(f"there is no scene {n}; the story has scenes 1..{count}")
    if args.remove and len(set(args.remove)) >= count and not args.add:
        raise ToolArgumentError("that would remove every scene")
    if args.finish is not None and args.finish.music is not None and args.finish.music not in ("auto", "none", *MOODS):
        raise ToolArgumentError(f"music {args.finish.music!r}: use auto, none or a mood ({', '.join(MOODS)})")
    for c in args.characters:
        try:
            board.member(c.name)
        except KeyError:
            names = ", ".join(x.name for x in board.members()) or "nobody"
            raise ToolArgumentError(f"there is no character or place {c.name!r}; the story has: {names}") from None
    cast = {c.name for c in board.characters}
    for v in args.speakers:
        if v.name not in cast:
            raise ToolArgumentError(f"there is no character {v.name!r}; the story has: {', '.join(sorted(cast)) or 'nobody'}")
        if v.voice not in GEMINI_VOICES:
            raise ToolArgumentError(f"unknown voice {v.voice!r} for {v.name}; use a prebuilt one: {', '.join(GEMINI_VOICES)}")
    return {"scenes": count}


def _apply(board: Storyboard | None, args: ReviseStoryboardInput, out: ReviseStoryboardOutput) -> Storyboard:
    assert board is not None
    for c in args.characters:
        board.set_look(c.name, c.look)
    for v in args.speakers:
        board.set_voice(v.name, v.voice)
    for u in args.updates:
        if u.image_prompt:
            board.set_prompt(u.scene, u.image_prompt)
        if u.narration:
            board.set_narration(u.scene, u.narration)
    # Inserts and removals keep every other scene's assets: only the cut is redone.
    for new in sorted(args.add, key=lambda a: -a.after):
        board.scenes.insert(new.after, Scene(index=0, image_prompt=new.image_prompt, narration=new.narration))
    removed = {id(board.scene(n)) for n in args.remove}
    board.scenes = [s for s in board.scenes if id(s) not in removed]
    board.renumber()
    if args.add or args.remove:
        board.final = None
    if args.aspect and args.aspect != board.aspect:
        board.aspect = args.aspect
        for s in board.scenes:
            s.image = s.clip = None
        board.final = None
    if args.finish is not None:
        changed = {k: v for k, v in args.finish.model_dump().items() if v is not None}
        merged = board.finish.model_copy(update=changed)
        if merged != board.finish:
            if "music" in changed and changed["music"] != (board.finish.music or ""):
                board.music = None  # a new bed (or none) for the new choice
            board.finish = merged
            board.final = None
    if args.voice and args.voice != board.voice or args.pace and args.pace != board.pace:
        board.voice = args.voice or board.voice
        board.pace = args.pace or board.pace
        for s in board.scenes:
            s.audio = s.clip = None
        board.final = None
    return board


@tool(capability=None, version="2", needs=_needs, apply=_apply,
      reads=("story",), writes=("story", "sheet", "image", "frame", "prompt", "audio", "clip", "continuity", "music",
                                      "final"))
def revise_storyboard(args: ReviseStoryboardInput, ctx: ToolContext) -> ReviseStoryboardOutput:
    """Change the plan after it exists: rewrite a scene's picture or narration, change a character's look or voice, add or remove scenes, or change the frame shape, voice, pace, music, captions, cards or transitions. Only what a change touches is made again; call the other tools afterwards to fill in what is missing."""
    changed = [f"scene {u.scene}: " + " and ".join(k for k in ("image_prompt", "narration") if getattr(u, k))
               for u in args.updates]
    changed += [f"{c.name}'s look" for c in args.characters]
    changed += [f"{v.name}'s voice -> {v.voice}" for v in args.speakers]
    changed += [f"new scene after {a.after}" for a in args.add]
    changed += [f"removed scene {n}" for n in args.remove]
    changed += [f"{k} -> {getattr(args, k)}" for k in ("aspect", "voice", "pace") if getattr(args, k) is not None]
    if args.finish is not None:
        changed += [f"{k} -> {v if v != '' else 'none'}" for k, v in args.finish.model_dump().items() if v is not None]
    if not changed:
        raise ToolArgumentError("nothing to change: give updates, characters, speakers, add, remove, aspect, voice, "
                                "pace or finish")
    if args.voice is not None and args.voice not in (known := ctx.backends.voice.voices()):
        raise ToolArgumentError(f"unknown voice {args.voice!r}; use one of: {', '.join(known)}")
    count = int(ctx.inputs["scenes"]) + len(args.add) - len(set(args.remove))
    return ReviseStoryboardOutput(scenes=count, changed=changed)
