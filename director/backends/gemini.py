"""Gemini through google-genai, in Gemini Developer API or Vertex AI mode.

This module and vertex.py are the only ones that import google-genai. Every
request goes through Limits (rate limit + retries) and feeds the call meter
(tokens, cost). SDK errors become ProviderErrors; refusals become SafetyBlocked.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google import genai
from google.genai import _interactions_errors as ix_errors
from google.genai import errors as genai_errors
from google.genai import types
from pydantic import BaseModel, Field, ValidationError

from director.backends.base import IMG_REF, ContinuityVerdict, continuity_scores, image_refs
from director.backends.replies import (
    AMBIGUOUS,
    RETRYABLE_STATUS,
    aspect_of,
    daily_quota,
    retry_delay,
    save_png,
    whole_image,
    whole_wav,
)
from director.brain import BrainTurn, ModelCall
from director.brain.conversation import Call, Text, conversation
from director.config import Settings
from director.errors import ConfigError, ProviderError, SafetyBlocked, UnsureStart
from director.limits import CURRENT_CALL, Limits, record_usage
from director.media import write_png, write_wav_pcm16
from director.models import find as find_model
from director.models import image_size
from director.prices import Usage
from director.prompting import render
from director.state import Message
from director.story_draft import StoryDraft
from director.voices import GEMINI_VOICES

log = logging.getLogger(__name__)

BLOCK_REASONS = {"SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT",
                 "RECITATION", "IMAGE_RECITATION", "MODEL_ARMOR"}
KEY_HELP = (
    "set GEMINI_API_KEY (or GOOGLE_API_KEY) for the Gemini API, or for Vertex AI set "
    "GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION "
    "(or an express-mode API key)"
)


def classifier(provider: str, model: str, *, start: bool = False) -> Callable[[BaseException], ProviderError]:
    """Map SDK and transport exceptions to ProviderErrors that say whether to retry.

    With `start` (the request that begins a paid long-running job), a timeout or a connection dropped
    after the request went out is not retried: the server may have accepted it, and a second start
    would be paid for twice. Errors the server answered with (429, 5xx) and failures to connect at all
    are retried as usual."""

    def classify(exc: BaseException) -> ProviderError:
        if start:
            cause: BaseException | None = exc
            while cause is not None:
                if type(cause).__name__ in AMBIGUOUS:
                    return UnsureStart(
                        f"{model}: the request that starts the clip was sent but its answer never came "
                        f"({type(cause).__name__}); it may be running and billed, so Director will not start "
                        f"another on its own (director resume RUN --retry-unsure does, and may pay twice)",
                        provider=provider, model=model)
                cause = cause.__cause__ or cause.__context__
        if isinstance(exc, ix_errors.APIStatusError):  # the Interactions API's own error classes
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
            code, status = int(exc.status_code or 0), str(error.get("status") or "")
            message = str(error.get("message") or exc.message).strip()
            text = f"{model}: {code} {status}: {message}".replace("  ", " ")
            if code == 429 and daily_quota(body):
                return ProviderError(f"{text} (a daily quota is used up; try again tomorrow or raise the quota)",
                                     provider=provider, model=model, status=code)
            return ProviderError(text, provider=provider, model=model, status=code,
                                 retryable=code in RETRYABLE_STATUS, retry_after=retry_delay(body, exc.response))
        if isinstance(exc, genai_errors.APIError):
            code = int(exc.code or 0)
            status = exc.status or ""
            message = (exc.message or str(exc)).strip()
            text = f"{model}: {code} {status}: {message}".strip()
            if code == 429 and daily_quota(exc.details):
                return ProviderError(f"{text} (a daily quota is used up; try again tomorrow or raise the quota)",
                                     provider=provider, model=model, status=code)
            if code in (401, 403):
                return ProviderError(f"{text} (check the API key or project permissions)", provider=provider,
                                     model=model, status=code)
            return ProviderError(text, provider=provider, model=model, status=code,
                                 retryable=code in RETRYABLE_STATUS, retry_after=retry_delay(exc.details, exc.response))
        name = type(exc).__name__
        if "Timeout" in name or name in ("ConnectError", "RemoteProtocolError", "ReadError", "WriteError",
                                         "ConnectionError", "ConnectionResetError", "APIConnectionError"):
            return ProviderError(f"{model}: {name}: {exc}", provider=provider, model=model, retryable=True)
        if isinstance(exc, (json.JSONDecodeError, ValidationError, binascii.Error)):
            # A reply cut off or mangled on the way (a proxy, a dropped connection): ask again.
            first = str(exc).strip().splitlines()[0][:160]
            return ProviderError(f"{model}: the reply came back malformed ({first})", provider=provider,
                                 model=model, retryable=True)
        return ProviderError(f"{model}: {name}: {exc}", provider=provider, model=model)

    return classify


NO_RETRIES = types.HttpRetryOptions(attempts=1)
"""The SDK's own retries off (its Interactions client retries 429, 5xx and timeouts four times by default):
Director retries through Limits, honouring RetryInfo, and never re-sends a paid start on a doubt."""


class GoogleClient:
    """google-genai clients for one mode (Gemini API or Vertex AI) with limits and metering.

    On Vertex with a project, each model is called at its own location: the catalog says which are
    served on the global endpoint (Gemini 3.x) and which in a region (Veo, Lyria: GOOGLE_CLOUD_LOCATION,
    else us-central1); DIRECTOR_VERTEX_LOCATIONS overrides it per model."""

    def __init__(self, settings: Settings, *, vertex: bool, limits: Limits) -> None:
        self.settings = settings
        self.limits = limits
        self.provider = "vertex" if vertex else "gemini"
        self.project: str | None = None
        self._clients: dict[str | None, genai.Client] = {}
        self._lock = threading.Lock()
        key = settings.gemini_api_key.get_secret_value() if settings.has_gemini_key() else None  # type: ignore[union-attr]
        timeout_ms = int(settings.request_timeout_s * 1000)
        if vertex:
            http = types.HttpOptions(base_url=settings.vertex_base_url, timeout=timeout_ms, retry_options=NO_RETRIES)
            if settings.cloud_project:
                self.project = settings.cloud_project
                self._make = lambda location: genai.Client(vertexai=True, project=settings.cloud_project,
                                                           location=location, http_options=http)
                self.mode = f"vertex project {settings.cloud_project}"
            elif key:
                self._make = lambda location: genai.Client(vertexai=True, api_key=key, http_options=http)
                self.mode = "vertex express (API key)"
            else:
                raise ConfigError(f"the vertex backend needs GOOGLE_CLOUD_PROJECT (with GOOGLE_CLOUD_LOCATION and "
                                  f"application-default credentials) or an express API key: {KEY_HELP}")
        else:
            if not key:
                raise ConfigError(f"the gemini backend needs an API key: {KEY_HELP}")
            http = types.HttpOptions(base_url=settings.gemini_base_url, api_version="v1beta", timeout=timeout_ms,
                                     retry_options=NO_RETRIES)
            self._make = lambda location: genai.Client(api_key=key, http_options=http)
            self.mode = "gemini api (API key)"

    def location(self, model: str) -> str | None:
        """Where Vertex serves `model` for this project (None: not a project, so no location in the path)."""
        if self.project is None:
            return None
        chosen = self.settings.vertex_locations.get(model)
        if chosen:
            return chosen
        row = find_model(model)
        if row is not None and row.vertex_location == "global":
            return "global"
        configured = self.settings.cloud_location
        if configured and (configured != "global" or row is None):
            return configured
        return "us-central1"  # a regional model (Veo, Lyria) where no region is set, or only "global"

    def for_model(self, model: str) -> genai.Client:
        """The SDK client that reaches `model` (one per location)."""
        location = self.location(model)
        with self._lock:
            if location not in self._clients:
                self._clients[location] = self._make(location)
            return self._clients[location]

    def call(self, model: str, fn: Callable[[], Any], *, start: bool = False) -> Any:
        """One request under the model's rate limit, retried when it may pass; `start` marks the request
        that begins a paid long-running job, which is never sent twice on a doubt (classifier)."""
        return self.limits.call(model, fn, classify=classifier(self.provider, model, start=start))

    def served(self, model: str) -> Any:
        """models.get for `model` (free): its Model resource, or a ProviderError (404 when it is not served)."""
        return self.limits.call(f"{model}:get", lambda: self.for_model(model).models.get(model=model),
                                classify=classifier(self.provider, model))

    def generate(self, model: str, contents: Any, config: types.GenerateContentConfig, *, output: str = "TEXT",
                 check: Callable[[types.GenerateContentResponse], None] | None = None) -> types.GenerateContentResponse:
        """One generateContent, metered by modality (`output`: what the model answers in, for an answer
        that does not break its tokens down); `check` may refuse a damaged answer (a retryable
        ProviderError), and then the request is made again like any other transient failure."""

        def once() -> types.GenerateContentResponse:
            response = self.for_model(model).models.generate_content(model=model, contents=contents, config=config)
            if response.usage_metadata is not None:  # every answer is billed, a damaged one too
                record_usage(model, usage_of(response.usage_metadata, output=output))
            if check is not None:
                check(response)
            return response

        return self.call(model, once)


def tier_config(client: GoogleClient, model: str) -> dict[str, Any]:
    """serviceTier for this call: flex when the call can wait on a flex run and the model has a flex price
    (so it is billed as sent), else nothing (standard)."""
    meter = CURRENT_CALL.get()
    prices = meter.prices if meter is not None else None
    if prices is not None and prices.tier == "flex" and prices.flexes(model):
        return {"service_tier": "flex"}
    return {}


def usage_of(meta: types.GenerateContentResponseUsageMetadata, *, output: str = "TEXT") -> Usage:
    """The billed tokens of an answer by modality; an answer that gives no breakdown counts its prompt as
    text and its output as `output`."""

    def by_modality(details: Any, total: int | None, default: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in details or []:
            name = _name(d.modality) or default
            name = "TEXT" if name in ("DOCUMENT", "MODALITY_UNSPECIFIED") else name
            counts[name] = counts.get(name, 0) + int(d.token_count or 0)
        if not counts and total:
            counts[default] = int(total)
        return counts

    return Usage(prompt=by_modality(meta.prompt_tokens_details, meta.prompt_token_count, "TEXT"),
                 cached=by_modality(meta.cache_tokens_details, meta.cached_content_token_count, "TEXT"),
                 output=by_modality(meta.candidates_tokens_details, meta.candidates_token_count, output),
                 thoughts=int(meta.thoughts_token_count or 0))


def blocked_reason(response: types.GenerateContentResponse) -> str | None:
    """Why a response carries nothing usable, when a filter says so."""
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return f"prompt blocked ({_name(feedback.block_reason)})"
    for candidate in response.candidates or []:
        reason = _name(candidate.finish_reason)
        if reason in BLOCK_REASONS:
            return f"output withheld ({reason})"
    if not response.candidates:
        return "no candidates returned"
    return None


def _name(value: Any) -> str:
    return getattr(value, "name", None) or str(value or "")


def inline_blobs(response: types.GenerateContentResponse, prefix: str) -> list[tuple[bytes, str]]:
    """The answer's media of one kind, in order. Parts marked `thought` are left out: a thinking image
    model (Nano Banana Pro) shows up to two interim drafts before its final picture."""
    blobs = []
    for candidate in response.candidates or []:
        for part in (candidate.content.parts if candidate.content and candidate.content.parts else []):
            blob = part.inline_data
            if part.thought:
                continue
            if blob is not None and blob.data and (blob.mime_type or "").startswith(prefix):
                data = blob.data if isinstance(blob.data, bytes) else base64.b64decode(blob.data)
                blobs.append((data, blob.mime_type or ""))
    return blobs


def image_part(path: Path, *, max_side: int | None = None) -> types.Part:
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        if max_side and max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        write_png(im, buf)
    return types.Part.from_bytes(data=buf.getvalue(), mime_type="image/png")


# --- the brain's model ---------------------------------------------------------------------


RETRY_FINISH = {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "MAX_TOKENS", "TOO_MANY_TOOL_CALLS",
                "MALFORMED_RESPONSE"}
TRANSIENT_FINISH = {"MALFORMED_RESPONSE", "NO_IMAGE", "IMAGE_OTHER", "OTHER"}
"""Finish reasons of an answer that came back empty for no fault of the request: asked again, like a 503.
(MALFORMED_RESPONSE: the model's output could not be read; NO_IMAGE and IMAGE_OTHER: an image model that
drew nothing, for no reason it names.)"""
MISSING_SIGNATURE = ("the request lost a thought signature the model gave (finish reason MISSING_THOUGHT_SIGNATURE): "
                     "a Director bug, since every signature is sent back on its part; please report it, then resume "
                     "the run")

THINKING = {"brain": "low", "story": "medium", "vision": "low"}
"""How hard each role thinks, where the model takes a thinking level (Gemini 3): planning tool calls
and looking at pictures need little; the story is the one piece of writing."""


def generation(model: str, role: str, **fields: Any) -> types.GenerateContentConfig:
    """A request config for `role` on `model`, per Google's guide for Gemini 3: no temperature, top-p or
    top-k (deprecated since 2026-07-21; below 1.0 they make Gemini 3 loop), and a thinking level the
    model takes."""
    level = THINKING.get(role)
    row = find_model(model)
    if level and row is not None and level in row.limits.thinking_levels:
        fields["thinking_config"] = types.ThinkingConfig(thinking_level=level.upper())
    return types.GenerateContentConfig(**fields)


def transient(response: types.GenerateContentResponse, *, provider: str, model: str) -> None:
    """Refuse an answer whose finish reason says it failed for no fault of the request (retryable)."""
    for candidate in response.candidates or []:
        reason = _name(candidate.finish_reason)
        if reason == "MISSING_THOUGHT_SIGNATURE":
            raise ProviderError(f"{model}: {MISSING_SIGNATURE}", provider=provider, model=model)
        if reason in TRANSIENT_FINISH and not (candidate.content and candidate.content.parts):
            raise ProviderError(f"{model}: the answer came back empty ({reason})", provider=provider, model=model,
                                retryable=True)


def to_contents(messages: list[Message]) -> list[types.Content]:
    """The run's log as Gemini contents, through conversation(): every call turn is answered
    at once, with the ids and thought signatures the model gave its calls."""
    contents: list[types.Content] = []
    for turn in conversation(messages):
        parts: list[types.Part] = []
        for part in turn.parts:
            if isinstance(part, Text):
                parts.append(types.Part(text=part.text))
            elif isinstance(part, Call):
                call = part.call
                parts.append(types.Part(
                    function_call=types.FunctionCall(id=call.model_id, name=call.name, args=call.args),
                    thought_signature=base64.b64decode(call.signature) if call.signature else None,
                ))
            else:
                response = {"output": part.output} if part.error is None else {"error": part.error}
                parts.append(types.Part(function_response=types.FunctionResponse(
                    id=part.call.model_id, name=part.call.name, response=response)))
        contents.append(types.Content(role=turn.role, parts=parts))
    return contents


class GeminiChat:
    """Function calling with the registry's declarations; automatic calling off."""

    def __init__(self, client: GoogleClient, model: str) -> None:
        self.client = client
        self.model = model
        self.name = client.provider

    def turn(self, *, system: str, messages: list[Message], declarations: list[dict[str, Any]]) -> BrainTurn:
        config = generation(
            self.model, "brain",
            system_instruction=system,
            tools=[types.Tool(function_declarations=[types.FunctionDeclaration.model_validate(d) for d in declarations])],
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
            tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="AUTO")),
        )
        response = self.client.generate(self.model, to_contents(messages), config)
        turn = BrainTurn()
        candidate = response.candidates[0] if response.candidates else None
        for part in (candidate.content.parts if candidate and candidate.content and candidate.content.parts else []):
            if part.function_call is not None:
                fc = part.function_call
                args = fc.args if isinstance(fc.args, dict) else {}
                signature = base64.b64encode(part.thought_signature).decode() if part.thought_signature else None
                turn.calls.append(ModelCall(id=fc.id, name=fc.name or "", args=dict(args), signature=signature))
            elif part.text and not part.thought:
                turn.text += part.text
        finish = _name(candidate.finish_reason) if candidate else ""
        if finish == "MISSING_THOUGHT_SIGNATURE":
            raise ProviderError(f"{self.model}: {MISSING_SIGNATURE}", provider=self.name, model=self.model)
        if turn.calls:
            return turn
        blocked = blocked_reason(response)
        if blocked and blocked != "no candidates returned":
            turn.problem, turn.detail = "BLOCKED", blocked
        elif finish in RETRY_FINISH:
            # A truncated or malformed reply's words are not an answer, even when some came through.
            turn.problem, turn.detail = ("MAX_TOKENS" if finish == "TOO_MANY_TOOL_CALLS" else finish), finish
        elif not turn.text.strip():
            turn.problem, turn.detail = "EMPTY", blocked or f"finish reason {finish or 'none'}, no parts"
        return turn


