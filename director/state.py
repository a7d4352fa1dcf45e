"""What the agent knows between steps: ids, text and asset references, never bytes.

The checkpointer rewrites the whole state on every super-step, so every field
here is small. Media lives in the content-addressed asset store; state holds
AssetRefs that point at it.
"""

from __future__ import annotations

import operator
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from director.choices import Aspect, AudioMode, ClipSound, Dialogue, Motion, Resolution, Tier, Transition
from director.story_draft import CastPlan, Line, PlacePlan

MAX_REFERENCES = 14
"""Sheets a still can be drawn from, at most (what today's Gemini image models take); each model takes its own
share (its catalog row's reference_images, three when it names none), and the words carry everyone else."""
AssetKind = Literal["image", "audio", "video", "subtitles", "document"]
RunStatus = Literal["running", "done", "failed", "cancelled"]
"""In the catalog a run can also be "paused" (waiting for approval), "stopped" (budget) or "interrupted"."""
NARRATOR = "narrator"
"""The speaker name of a line the narrator reads (never a cast member's name)."""


class AssetRef(BaseModel):
    """A file in the workspace's asset store, named by its content hash."""

    sha256: str = Field(description="Hex sha256 of the file's bytes.")
    kind: AssetKind = Field(description="What sort of media this is.")
    path: str = Field(description="Path relative to the workspace root.")
    bytes: int = Field(0, description="File size in bytes.")
    width: int | None = Field(None, description="Pixel width, for images and video.")
    height: int | None = Field(None, description="Pixel height, for images and video.")
    duration: float | None = Field(None, description="Seconds, for audio and video.")


class Character(CastPlan):
    """One member of the cast, carried into every image prompt."""

    sheet: AssetRef | None = Field(None, description="The reference picture every scene draws them from, once made.")
    voice: str | None = Field(None, description="The voice their lines are spoken in, the same in every scene: a "
                                                "Gemini prebuilt voice name, rendered locally by director.voices.")


class Spoken(BaseModel):
    """Where one stretch of speech sits in a scene's audio (the narration, then each line)."""

    speaker: str = Field(description="The cast member's name, or 'narrator'.")
    text: str = Field(description="The words.")
    voice: str | None = Field(None, description="The voice that said it (None: the backend's default).")
    start: float = Field(description="Seconds from the start of the scene's audio.")
    end: float = Field(description="Seconds from the start of the scene's audio.")
    clip: bool = Field(False, description="Said in the clip by the video model (its own speech, lip-synced), timed "
                                          "from the clip's sound.")
    muted: tuple[float, float] | None = Field(None, description="A line said in the clip: the stretch of the "
                                                                "recorded voice silenced for it (its recorded take).")


class Shot(BaseModel):
    """One detected shot of a source video (between two cuts)."""

    index: int = Field(description="1-based shot number within its video.")
    start: float = Field(description="Start, seconds into the video.")
    end: float = Field(description="End, seconds into the video.")
    start_frame: int = Field(description="First frame number.")
    end_frame: int = Field(description="Frame number just after the shot.")
    mean_rgb: list[int] = Field(default_factory=list, description="Average colour of the shot's middle frame.")

    @property
    def duration(self) -> float:
        return self.end - self.start


class Footage(BaseModel):
    """A source video of a trailer: where it is, what it is, what was found in it."""

    index: int = Field(description="1-based source number.")
    path: str = Field(description="Absolute path of the video (not copied into the store).")
    sha256: str = Field(description="Content hash, so memo keys follow the bytes, not the name.")
    duration: float = Field(description="Seconds.")
    width: int = Field(description="Pixel width.")
    height: int = Field(description="Pixel height.")
    fps: float = Field(description="Frames per second.")
    has_audio: bool = Field(description="Whether it has an audio stream.")
    title: str = Field(description="Title of the work, for prompts.")
    plot: str = Field("", description="Plot summary, for prompts.")
    shots: AssetRef | None = Field(None, description="JSON list of detected shots, once detected.")
    shot_count: int | None = Field(None, description="How many shots were detected.")
    transcript: AssetRef | None = Field(None, description="JSON list of timed transcript cues, once made.")
    transcript_source: str | None = Field(None, description="sidecar, whisper, gemini or none.")


class SourceWindow(BaseModel):
    """The part of a source video a trailer scene comes from."""

    video: int = Field(description="Source number.")
    shot: int = Field(description="Shot number within the source.")
    start: float = Field(description="Window start, seconds into the source.")
    end: float = Field(description="Window end, seconds into the source.")
    transcript: str = Field("", description="What is said in the window, from the transcript.")


