"""The make options, declared once: name, type, limits, default, help, the modes each applies to, and
how each face spells it. The CLI's flags (director.cli), the HTTP body (director.server.RunRequest),
the Python keywords (Director.start and friends) and their checks are all made from `MakeOptions`.

Adding an option is one `Annotated` line here plus the code that uses it. A face that deliberately
takes something else says so in its `Face`: the HTTP body takes upload ids where the CLI and Python
take paths (`http=`), and a face that lacks an option lists it in `only`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from director.choices import Aspect, AudioMode, ClipSound, Dialogue, Motion, Resolution, Tier, Transition
from director.errors import InputError

MAX_SCENES = 50
MAX_SEED = 2**31 - 1  # the models' seed fields are int32
MIN_SECONDS, MAX_SECONDS = 5.0, 600.0
MAX_SOURCES = 8
MAX_TEXT_CHARS = 2000
MAX_BUDGET_USD = 100_000.0
LONGEST_TRANSITION = 0.8
"""The pause between two lines of narration (media.SPEECH_LEAD + SPEECH_TAIL, checked in tests): a longer
blend would run one scene's words into the next scene's picture."""
RUN_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
FACES = ("cli", "http", "python", "mcp")
Mode = Literal["story", "trailer"]


@dataclass(frozen=True)
class Face:
    """How the faces spell an option, beyond its name, type, limits, default and help.

    flag/short/metavar: the CLI's; modes: where it applies (a trailer-only option on a story is refused
    in one line); http: what the HTTP body takes instead (its own description), a declared difference;
    only: the faces that have it (all of them unless said); bad: the one-line refusal of a bad value,
    with {value}, when the generic one would not say enough."""

    flag: str
    short: str | None = None
    metavar: str | Callable[[], str] | None = None
    modes: tuple[Mode, ...] = ("story", "trailer")
    http: str | None = None
    only: tuple[str, ...] = FACES
    bad: str | None = None


def _styles() -> str:
    from director.tools.describe_frame import styles

    return "[" + "|".join(styles()) + "]"


class MakeOptions(BaseModel):
    """Everything a run can be asked for besides its goal. None means "the default": the goal's words,
    the mode's own, or the workspace's setting, as each help says."""

    model_config = ConfigDict(extra="forbid", validate_default=False)

    scenes: Annotated[int | None, Field(None, ge=1, le=MAX_SCENES, description=(
        "Number of scenes, 1-50 (default: from the goal, else 4).")), Face("--scenes", "-n", "N", modes=("story",))]
    aspect: Annotated[Aspect, Field("16:9", description="Frame shape."), Face("--aspect", "-a")]
    backend: Annotated[Literal["auto", "local", "openai", "gemini", "vertex"], Field("auto", description=(
        "Which models: auto picks vertex when GOOGLE_GENAI_USE_VERTEXAI is set, gemini when a key is set, openai "
        "when DIRECTOR_OPENAI_BASE_URL names a model server of your own, else local.")), Face("--backend", "-b")]
    run_id: Annotated[str | None, Field(None, max_length=64, pattern="^" + RUN_ID_PATTERN + "$", description=(
        "Name for the run (default: time-based).")),
        Face("--run-id", metavar="ID", bad="run id {value!r} must be 1-64 letters, digits, '.', '_' or '-'")]
    seed: Annotated[int, Field(0, ge=0, le=MAX_SEED, description="Seed for the deterministic local backends and the "
                                                                  "models that take one."), Face("--seed", metavar="N")]
    voice: Annotated[str | None, Field(None, min_length=1, max_length=100, description=(
        "Narration voice (default: the backend's; locally en_US-joe-medium, Gemini Kore).")),
        Face("--voice", metavar="NAME")]
    budget: Annotated[float | None, Field(None, ge=0, le=MAX_BUDGET_USD, allow_inf_nan=False, description=(
        "Stop before any call that would take spending past USD.")),
        Face("--budget", metavar="USD", bad="budget must be zero or more dollars, at most $100,000 (got {value})")]
    approve: Annotated[bool, Field(False, description="Stop after the storyboard and stills with a cost quote, "
                                                      "before the paid steps."), Face("--approve")]
    duration: Annotated[float | None, Field(None, ge=MIN_SECONDS, le=MAX_SECONDS, allow_inf_nan=False, description=(
        "Target length, 5-600 s (default: one the goal states, like 'a 30-second ad', else the story's own); sets "
        "the scene count when the goal gives none.")), Face("--duration", metavar="SECONDS", modes=("story",))]
    sources: Annotated[list[str] | None, Field(None, min_length=1, max_length=MAX_SOURCES, description=(
        "A source video for a trailer; repeat for several (at most 8).")), Face(
        "--source", "-s", "VIDEO", modes=("trailer",), http="Trailer: the videos, as upload ids (POST /api/uploads); "
                                                             "paths only under the server's DIRECTOR_MEDIA_ROOT.")]
    max_scenes: Annotated[int | None, Field(None, ge=1, le=MAX_SCENES, description=(
        "Trailer: at most this many scenes (default 6).")), Face("--max-scenes", "-k", "N", modes=("trailer",))]
    title: Annotated[str | None, Field(None, min_length=1, max_length=200, description=(
        "Trailer: title of the work (else a JSON sidecar, else the file name).")),
        Face("--title", metavar="TEXT", modes=("trailer",))]
    plot: Annotated[str | None, Field(None, min_length=1, max_length=MAX_TEXT_CHARS, description=(
        "Trailer: plot summary (else a JSON sidecar).")), Face("--plot", metavar="TEXT", modes=("trailer",))]
    style: Annotated[str | None, Field(None, min_length=1, max_length=64, description=(
        "Trailer: the look, from prompts/styles/ (default: one named in the goal, else diorama).")),
        Face("--style", metavar=_styles, modes=("trailer",))]
    audio: Annotated[AudioMode | None, Field(None, description=(
        "Trailer sound: the narration, each shot's own sound, or both (default narration).")),
        Face("--audio", modes=("trailer",))]
    motion: Annotated[Motion, Field("auto", description=(
        "Camera: auto varies pans and zooms, still holds each picture, or one move for every clip.")),
        Face("--motion")]
    music: Annotated[str | None, Field(None, min_length=1, max_length=300, description=(
        "Music bed under the narration, ducked: auto (a mood from the goal and story; the default, except for a "
        "trailer with its shots' own sound), none, a mood (calm, energetic, happy, nostalgic, tender) or your own "
        "audio file.")), Face(
        "--music", metavar="auto|none|MOOD|FILE", http="Music bed: auto (the default, except for a trailer with its "
                                                       "shots' own sound), none, a mood (calm, energetic, happy, "
                                                       "nostalgic, tender) or an audio upload's id "
                                                       "(POST /api/uploads).")]
    captions: Annotated[Literal["soft", "burn", "both"] | None, Field(None, description=(
        "soft: a subtitle track (default); burn: drawn into the picture for phones that play muted; both.")),
        Face("--captions")]
    caption_style: Annotated[Literal["plain", "karaoke"] | None, Field(None, description=(
        "Burned captions: plain phrases (default), or karaoke (each word lights up).")), Face("--caption-style")]
    title_card: Annotated[bool, Field(False, description="Open on the title over a blurred first scene."),
                          Face("--title-card")]
    end_card: Annotated[str | None, Field(None, min_length=1, max_length=120, description=(
        "Close on TEXT over a blurred last scene (at most 120 characters).")), Face("--end-card", metavar="TEXT")]
    transition: Annotated[Transition | None, Field(None, description=(
        "Between scenes: cut (default), crossfade, fade (through black) or slide. Only the joins are re-encoded.")),
        Face("--transition")]
    transition_seconds: Annotated[float | None, Field(None, ge=0.1, le=LONGEST_TRANSITION, allow_inf_nan=False,
                                                      description=(
        "Length of each transition, 0.1-0.8 s (default 0.5); the scenes overlap by it.")), Face(
        "--transition-seconds", metavar="S",
        bad="transition seconds must be from 0.1 to 0.8 (the pause between two lines); got {value}")]
    continuity: Annotated[float | None, Field(None, ge=0.0, le=1.0, allow_inf_nan=False, description=(
        "Stories: redraw a still whose likeness to its characters' reference sheets scores under this, 0-1 "
        "(default 0.6; 0 turns the check off).")), Face("--continuity", metavar="SCORE", modes=("story",),
        bad="continuity must be a score from 0 to 1 (0 turns the check off; got {value})")]
    retakes: Annotated[int | None, Field(None, ge=0, le=5, description=(
        "Stories: at most N redraws of one still for its likeness, 0-5 (default 1).")),
        Face("--retakes", metavar="N", modes=("story",))]
    resolution: Annotated[Resolution | None, Field(None, description=(
        "Video resolution: auto (the motion model's own: 1080p on Veo, 720p on Omni and locally), 360p (a draft: "
        "quick offline, a third of 720p's price on Omni; Veo has none), 720p, 1080p or 4k (priced as such); default: "
        "DIRECTOR_RESOLUTION, else auto. Stills are drawn at the clips' size.")), Face("--resolution")]
    tier: Annotated[Tier | None, Field(None, description=(
        "flex: the calls that can wait (story, sheets, stills, checks) at about half the price, slower (default: "
        "DIRECTOR_TIER, else standard).")), Face("--tier")]
    clip_sound: Annotated[ClipSound | None, Field(None, description=(
        "A video model's own sound: auto (off where it can be left out, else ducked under the narration; the "
        "default), keep (asked for, ducked under the narration) or off.")), Face("--clip-sound")]
    flow: Annotated[bool, Field(False, description="Each clip ends on the next scene's still (first and last frame), "
                                                   "for scenes that flow into each other."), Face("--flow")]
    dialogue: Annotated[Dialogue | None, Field(None, description=(
        "Stories: how much the characters say aloud, each in a voice of their own: none, some (each named "
        "character at least once; the default) or lots.")), Face("--dialogue", modes=("story",))]
    lip_sync: Annotated[Literal["auto", "off"] | None, Field(None, description=(
        "Stories: auto (the default) has a character in the shot say their line in the clip where the video model "
        "speaks (Omni Flash, Veo 3.1 with sound); off keeps the recorded voices over the clips.")),
        Face("--lip-sync", modes=("story",))]

    @classmethod
    def check(cls, options: dict[str, Any], *, face: str = "python", strict: bool = False) -> MakeOptions:
        """The options, checked: InputError names the first bad one in one line, in the face's spelling. strict
        takes JSON's types as they are, as the HTTP body does ("3" is not 3)."""
        try:
            return cls.model_validate(options, strict=strict or None)
        except ValidationError as exc:
            raise InputError(refusal(exc, face)) from None

    def given(self) -> dict[str, Any]:
        """The options the caller set (to a value other than None)."""
        return {name: getattr(self, name) for name in type(self).model_fields
                if name in self.model_fields_set and getattr(self, name) is not None}

    def mode_check(self, mode: Mode, face: str = "python") -> None:
        """InputError when an option that applies only to the other mode was set."""
        wrong = [name for name, value in self.given().items()
                 if value is not False and mode not in face_of(name).modes]
        if not wrong:
            return
        flags = ", ".join(_spelled(n, face) for n in wrong)
        verb = "applies" if len(wrong) == 1 else "apply"
        if mode == "story":
            hint = f" (for stories use {_spelled('scenes', face)})" if "max_scenes" in wrong else ""
            raise InputError(f"{flags} {verb} to trailers: add {_spelled('sources', face)}"
                             f"{' VIDEO' if face == 'cli' else ''}{hint}")
        hints = {"scenes": f" (for a trailer use {_spelled('max_scenes', face)})",
                 "duration": f"; a trailer's length comes from its shots ({_spelled('max_scenes', face)})"}
        raise InputError(f"{flags} {verb} to stories" + hints.get(wrong[0], ""))