# --- capabilities --------------------------------------------------------------------------


class GeminiStoryWriter:
    """Structured output: response_schema is the StoryDraft model."""

    def __init__(self, client: GoogleClient, model: str) -> None:
        self.client, self.model, self.name = client, model, client.provider

    def write_story(self, goal: str, *, scenes: int, seed: int, seconds: float | None = None,
                    dialogue: str = "some") -> StoryDraft:
        from director.backends.local.story import speech_seconds_per_scene

        per_scene = speech_seconds_per_scene(seconds, scenes) if seconds else 5
        prompt = render("story.md", goal=goal, scenes=scenes, seconds_per_scene=round(per_scene), dialogue=dialogue)
        config = generation(self.model, "story", response_mime_type="application/json", response_schema=StoryDraft,
                            seed=seed, **tier_config(self.client, self.model))
        response = self.client.generate(self.model, prompt, config,
                                        check=lambda r: transient(r, provider=self.name, model=self.model))
        if isinstance(response.parsed, StoryDraft):
            return response.parsed
        reason = blocked_reason(response)
        if reason and not response.text:
            raise SafetyBlocked(f"story: {reason}", provider=self.name, model=self.model)
        try:
            return StoryDraft.model_validate_json(response.text or "")
        except ValidationError as exc:
            raise ProviderError(f"story came back malformed: {exc.errors()[0]['msg']}", provider=self.name,
                                model=self.model) from None