class Continuity(BaseModel):
    """How well a still matches the reference sheets of the characters in it."""

    score: float = Field(ge=0.0, le=1.0, description="0 (nothing matches) to 1 (every character as on its sheet).")
    reasons: list[str] = Field(default_factory=list, description="What differs, one line per finding.")
    passed: bool = Field(description="The score reached the run's threshold.")
    image: str = Field(description="sha256 of the still that was scored.")
    references: dict[str, str] = Field(default_factory=dict, description="Character name -> sha256 of its sheet.")


class Scene(BaseModel):
    """One beat of the story and the media made for it so far."""

    index: int = Field(description="1-based position in the story.")
    image_prompt: str = Field(description="What the picture shows.")
    shot: str = Field("", description="Shot size and camera angle.")
    motion: str = Field("", description="What moves during the clip, the camera move, the ambience and a sound cue.")
    narration: str = Field(description="One or two sentences read aloud.")
    lines: list[Line] = Field(default_factory=list, description="What characters say aloud, after the narration.")
    source: SourceWindow | None = Field(None, description="Trailer scenes: where in the footage it comes from.")
    frame: AssetRef | None = Field(None, description="Trailer scenes: the frame taken from the source.")
    length: float | None = Field(None, description="Scene length fixed by the source window (source audio).")
    image: AssetRef | None = Field(None, description="The still, once made.")
    audio: AssetRef | None = Field(None, description="The narration WAV, once made (with the scene's lines after it).")
    speech: list[Spoken] = Field(default_factory=list, description="Who speaks when in the audio, once made.")
    clip: AssetRef | None = Field(None, description="The animated still, once made.")
    clip_sound: bool = Field(False, description="The clip carries its model's own sound (mixed under the voice).")
    clip_note: str | None = Field(None, description="How the clip was made when not as asked (a local fallback).")
    continuity: Continuity | None = Field(None, description="The last continuity check of the still, once made.")
    retakes: int = Field(0, description="How many times the still was redrawn to fix its continuity.")
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="The part a failed tool makes (image, audio, clip...) -> that tool and why it failed here."
    )

    @property
    def error(self) -> str | None:
        """All of this scene's open failures, as one line (None when it has none)."""
        return "; ".join(why for _, why in sorted(self.errors.items())) or None


class SceneTiming(BaseModel):
    """Where a scene sits in the final cut."""

    index: int = Field(description="Scene index.")
    start: float = Field(description="Seconds from the start of final.mp4.")
    duration: float = Field(description="Scene length in seconds.")
    speech_start: float = Field(description="When the narration starts, absolute seconds.")
    speech_end: float = Field(description="When the narration ends, absolute seconds.")


class FinalCut(BaseModel):
    """The assembled video and its sidecars."""

    video: AssetRef = Field(description="The finished MP4.")
    subtitles: AssetRef = Field(description="The SRT muxed into the MP4.")
    timings: list[SceneTiming] = Field(description="Per-scene placement in the cut.")
    transition: Transition = Field("cut", description="How the scenes (and cards) join.")
    overlap: float = Field(0.0, description="Seconds each piece overlaps the next: the transition's length.")


class Place(PlacePlan):
    """A recurring place, drawn the same way in every scene that names it."""

    sheet: AssetRef | None = Field(None, description="The reference picture every scene draws it from, once made.")


class FinishChange(BaseModel):
    """Finishing options a revision changed after the goal set them; None keeps the goal's."""

    music: str | None = Field(None, description="auto, none, or a mood (calm, energetic, happy, nostalgic, tender).")
    captions: Literal["soft", "burn", "both"] | None = Field(None, description="Subtitle track, burned in, or both.")
    caption_style: Literal["plain", "karaoke"] | None = Field(None, description="Burned captions' style.")
    title_card: bool | None = Field(None, description="Open on a title card.")
    end_card: str | None = Field(None, max_length=120, description="Close on this text; empty removes the end card.")
    transition: Transition | None = Field(None, description="How the scenes join.")


