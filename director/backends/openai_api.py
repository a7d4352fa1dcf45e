"""An OpenAI-compatible model server of the user's own (Ollama, llama.cpp's llama-server, vLLM, LM Studio): the
story (structured output with a JSON schema), the brain (tool calling) and, when the model sees, vision.

Only this module imports the `openai` package. Requests go through the official client; its retries cover
connection errors, 408, 409, 429 and 5xx (DIRECTOR_MAX_ATTEMPTS tries in all). The server is free to use:
it is the user's, on this machine or their network (see `own_server`), so nothing here is priced; a public
host name is refused unless DIRECTOR_OPENAI_OWN_SERVER says it is the user's.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from pydantic import BaseModel, ValidationError

from director.backends.base import ContinuityVerdict, continuity_scores
from director.brain import BrainTurn, ModelCall
from director.brain.conversation import Call, Text, conversation
from director.config import Settings
from director.errors import ConfigError, ProviderError, SafetyBlocked
from director.limits import CURRENT_CALL
from director.prompting import render
from director.state import Message
from director.story_draft import StoryDraft

NAME = "openai"
LOCAL_SUFFIXES = (".local", ".lan", ".internal", ".home.arpa", ".localhost")
Parsed = TypeVar("Parsed", bound=BaseModel)


def own_server(url: str) -> bool:
    """Whether a base URL is a server on this machine or the user's network: loopback, private and link-local
    addresses, localhost, one-label names (a container's service name) and local-network suffixes."""
    host = (urlparse(url).hostname or "").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or ("." not in host and bool(host)) or host.endswith(LOCAL_SUFFIXES)
    return address.is_loopback or address.is_private or address.is_link_local


def check_settings(settings: Settings) -> tuple[str, str]:
    """(base URL, model) of the configured server, or a ConfigError saying what is missing or refused."""
    url = (settings.openai_base_url or "").strip()
    if not url:
        raise ConfigError("the openai backend needs a model server: set DIRECTOR_OPENAI_BASE_URL (for example "
                          "http://localhost:11434/v1 for Ollama) and DIRECTOR_OPENAI_MODEL")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"DIRECTOR_OPENAI_BASE_URL must be an http:// or https:// URL, not {url[:80]!r}")
    if not settings.openai_model:
        raise ConfigError(f"DIRECTOR_OPENAI_MODEL: which model the server at {parsed.hostname} should use "
                          f"(for example llama3.2; its GET /models lists them)")
    if not own_server(url) and not settings.openai_own_server:
        raise ConfigError(f"DIRECTOR_OPENAI_BASE_URL: {parsed.hostname} is not on this machine or a private network, "
                          f"and Director keeps no prices for hosted APIs, so it will not spend there unpriced; "
                          f"run a model server of your own (Ollama, llama.cpp, vLLM, LM Studio), or set "
                          f"DIRECTOR_OPENAI_OWN_SERVER=true if this one is yours and free")
    return url, settings.openai_model