class GeminiImageMaker:
    """A Gemini image model (Nano Banana): create, edit (image + instruction), remix (N images)."""

    def __init__(self, client: GoogleClient, model: str, *, label: str | None = None) -> None:
        self.client, self.model = client, model
        self.name = label or client.provider

    def _image(self, contents: Any, size: tuple[int, int] | None, seed: int | None, out: Path, what: str) -> None:
        """One picture, in the frame's aspect and at the imageSize its pixels need (1K for 720p, 2K for 1080p,
        4K above), as far as the model takes them."""
        image = None
        if size is not None:
            image = types.ImageConfig(aspect_ratio=aspect_of(*size), image_size=image_size(self.model, *size))
        config = types.GenerateContentConfig(response_modalities=["IMAGE"], image_config=image, seed=seed,
                                             **tier_config(self.client, self.model))

        def check(response: types.GenerateContentResponse) -> None:
            transient(response, provider=self.name, model=self.model)
            for data, _ in inline_blobs(response, "image/")[-1:]:
                whole_image(data, provider=self.name, model=self.model)

        response = self.client.generate(self.model, contents, config, output="IMAGE", check=check)
        blobs = inline_blobs(response, "image/")
        if not blobs:
            reason = blocked_reason(response) or "no image in the reply"
            raise SafetyBlocked(f"{what}: {reason}", provider=self.name, model=self.model)
        save_png(blobs[-1][0], out)  # the final picture: the last one that is not a thought

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path,
                     references: list[Path] | None = None) -> None:
        contents = remix_contents(references, prompt) if references else prompt
        self._image(contents, (width, height), seed, out, "image")

    def edit_image(self, image: Path, instruction: str, *, out: Path, size: tuple[int, int] | None = None) -> None:
        self._image([image_part(image), instruction], size, None, out, "edit")

    def remix_images(self, images: list[Path], prompt: str, *, width: int, height: int, out: Path) -> None:
        self._image(remix_contents(images, prompt), (width, height), None, out, "remix")