class Storyboard(BaseModel):
    """The plan: title, cast, style and scenes, plus what has been made."""

    title: str = Field(description="Title of the piece.")
    art_style: str = Field(description="One art style for every image.")
    narrator: str = Field("", description="The narrator's persona, tone and pace, sent as the voice's style.")
    characters: list[Character] = Field(default_factory=list, description="The cast.")
    places: list[Place] = Field(default_factory=list, description="Places the story returns to.")
    scenes: list[Scene] = Field(default_factory=list, description="Scenes in order.")
    footage: list[Footage] = Field(default_factory=list, description="Trailers: the source videos.")
    aspect: Aspect | None = Field(None, description="Frame shape after a revision; None keeps the goal's.")
    voice: str | None = Field(None, description="Narration voice after a revision; None keeps the goal's.")
    pace: float = Field(1.0, description="Narration speed after a revision (1 = normal).")
    music: AssetRef | None = Field(None, description="The music bed under the whole cut, once chosen or made.")
    finish: FinishChange = Field(default_factory=FinishChange, description="Finishing changed by a revision.")
    final: FinalCut | None = Field(None, description="The assembled cut, once made.")

    def video(self, index: int) -> Footage:
        for f in self.footage:
            if f.index == index:
                return f
        raise KeyError(index)

    def scene(self, index: int) -> Scene:
        for scene in self.scenes:
            if scene.index == index:
                return scene
        raise KeyError(index)

    def character_sheet(self) -> str:
        return "; ".join(f"{c.name} ({c.kind}): {c.look}" for c in self.characters)

    def character(self, name: str) -> Character:
        for c in self.characters:
            if c.name.lower() == name.strip().lower():
                return c
        raise KeyError(name)

    def members(self) -> list[Character | Place]:
        """The characters, then the recurring places: all that have a reference sheet."""
        # Typed here once: a bare [*characters, *places] is inferred as list[BaseModel].
        return [*self.characters, *self.places]

    def member(self, name: str) -> Character | Place:
        """A character, or a recurring place, by name: what has a reference sheet."""
        for m in self.members():
            if m.name.lower() == name.strip().lower():
                return m
        raise KeyError(name)

    def places_of(self, index: int) -> list[Place]:
        """The recurring places a scene's picture names ("the lighthouse" also matches "a striped lighthouse")."""
        prompt = self.scene(index).image_prompt
        found = []
        for p in self.places:
            bare = re.sub(r"^(?:the|a|an|our)\s+", "", p.name.strip(), flags=re.I)
            if bare and re.search(rf"(?<!\w){re.escape(bare)}(?!\w)", prompt, re.I):
                found.append(p)
        return found

    def cast_of(self, index: int) -> list[Character]:
        """The characters a scene shows: those its picture or narration names."""
        scene = self.scene(index)
        text = f"{scene.image_prompt} {scene.narration}"
        return [c for c in self.characters if re.search(rf"(?<!\w){re.escape(c.name)}(?!\w)", text, re.I)]

    def references_of(self, index: int) -> list[Character | Place]:
        """The sheets a scene's still is drawn from: its characters', then its places'."""
        members: list[Character | Place] = [*self.cast_of(index), *self.places_of(index)]
        return [m for m in members if m.sheet is not None][:MAX_REFERENCES]

    def set_sheet(self, name: str, ref: AssetRef) -> None:
        """A reference picture: the stills of the scenes its character or place is in are redrawn from the new one."""
        member = self.member(name)
        if member.sheet is None or member.sheet.sha256 != ref.sha256:
            self._redraw(member.name)
        member.sheet = ref

    def set_look(self, name: str, look: str) -> None:
        """A new look: the sheet and the stills of that character's (or place's) scenes are made again, nothing else."""
        member = self.member(name)
        if member.look != look:
            member.sheet = None
            self._redraw(member.name)
        member.look = look

    def _redraw(self, name: str) -> None:
        for scene in self.scenes:
            members: list[Character | Place] = [*self.cast_of(scene.index), *self.places_of(scene.index)]
            if any(m.name == name for m in members) and scene.image is not None:
                scene.image = scene.clip = scene.continuity = None
                scene.retakes = 0
                self.final = None

    # Setting an asset invalidates what was derived from the old one, so a
    # changed image can never be assembled with a stale clip.
    def set_image(self, index: int, ref: AssetRef) -> None:
        scene = self.scene(index)
        if scene.image is None or scene.image.sha256 != ref.sha256:
            scene.clip = scene.continuity = None
            self.final = None
        scene.image = ref
        scene.errors.pop("image", None)

    def set_voice(self, name: str, voice: str) -> None:
        """A character's new voice: the scenes where they speak are voiced again (and their clips and the cut)."""
        character = next(c for c in self.characters if c.name == name)
        if character.voice == voice:
            return
        character.voice = voice
        for scene in self.scenes:
            if any(line.speaker == name for line in scene.lines):
                scene.audio = scene.clip = None
                scene.speech = []
                self.final = None

    def set_audio(self, index: int, ref: AssetRef) -> None:
        scene = self.scene(index)
        if scene.audio is None or scene.audio.sha256 != ref.sha256:
            scene.clip = None
            self.final = None
        scene.audio = ref
        scene.errors.pop("audio", None)

    def set_frame(self, index: int, ref: AssetRef) -> None:
        scene = self.scene(index)
        if scene.frame is None or scene.frame.sha256 != ref.sha256:
            scene.image_prompt = ""  # the description was of another frame
            scene.image = scene.clip = None
            self.final = None
        scene.frame = ref
        scene.errors.pop("frame", None)

    def set_description(self, index: int, text: str) -> None:
        scene = self.scene(index)
        if scene.image_prompt != text:
            scene.image = scene.clip = scene.continuity = None
            scene.retakes = 0
            self.final = None
        scene.image_prompt = text
        scene.errors.pop("prompt", None)

    def set_prompt(self, index: int, text: str) -> None:
        """A new image prompt: the old image, clip and cut no longer match it."""
        scene = self.scene(index)
        if scene.image_prompt != text:
            scene.image = scene.clip = scene.continuity = None
            scene.retakes = 0
            self.final = None
        scene.image_prompt = text

    def set_narration(self, index: int, text: str) -> None:
        scene = self.scene(index)
        if scene.narration != text:
            scene.audio = scene.clip = None
            self.final = None
        scene.narration = text

    def set_music(self, ref: AssetRef) -> None:
        if self.music is None or self.music.sha256 != ref.sha256:
            self.final = None
        self.music = ref

    def renumber(self) -> None:
        for i, scene in enumerate(self.scenes, start=1):
            scene.index = i

    def set_clip(self, index: int, ref: AssetRef) -> None:
        scene = self.scene(index)
        if scene.clip is None or scene.clip.sha256 != ref.sha256:
            self.final = None
        scene.clip = ref
        scene.errors.pop("clip", None)