class OpenAIServer:
    """The official client, on the configured server, with errors as Director's."""

    paid = False
    """The user's own server: nothing to price (see own_server)."""

    def __init__(self, settings: Settings) -> None:
        from openai import OpenAI

        url, model = check_settings(settings)
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "none"
        self.url, self.model = url, model
        self.host = urlparse(url).hostname or url
        self.client = OpenAI(base_url=url, api_key=key, timeout=settings.request_timeout_s,
                             max_retries=max(0, settings.max_attempts - 1))

    def chat(self, **request: Any) -> Any:
        """One chat completion; an error is a ProviderError that says what the server said."""
        import openai

        try:
            completion = self.client.chat.completions.create(model=self.model, **request)
        except openai.APIStatusError as exc:
            raise ProviderError(f"the model server at {self.host} refused the request ({exc.status_code}): "
                                f"{_message(exc)}", provider=NAME, model=self.model,
                                retryable=exc.status_code in (408, 409, 429) or exc.status_code >= 500) from None
        except openai.APIConnectionError as exc:
            raise ProviderError(f"cannot reach the model server at {self.url}: {exc.__cause__ or exc}",
                                provider=NAME, model=self.model, retryable=True) from None
        meter = CURRENT_CALL.get()
        usage = getattr(completion, "usage", None)
        if meter is not None and usage is not None:  # counted for the manifest; the user's own server is free
            meter.input_tokens += usage.prompt_tokens or 0
            meter.output_tokens += usage.completion_tokens or 0
        return completion

    def structured(self, messages: list[dict[str, Any]], schema: type[Parsed], what: str, *,
                   seed: int | None = None) -> Parsed:
        """A reply in the shape of `schema`: the server is given it as a strict JSON schema, and the reply is
        checked against it all the same (a small model may still get it wrong)."""
        from openai.lib._parsing._completions import type_to_response_format_param

        extra = {"seed": seed} if seed is not None else {}
        completion = self.chat(messages=messages, response_format=type_to_response_format_param(schema), **extra)
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            raise ProviderError(f"{what}: the server sent no choices", provider=NAME, model=self.model, retryable=True)
        if getattr(choice.message, "refusal", None):
            raise SafetyBlocked(f"{what}: the model refused: {choice.message.refusal[:200]}", provider=NAME,
                                model=self.model)
        if choice.finish_reason == "length":
            raise ProviderError(f"{what}: the reply was cut off at the token limit", provider=NAME, model=self.model)
        try:
            return schema.model_validate_json(choice.message.content or "")
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "the reply"
            raise ProviderError(f"{what} came back malformed ({where}: {first['msg']})", provider=NAME,
                                model=self.model, retryable=True) from None


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if isinstance(inner, str):
            return inner[:300]
    return str(getattr(exc, "message", exc))[:300]


class OpenAIStoryWriter:
    """The story as structured output: the StoryDraft schema, strict."""

    def __init__(self, server: OpenAIServer) -> None:
        self.server, self.model, self.name, self.paid = server, server.model, NAME, False

    def write_story(self, goal: str, *, scenes: int, seed: int, seconds: float | None = None,
                    dialogue: str = "some") -> StoryDraft:
        from director.backends.local.story import speech_seconds_per_scene

        per_scene = speech_seconds_per_scene(seconds, scenes) if seconds else 5
        prompt = render("story.md", goal=goal, scenes=scenes, seconds_per_scene=round(per_scene), dialogue=dialogue)
        return self.server.structured([{"role": "user", "content": prompt}], StoryDraft, "the story", seed=seed)


def to_messages(system: str, messages: list[Message]) -> list[dict[str, Any]]:
    """The run's log as Chat Completions messages, through conversation(): an assistant message with tool calls
    is followed at once by one tool message per call, in order, with the call's id."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in conversation(messages):
        words = "\n".join(p.text for p in turn.parts if isinstance(p, Text))
        if turn.role == "model":
            calls = [p.call for p in turn.parts if isinstance(p, Call)]
            message: dict[str, Any] = {"role": "assistant", "content": words or None}
            if calls:
                message["tool_calls"] = [{"id": c.model_id or c.id, "type": "function", "function": {
                    "name": c.name, "arguments": json.dumps(c.args)}} for c in calls]
            out.append(message)
            continue
        for part in turn.parts:
            if isinstance(part, Text):
                continue
            if isinstance(part, Call):  # a user turn holds no calls (conversation() keeps them on the model's)
                continue
            answer = {"output": part.output} if part.error is None else {"error": part.error}
            out.append({"role": "tool", "tool_call_id": part.call.model_id or part.call.id,
                        "content": json.dumps(answer, default=str)})
        if words:
            out.append({"role": "user", "content": words})
    return out


def to_tools(declarations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The registry's declarations as Chat Completions function tools."""
    return [{"type": "function", "function": {
        "name": d["name"], "description": d.get("description", ""),
        "parameters": d.get("parameters_json_schema") or d.get("parameters") or {"type": "object", "properties": {}}}}
        for d in declarations]