def remix_contents(images: list[Path], prompt: str) -> list[Any]:
    """The prompt with <img>N</img> pointing at the N-th image part, images in order after it."""
    image_refs(prompt, len(images))
    text = IMG_REF.sub(lambda m: f"image {m.group(1)}", prompt)
    contents: list[Any] = [text]
    for n, path in enumerate(images):
        contents += [f"image {n}:", image_part(path)]
    return contents




class GeminiVoice:
    """Gemini TTS. The 3.8 models read the text as a verbatim transcript, so how to read it goes in the
    part's speechMetadata.style, never into the words; the answer is a WAV (3.8) or raw 16-bit PCM (older
    models, `audio/L16;rate=24000`), written out as a WAV either way."""

    def voices(self) -> list[str]:
        return list(GEMINI_VOICES)

    def __init__(self, client: GoogleClient, model: str, *, default_voice: str) -> None:
        self.client, self.model, self.name = client, model, client.provider
        self.default_voice = default_voice

    def narrate(self, text: str, *, voice: str | None, out: Path, pace: float = 1.0, style: str | None = None) -> None:
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(voice_config=types.VoiceConfig(
                prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voice or self.default_voice))),
        )
        tempo = _tempo(pace)
        direction = "; ".join(s for s in (style, tempo) if s) or None
        part = types.Part(text=text, speech_metadata=types.SpeechMetadata(style=direction) if direction else None)
        self._speak([part], config, out, "narration")

    def converse(self, turns: list[tuple[str, str]], *, voices: dict[str, str], out: Path, pace: float = 1.0) -> None:
        """Two speakers' lines in one request, in the documented multi-speaker form: speechConfig's
        multiSpeakerVoiceConfig names exactly two speakers and their prebuilt voices, and each turn is a
        part whose speechMetadata.speaker says who reads it (ai.google.dev/gemini-api/docs/speech-generation,
        multi-speaker)."""
        speakers = list(dict.fromkeys(speaker for speaker, _ in turns))
        if len(speakers) != 2:
            raise ValueError(f"a multi-speaker request takes exactly two speakers, not {len(speakers)}")
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(multi_speaker_voice_config=types.MultiSpeakerVoiceConfig(
                speaker_voice_configs=[types.SpeakerVoiceConfig(speaker=s, voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(voice_name=voices[s]))) for s in speakers])),
        )
        tempo = _tempo(pace)
        parts = [types.Part(text=text, speech_metadata=types.SpeechMetadata(speaker=speaker, style=tempo))
                 for speaker, text in turns]
        self._speak(parts, config, out, "dialogue")

    def _speak(self, parts: list[types.Part], config: types.GenerateContentConfig, out: Path, what: str) -> None:
        def check(response: types.GenerateContentResponse) -> None:
            for data, _ in inline_blobs(response, "audio/")[:1]:
                if data[:4] == b"RIFF":
                    whole_wav(data, model=self.model, provider=self.name)

        response = self.client.generate(self.model, [types.Content(role="user", parts=parts)], config,
                                        output="AUDIO", check=check)
        blobs = inline_blobs(response, "audio/")
        if not blobs:
            raise SafetyBlocked(f"{what}: {blocked_reason(response) or 'no audio in the reply'}",
                                provider=self.name, model=self.model)
        data, mime = blobs[0]
        if data[:4] == b"RIFF":
            out.write_bytes(data)
            return
        rate = int(m.group(1)) if (m := re.search(r"rate=(\d+)", mime)) else 24_000
        write_wav_pcm16(out, data, rate=rate)