class Goal(BaseModel):
    """What the user asked for, with the run settings that shape the output."""

    text: str = Field(description="The goal in the user's words.")
    scenes: int = Field(description="How many scenes to make (for trailers: at most).", ge=1, le=50)
    aspect: Aspect = Field("16:9", description="Frame shape of the output.")
    seed: int = Field(0, description="Seed for every deterministic backend.")
    voice: str | None = Field(None, description="Voice name for narration; None = backend default.")
    mode: Literal["story", "trailer"] = Field("story", description="A story from nothing, or a trailer from footage.")
    style: str | None = Field(None, description="Trailer style: a prompt file in prompts/styles/.")
    audio: AudioMode = Field("narration", description="Trailer sound: narration, source audio, or both.")
    approve: bool = Field(False, description="Stop for approval, with a cost quote, before paid narration and motion.")
    duration: float | None = Field(None, description="Target length of the video in seconds (--duration, or one the "
                                                     "goal states); None lets the story set it.")
    motion: Motion = Field("auto", description="Camera move for every clip: auto varies it; still holds the picture.")
    music: str = Field("none", description="Music bed: auto (a mood from the story), none, a mood name, or an "
                                           "absolute path to the user's own audio file.")
    captions: Literal["soft", "burn", "both"] = Field(
        "soft", description="Captions: a subtitle track (soft), drawn into the picture (burn), or both.")
    caption_style: Literal["plain", "karaoke"] = Field(
        "plain", description="Burned captions: plain phrases, or karaoke (each word lights up as it is said).")
    title_card: bool = Field(False, description="Open on a card with the title over the first scene, blurred.")
    end_card: str | None = Field(None, description="Close on a card with this text over the last scene, blurred.")
    transition: Transition = Field("cut", description="Between scenes: a cut, a crossfade, a fade through black, "
                                                      "or a slide.")
    transition_seconds: float = Field(0.5, description="How long each transition lasts; the scenes overlap by it.")
    continuity: float = Field(0.6, ge=0.0, le=1.0, description="A still whose continuity score is under this is "
                                                               "redrawn with the reasons (0 turns the check off).")
    retakes: int = Field(1, ge=0, le=5, description="At most this many redraws of one still for its continuity.")
    resolution: Resolution = Field("auto", description="Video resolution: auto (the motion model's own: 1080p for "
                                                       "Veo, 720p for Omni and locally), 360p (a draft), 720p, "
                                                       "1080p or 4k.")
    tier: Tier = Field("standard", description="Service tier for the calls that can wait (story, sheets, stills, "
                                               "checks): standard, or flex at about half the price, slower.")
    clip_sound: ClipSound = Field("auto", description="A video model's own sound: auto (off where the model can "
                                                      "leave it out, else ducked under the narration), keep (asked "
                                                      "for, and ducked under the narration) or off (never heard).")
    flow: bool = Field(False, description="Each clip ends on the next scene's still (first and last frame), "
                                          "for scenes that flow into each other.")
    dialogue: Dialogue = Field("some", description="How much the characters say aloud in their own voices: none, "
                                                   "some (each speaks at least once) or lots.")
    lip_sync: Literal["auto", "off"] = Field("auto", description="auto: a character in the shot says their line in "
                                                                "the clip where the video model speaks (Omni Flash, "
                                                                "Veo 3.1 with sound); off: the recorded voices.")