class OpenAIChat:
    """Tool calling for the model brain (director/brain/model.py)."""

    def __init__(self, server: OpenAIServer) -> None:
        self.server, self.model, self.name, self.paid = server, server.model, NAME, False

    def turn(self, *, system: str, messages: list[Message], declarations: list[dict[str, Any]]) -> BrainTurn:
        # No tool_choice: "auto" is the default with tools, and Ollama does not take the field.
        tools = {"tools": to_tools(declarations)} if declarations else {}  # an empty list is refused
        completion = self.server.chat(messages=to_messages(system, messages), **tools)
        turn = BrainTurn()
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            turn.problem, turn.detail = "EMPTY", "the server sent no choices"
            return turn
        message = choice.message
        turn.text = message.content or ""
        for call in message.tool_calls or []:
            function = getattr(call, "function", None)
            if function is None:
                continue
            try:
                args = json.loads(function.arguments or "{}")
            except json.JSONDecodeError as exc:
                turn.problem, turn.detail = "MALFORMED_FUNCTION_CALL", f"{function.name}: arguments are not JSON ({exc.msg})"
                turn.calls.clear()
                return turn
            if not isinstance(args, dict):
                turn.problem, turn.detail = "MALFORMED_FUNCTION_CALL", f"{function.name}: arguments are not an object"
                turn.calls.clear()
                return turn
            turn.calls.append(ModelCall(id=call.id, name=function.name, args=args))
        if turn.calls:
            return turn
        if choice.finish_reason == "length":
            turn.problem, turn.detail = "MAX_TOKENS", "the reply was cut off at the token limit"
        elif choice.finish_reason == "content_filter":
            turn.problem, turn.detail = "BLOCKED", "the server's content filter"
        elif getattr(message, "refusal", None):
            turn.problem, turn.detail = "BLOCKED", str(message.refusal)[:200]
        elif not turn.text.strip():
            turn.problem, turn.detail = "EMPTY", f"finish reason {choice.finish_reason or 'none'}, no content"
        return turn


def image_content(path: Path, *, max_side: int) -> dict[str, Any]:
    """A picture as a Chat Completions content part: a PNG data URL, no larger than max_side."""
    from PIL import Image

    from director.media import write_png

    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        write_png(im, buf)
    data = base64.b64encode(buf.getvalue()).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


class OpenAIVision:
    """A model that sees: describes trailer frames and checks continuity. Speech is transcribed offline
    (faster-whisper): Chat Completions takes no audio from a local server."""

    def __init__(self, server: OpenAIServer) -> None:
        self.server, self.model, self.name, self.paid = server, server.model, NAME, False
        self._local: Any = None

    def describe(self, image: Path, *, style: str, title: str, plot: str, transcript: str) -> str:
        prompt = render(f"styles/{style}.md", part="model", title=title, plot=plot or "unknown",
                        transcript=transcript or "nothing is said")
        completion = self.server.chat(messages=[{"role": "user", "content": [
            {"type": "text", "text": prompt}, image_content(image, max_side=640)]}])
        text = (completion.choices[0].message.content or "").strip() if completion.choices else ""
        if not text:
            raise SafetyBlocked("describe: empty reply", provider=NAME, model=self.model)
        return text

    def check_continuity(self, image: Path, references: list[tuple[str, Path]], *,
                         scene: str = "") -> dict[str, tuple[float, str]]:
        names = [name for name, _ in references]
        content: list[dict[str, Any]] = [{"type": "text", "text": render(
            "continuity.md", count=len(references), references=names, scene=scene)}]
        for n, (name, path) in enumerate(references):
            content += [{"type": "text", "text": f"picture {n} ({name}):"}, image_content(path, max_side=768)]
        content += [{"type": "text", "text": "the still:"}, image_content(image, max_side=1024)]
        verdict = self.server.structured([{"role": "user", "content": content}], ContinuityVerdict,
                                         "continuity check")
        return continuity_scores(verdict, names, provider=NAME, model=self.model)

    def transcribe(self, video: Path, *, start: float | None = None, end: float | None = None) -> tuple[list[Any], str]:
        if self._local is None:
            from director.backends.local.vision import LocalVision

            self._local = LocalVision()
        return self._local.transcribe(video, start=start, end=end)  # type: ignore[no-any-return]