def _tempo(pace: float) -> str | None:
    """A reading speed as the direction TTS takes (speechMetadata.style); None at the usual pace."""
    return None if abs(pace - 1.0) < 0.05 else ("a little quicker than usual" if pace > 1 else "slower than usual")


class TranscriptCue(BaseModel):
    start: float = Field(description="Seconds from the start of the audio.")
    end: float = Field(description="Seconds from the start of the audio.")
    text: str = Field(description="What is said, verbatim.")


class Transcript(BaseModel):
    cues: list[TranscriptCue] = Field(description="Speech in order; empty when nobody speaks.")


class GeminiVision:
    """Multimodal understanding: describe a frame (<= 640 px), transcribe audio with timings."""

    CHUNK_S = 480.0  # inline audio stays well under the request size limit

    def __init__(self, client: GoogleClient, model: str) -> None:
        self.client, self.model, self.name = client, model, client.provider

    def describe(self, image: Path, *, style: str, title: str, plot: str, transcript: str) -> str:
        prompt = render(f"styles/{style}.md", part="model", title=title, plot=plot or "unknown",
                        transcript=transcript or "nothing is said")
        response = self.client.generate(self.model, [prompt, image_part(image, max_side=640)],
                                        generation(self.model, "vision", **tier_config(self.client, self.model)))
        if not response.text:
            raise SafetyBlocked(f"describe: {blocked_reason(response) or 'empty reply'}", provider=self.name,
                                model=self.model)
        return response.text.strip()

    def check_continuity(self, image: Path, references: list[tuple[str, Path]], *,
                         scene: str = "") -> dict[str, tuple[float, str]]:
        names = [name for name, _ in references]
        prompt = render("continuity.md", count=len(references), references=names, scene=scene)
        contents: list[Any] = [prompt]
        for n, (name, path) in enumerate(references):
            contents += [f"picture {n} ({name}):", image_part(path, max_side=768)]
        contents += ["the still:", image_part(image, max_side=1024)]
        config = generation(self.model, "vision", response_mime_type="application/json",
                            response_schema=ContinuityVerdict, **tier_config(self.client, self.model))
        response = self.client.generate(self.model, contents, config)
        try:
            verdict = ContinuityVerdict.model_validate_json(response.text or "")
        except ValidationError:
            raise ProviderError(f"continuity check: {blocked_reason(response) or 'the verdict came back malformed'}",
                                provider=self.name, model=self.model) from None
        return continuity_scores(verdict, names, provider=self.name, model=self.model)

    def transcribe(self, video: Path, *, start: float | None = None, end: float | None = None) -> tuple[list[Any], str]:
        from director.backends.local.vision import Cue
        from director.media import extract_audio, media_duration

        cues: list[Cue] = []
        first = start or 0.0
        last = end if end is not None else media_duration(video)
        at = first
        while at < last - 0.05:
            length = min(self.CHUNK_S, last - at)
            wav = extract_audio(video, start=at, duration=length)
            try:
                config = generation(self.model, "vision", response_mime_type="application/json",
                                    response_schema=Transcript)
                response = self.client.generate(self.model, [
                    "Transcribe the speech in this audio verbatim, as timed cues in seconds from its start. "
                    "Return no cues when nobody speaks.",
                    types.Part.from_bytes(data=wav.read_bytes(), mime_type="audio/wav")], config)
            finally:
                wav.unlink(missing_ok=True)
            parsed = response.parsed if isinstance(response.parsed, Transcript) else None
            if parsed is None:
                try:
                    parsed = Transcript.model_validate_json(response.text or '{"cues": []}')
                except ValidationError:
                    raise ProviderError("transcript came back malformed", provider=self.name,
                                        model=self.model) from None
            cues += [Cue(at + c.start, at + c.end, c.text.strip()) for c in parsed.cues if c.text.strip()]
            at += length
        return cues, "gemini"