def face_of(name: str) -> Face:
    return next(m for m in MakeOptions.model_fields[name].metadata if isinstance(m, Face))


def names_for(face: str) -> tuple[str, ...]:
    return tuple(n for n in MakeOptions.model_fields if face in face_of(n).only)


def label(name: str) -> str:
    return name.replace("_", " ")


def choices(name: str) -> tuple[str, ...]:
    """The values a Literal option takes (empty for the others)."""
    annotation = MakeOptions.model_fields[name].annotation
    for arg in (annotation, *get_args(annotation)):
        if get_origin(arg) is Literal:
            return tuple(get_args(arg))
    return ()


def shown(value: Any, most: int = 80) -> str:
    """A refused value as a message quotes it: its repr, cut short (a 100,000-character goal is not echoed)."""
    text = repr(value)
    return text if len(text) <= most else f"{text[: most - 10]}… ({len(str(value)):,} characters)"


def _spelled(name: str, face: str) -> str:
    return face_of(name).flag if face == "cli" else name


def refusal(exc: ValidationError, face: str = "python") -> str:
    """One line for the first problem pydantic found, in the words the user chose the option with."""
    return refusal_of(exc.errors()[0], face)


def refusal_of(error: Any, face: str = "python") -> str:
    """refusal() for one of pydantic's error dicts (FastAPI hands the HTTP face those)."""
    loc = [str(p) for p in error["loc"]]
    name = loc[0] if loc else "options"
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden":
        known = ", ".join(_spelled(n, face) for n in names_for(face))
        return f"unknown option {_spelled(name, face)!r}: the options are {known}"
    if name not in MakeOptions.model_fields:
        return f"{name}: {error['msg']}"
    field = MakeOptions.model_fields[name]
    decl = face_of(name)
    if decl.bad and kind not in ("missing",):
        return decl.bad.format(value=value[:60] + "…" if isinstance(value, str) and len(value) > 70 else value)
    what = label(name)
    value = value if isinstance(value, (int, float)) and not isinstance(value, bool) else shown(value)
    if kind == "literal_error" or choices(name) and kind in ("string_type",):
        return f"unknown {what} {value}: use one of {', '.join(choices(name))}"
    lo = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    hi = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    whole = int in (field.annotation, *get_args(field.annotation))
    if whole and (kind.startswith("int") or kind.startswith(("greater", "less"))):
        return f"{what} must be a whole number from {lo} to {hi} (got {value})"
    if kind.startswith(("float", "finite", "greater", "less")):
        return f"{what} must be from {lo:g} to {hi:g} (got {value})"
    if kind == "string_too_long":
        return f"{what} is {len(error['input'])} characters long; keep it to {error['ctx']['max_length']}"
    if kind == "too_long":
        return f"at most {error['ctx']['max_length']} {what} (got {len(error['input'])})"
    if kind in ("string_too_short", "too_short"):
        return f"{what} is empty: leave it out, or give it a value"
    if kind.startswith("bool"):
        return f"{what} must be true or false (got {value})"
    return f"{what}: {error['msg']} (got {value})"