def finishing(goal: Goal, board: Storyboard | None) -> Goal:
    """The goal with the finishing options a revision changed ("no music", "use crossfades") in place."""
    if board is None:
        return goal
    changed = {k: v for k, v in board.finish.model_dump().items() if v is not None}
    if changed.get("end_card") == "":
        changed["end_card"] = None
    return goal.model_copy(update=changed) if changed else goal


class ToolCall(BaseModel):
    """One call the brain asked for."""

    id: str = Field(description="Unique within the run.")
    name: str = Field(description="Tool name from the registry.")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments as JSON.")
    model_id: str | None = Field(None, description="The id the model gave the call, echoed in its response.")
    signature: str | None = Field(None, description="The model's thought signature for the call (base64).")


class ToolResult(BaseModel):
    """What came back from one call: output JSON or an error the brain can read."""

    call_id: str = Field(description="The ToolCall this answers.")
    name: str = Field(description="Tool name.")
    ok: bool = Field(description="True when output is set.")
    output: dict[str, Any] | None = Field(None, description="The tool's Output model as JSON.")
    error: str | None = Field(None, description="One-line reason, when not ok.")
    reused: bool = Field(False, description="True when served from the memo.")
    ms: int = Field(0, description="Wall milliseconds spent.")
    key: str | None = Field(None, description="Memo key of the call.")

    def for_log(self) -> ToolResult:
        """This result as the conversation keeps it (see brief())."""
        return self.model_copy(update={"output": brief(self.output)}) if self.output else self


def brief(value: Any) -> Any:
    """JSON with every asset reference cut down to what a reader needs (kind and size).

    Tool results go into the conversation in this form: the storyboard already
    holds the full references, the model has no use for hashes and paths, and
    the checkpoint, which rewrites the conversation on every step, stays small.
    """
    if isinstance(value, dict):
        if {"sha256", "path", "kind"} <= value.keys():
            return {k: value[k] for k in ("kind", "width", "height", "duration") if value.get(k) is not None}
        return {k: brief(v) for k, v in value.items()}
    if isinstance(value, list):
        return [brief(v) for v in value]
    return value


class Message(BaseModel):
    """One entry of the run's conversation: user text, brain calls or tool results."""

    role: Literal["user", "brain", "tool"] = Field(description="Who spoke.")
    text: str = Field("", description="Free text.")
    intent: Literal["", "goal", "revision", "resume", "approval"] = Field(
        "", description="For user messages: the goal, a revision to act on, or a note from resume/approval."
    )
    calls: list[ToolCall] = Field(default_factory=list, description="Calls the brain made.")
    results: list[ToolResult] = Field(default_factory=list, description="Results of those calls.")


class DirectorState(BaseModel):
    """The graph's state, checkpointed after every super-step."""

    run_id: str = Field(description="Thread id of this run.")
    goal: Goal = Field(description="What was asked.")
    storyboard: Storyboard | None = Field(None, description="The plan and its assets.")
    calls: list[ToolCall] = Field(default_factory=list, description="The batch waiting to run.")
    messages: Annotated[list[Message], operator.add] = Field(
        default_factory=list, description="Conversation log, appended to."
    )
    status: RunStatus = Field("running", description="Lifecycle of the run.")
    approved: bool = Field(False, description="The user approved the paid steps of the current round.")
    approvals: int = Field(0, description="How many rounds the user has approved in this run.")
    error: str | None = Field(None, description="Why the run stopped, when it failed.")
    outputs: dict[str, str] = Field(
        default_factory=dict, description="Published files of the run: name -> workspace path."
    )

    @property
    def finish(self) -> Goal:
        """The goal as the cut is finished now: with any revision's music, captions, cards and transition."""
        return finishing(self.goal, self.storyboard)