def signature(before: list[inspect.Parameter], after: list[inspect.Parameter],
              names: tuple[str, ...] | None = None) -> inspect.Signature:
    """A Python signature with the options as keyword arguments, for help() and editors: the faces
    that take **options show the declared ones."""
    params = list(before)
    for name in names or names_for("python"):
        field = MakeOptions.model_fields[name]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=field.default,
                                        annotation=field.annotation))
    return inspect.Signature(params + list(after))


def http_fields(face: str = "http", *, uploads: bool = True) -> dict[str, Any]:
    """A request body's fields (the HTTP body's, or an MCP tool's): each option with its declared limits; where a
    face over HTTP takes something else (uploads for files), its own description."""
    fields: dict[str, Any] = {}
    for name in names_for(face):
        info = MakeOptions.model_fields[name]
        decl = face_of(name)
        copy = info._copy()  # a FieldInfo of its own, so the description can differ
        if decl.http and uploads:
            copy.description = decl.http
        fields[name] = (info.annotation, copy)
    return fields


def cli_params(names: tuple[str, ...] | None = None) -> list[inspect.Parameter]:
    """The options as typer parameters (keyword-only, Annotated with typer.Option), in declaration order.

    Choices are checked by MakeOptions, not by click, so every face refuses a bad value in the same words."""
    import typer

    params = []
    for name in names or names_for("cli"):
        info = MakeOptions.model_fields[name]
        decl = face_of(name)
        kind = _cli_type(info.annotation)
        metavar = decl.metavar() if callable(decl.metavar) else decl.metavar
        if metavar is None and choices(name):
            metavar = "[" + "|".join(choices(name)) + "]"
        spelled = (decl.flag, decl.short) if decl.short else (decl.flag,)
        default = info.default
        if kind is bool:
            option = typer.Option(*spelled, help=info.description)
        else:
            option = typer.Option(*spelled, metavar=metavar, help=info.description, show_default=default is not None)
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                        annotation=Annotated[kind, option]))
    return params


def cli_option(name: str) -> Any:
    """One option's CLI annotation, for a command that takes it outside `make` (resume's --budget)."""
    return cli_params((name,))[0].annotation


def _cli_type(annotation: Any) -> Any:
    """The plain type click parses an option as (a choice is a str, checked by MakeOptions)."""
    optional = type(None) in get_args(annotation)
    base = next(a for a in get_args(annotation) if a is not type(None)) if optional else annotation
    if get_origin(base) is Literal:
        base = str
    return base | None if optional else base
