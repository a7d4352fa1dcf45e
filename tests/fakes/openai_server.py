"""A loopback fake of an OpenAI-compatible model server (GET /v1/models, POST /v1/chat/completions), for the
official `openai` client to talk to.

It refuses what the OpenAI API refuses, with its error bodies (sources in the docstrings of the checks):
- a request argument it does not know, and an unknown key inside a message or a content part;
- a `tool` message that answers no call of the assistant message just before it, a call left unanswered,
  a tool message without its tool_call_id;
- a function name outside ^[a-zA-Z0-9_-]{1,64}$, more than 128 tools, a tool that is not a function;
- a response_format json_schema whose name is bad, or, when strict, whose schema breaks the strict rules
  (every object closed with additionalProperties false and every property required; no default, minLength,
  maxLength, uniqueItems, allOf, not, if/then/else; the root an object, not anyOf; at most 10 levels);
- json_object without the word "json" in the messages;
- an unknown model (404 model_not_found) and a wrong key (401 invalid_api_key).

Its answers come from the Gemini fake's policies, so both fakes plan a run the same way: the brain's next
calls (brain_policy over the conversation turned into Gemini's shape), the story (fake_story), a frame
description, and a continuity verdict naming every sheet.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes import loopback
from tests.fakes.server import Reply, Request, brain_policy, fake_story

CHAT_FIELDS = {
    "model", "messages", "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier", "seed",
    "service_tier", "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
    "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
}
"""Chat Completions' request arguments (openai-python, types/chat/completion_create_params.py)."""
MESSAGE_FIELDS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call"},
    "tool": {"role", "content", "tool_call_id"},
}
PART_FIELDS = {"text": {"type", "text"}, "image_url": {"type", "image_url"}, "input_audio": {"type", "input_audio"},
               "file": {"type", "file"}, "refusal": {"type", "refusal"}}
NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
NOT_IN_STRICT = ("default", "minLength", "maxLength", "uniqueItems", "allOf", "not", "if", "then", "else",
                 "dependentRequired", "dependentSchemas", "patternProperties")
"""Keywords strict structured outputs refuse (OpenAI's structured-outputs guide, and the errors users quote)."""


class Refused(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.param, self.code, self.kind = status, param, code, kind

    def body(self) -> dict[str, Any]:
        return {"error": {"message": str(self), "type": self.kind, "param": self.param, "code": self.code}}


def strict_problems(schema: Any, context: tuple[str, ...] = (), defs: dict[str, Any] | None = None,
                    depth: int = 0) -> str | None:
    """The first rule of strict structured outputs a schema breaks, in OpenAI's words, or None."""
    if not isinstance(schema, dict):
        return None
    where = f"In context={context}, "
    if depth > 10:
        return f"{where}{depth} levels of nesting exceeds limit of 10."
    for word in NOT_IN_STRICT:
        if word in schema:
            return f"{where}'{word}' is not permitted."
    if "$ref" in schema and len(set(schema) - {"$ref", "description", "title"}) > 0:
        return f"{where}'$ref' is not permitted next to other keywords."
    kinds = schema.get("type")
    if kinds == "object" or (isinstance(kinds, list) and "object" in kinds):
        if schema.get("additionalProperties") is not False:
            return f"{where}'additionalProperties' is required to be supplied and to be false."
        properties = schema.get("properties") or {}
        required = schema.get("required")
        missing = [k for k in properties if not isinstance(required, list) or k not in required]
        if missing:
            return (f"{where}'required' is required to be supplied and to be an array including every key in "
                    f"properties. Missing '{missing[0]}'.")
        for key, sub in properties.items():
            if problem := strict_problems(sub, (*context, "properties", key), defs, depth + 1):
                return problem
    if isinstance(schema.get("items"), dict):
        if problem := strict_problems(schema["items"], (*context, "items"), defs, depth + 1):
            return problem
    for i, sub in enumerate(schema.get("anyOf") or []):
        if problem := strict_problems(sub, (*context, "anyOf", str(i)), defs, depth + 1):
            return problem
    for key, sub in (schema.get("$defs") or {}).items():
        if problem := strict_problems(sub, (*context, "$defs", key), defs, depth):
            return problem
    return None


class FakeOpenAI(loopback.Fake):
    """Start with start(); point DIRECTOR_OPENAI_BASE_URL at url (it ends in /v1)."""

    def __init__(self, *, models: tuple[str, ...] = ("llama3.2",), key: str | None = None,
                 sees: bool = True) -> None:
        self.models = models
        self.key = key
        self.sees = sees
        self.requests: list[Request] = []
        self.refusals: list[tuple[str, str]] = []
        self.scripts: dict[str, deque[Any]] = {}
        self.lock = threading.Lock()
        self.ids = iter(range(1, 10**9))

    @property
    def url(self) -> str:
        return f"{self.base}/v1"

    def enqueue(self, kind: str, reply: Any) -> None:
        """Answer the next `kind` request (brain, story, describe, continuity, text) with a JSON body, a Reply,
        or a callable(Request) -> either."""
        self.scripts.setdefault(kind, deque()).append(reply)

    # -- serving -----------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parsed, raw = loopback.read(handler)
        req = Request(handler.command, parsed.path, parsed.query,
                      {k.lower(): v for k, v in handler.headers.items()}, None, "unknown")
        try:
            try:
                req.body = json.loads(raw) if raw else None
            except json.JSONDecodeError as exc:
                raise Refused(400, f"We could not parse the JSON body of your request. ({exc.msg})") from None
            reply = self._route(req)
        except Refused as exc:
            reply = Reply(exc.status, exc.body())
            with self.lock:
                self.refusals.append((req.kind, str(exc)))
        except Exception as exc:  # a bug in the fake: a 500 the test sees, not a hang
            import traceback

            reply = Reply(500, {"error": {"message": f"fake crashed: {exc}\n{traceback.format_exc()}",
                                          "type": "server_error", "param": None, "code": None}})
        with self.lock:
            self.requests.append(req)
        payload = json.dumps(reply.body or {}).encode()
        handler.send_response(reply.status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, req: Request) -> Reply:
        self._authorise(req)
        if req.method == "GET" and req.path == "/v1/models":
            req.kind = "models"
            return Reply(body={"object": "list", "data": [
                {"id": m, "object": "model", "created": 1_764_000_000, "owned_by": "library"} for m in self.models]})
        if req.method == "POST" and req.path == "/v1/chat/completions":
            return self._chat(req)
        raise Refused(404, f"Invalid URL ({req.method} {req.path})")

    def _authorise(self, req: Request) -> None:
        header = req.headers.get("authorization", "")
        given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        if not given:
            raise Refused(401, "You didn't provide an API key. You need to provide your API key in an Authorization "
                               "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        if self.key is not None and given != self.key:
            raise Refused(401, "Incorrect API key provided. You can find your API key at "
                               "https://platform.openai.com/account/api-keys.", code="invalid_api_key")

    def _chat(self, req: Request) -> Reply:
        body = req.body
        if not isinstance(body, dict):
            raise Refused(400, "The request body must be a JSON object.")
        unknown = sorted(set(body) - CHAT_FIELDS)
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            raise Refused(400, f"Unrecognized request argument{plural} supplied: {', '.join(unknown)}")
        if "model" not in body:
            raise Refused(400, "you must provide a model parameter")
        if body["model"] not in self.models:
            raise Refused(404, f"The model `{body['model']}` does not exist or you do not have access to it.",
                          code="model_not_found")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Refused(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
                               "an empty array instead.", param="messages", code="empty_array")
        self._check_messages(messages)
        tools = body.get("tools")
        if tools is not None:
            self._check_tools(tools)
        format_ = body.get("response_format")
        if format_ is not None:
            self._check_format(format_, messages)
        req.kind = self._kind(body)
        scripted = self.scripts.get(req.kind)
        if scripted:
            answer = scripted.popleft()
            answer = answer(req) if callable(answer) else answer
            if isinstance(answer, Reply):
                return answer
            if isinstance(answer, dict) and "choices" in answer:
                return Reply(body=answer)
            return Reply(body=self._completion(body, content=json.dumps(answer) if not isinstance(answer, str)
                                               else answer))
        return Reply(body=self._answer(req))

    def _check_messages(self, messages: list[Any]) -> None:
        """The order rules, in OpenAI's words (quoted in the threads the note lists)."""
        pending: list[str] = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or m.get("role") not in MESSAGE_FIELDS:
                raise Refused(400, f"Invalid value: '{m.get('role') if isinstance(m, dict) else m}'. Supported "
                                   f"values are: 'system', 'assistant', 'user', 'tool', 'function', and 'developer'.",
                              param=f"messages[{i}].role", code="invalid_value")
            role = m["role"]
            extra = sorted(set(m) - MESSAGE_FIELDS[role])
            if extra:
                raise Refused(400, f"Unknown parameter: 'messages[{i}].{extra[0]}'.", param=f"messages[{i}].{extra[0]}",
                              code="unknown_parameter")
            if isinstance(m.get("content"), list):
                for j, part in enumerate(m["content"]):
                    kind = part.get("type") if isinstance(part, dict) else None
                    if kind not in PART_FIELDS:
                        raise Refused(400, f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', "
                                           f"'input_audio', 'refusal', and 'file'.",
                                      param=f"messages[{i}].content[{j}].type", code="invalid_value")
                    bad = sorted(set(part) - PART_FIELDS[kind])
                    if bad:
                        raise Refused(400, f"Unknown parameter: 'messages[{i}].content[{j}].{bad[0]}'.",
                                      param=f"messages[{i}].content[{j}].{bad[0]}", code="unknown_parameter")
                    if kind == "image_url" and not self.sees:
                        raise Refused(400, "Invalid content type. image_url is only supported by certain models.",
                                      param=f"messages[{i}].content[{j}].type", code="invalid_value")
            if role == "tool":
                if "tool_call_id" not in m:
                    raise Refused(400, "Missing parameter 'tool_call_id': messages with role 'tool' must have a "
                                       "'tool_call_id'.", param=f"messages.[{i}].tool_call_id")
                if not pending and not _answered_before(messages, i):
                    raise Refused(400, "Invalid parameter: messages with role 'tool' must be a response to a "
                                       "preceeding message with 'tool_calls'.", param=f"messages.[{i}].role")
                if m["tool_call_id"] not in pending:
                    raise Refused(400, f"Invalid parameter: 'tool_call_id' of '{m['tool_call_id']}' not found in "
                                       f"'tool_calls' of previous message.", param=f"messages.[{i}].tool_call_id")
                pending.remove(m["tool_call_id"])
                continue
            if pending:
                raise Refused(400, "An assistant message with 'tool_calls' must be followed by tool messages "
                                   "responding to each 'tool_call_id'. The following tool_call_ids did not have "
                                   f"response messages: {', '.join(pending)}", param="messages")
            if role == "assistant" and m.get("tool_calls"):
                for j, call in enumerate(m["tool_calls"]):
                    if set(call) - {"id", "type", "function"} or call.get("type") != "function" \
                            or not isinstance(call.get("function"), dict) \
                            or not isinstance(call["function"].get("arguments"), str):
                        raise Refused(400, f"Invalid 'messages[{i}].tool_calls[{j}]': a function call needs an id, "
                                           f"type 'function' and a function with a name and arguments as a string.",
                                      param=f"messages[{i}].tool_calls[{j}]", code="invalid_value")
                pending = [c["id"] for c in m["tool_calls"]]
            elif m.get("content") is None and role != "assistant":
                raise Refused(400, "Invalid value for 'content': expected a string, got null.",
                              param=f"messages.[{i}].content")
        if pending:
            raise Refused(400, "An assistant message with 'tool_calls' must be followed by tool messages responding "
                               "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
                               f"{', '.join(pending)}", param="messages")

    def _check_tools(self, tools: Any) -> None:
        if not isinstance(tools, list):
            raise Refused(400, "Invalid type for 'tools': expected an array of objects.", param="tools")
        if not tools:
            raise Refused(400, "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an "
                               "empty array instead.", param="tools", code="empty_array")
        if len(tools) > 128:
            raise Refused(400, f"Invalid 'tools': array too long. Expected an array with maximum length 128, but got "
                               f"an array with length {len(tools)} instead.", param="tools",
                          code="array_above_max_length")
        for i, tool in enumerate(tools):
            function = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
                raise Refused(400, f"Invalid value for 'tools[{i}]': a tool is a function.", param=f"tools[{i}]")
            extra = sorted(set(function) - {"name", "description", "parameters", "strict"})
            if extra:
                raise Refused(400, f"Unknown parameter: 'tools[{i}].function.{extra[0]}'.",
                              param=f"tools[{i}].function.{extra[0]}", code="unknown_parameter")
            if not NAME.match(str(function.get("name", ""))):
                raise Refused(400, f"Invalid 'tools[{i}].function.name': string does not match pattern. Expected a "
                                   f"string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                              param=f"tools[{i}].function.name", code="invalid_value")
            parameters = function.get("parameters")
            if parameters is not None and (not isinstance(parameters, dict) or parameters.get("type") != "object"):
                raise Refused(400, f"Invalid schema for function '{function['name']}': schema must be a JSON Schema "
                                   f"of 'type: \"object\"', got 'type: \"{(parameters or {}).get('type')}\"'.",
                              param=f"tools[{i}].parameters", code="invalid_function_parameters")
            if function.get("strict") and (problem := strict_problems(parameters)):
                raise Refused(400, f"Invalid schema for function '{function['name']}': {problem}",
                              param=f"tools[{i}].parameters", code="invalid_function_parameters")

    def _check_format(self, format_: Any, messages: list[Any]) -> None:
        kind = format_.get("type") if isinstance(format_, dict) else None
        if kind == "json_object":
            if "json" not in json.dumps(messages).lower():
                raise Refused(400, "'messages' must contain the word 'json' in some form, to use 'response_format' "
                                   "of type 'json_object'.", param="messages")
            return
        if kind == "text":
            return
        if kind != "json_schema":
            raise Refused(400, f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and "
                               f"'text'.", param="response_format.type", code="invalid_value")
        spec = format_.get("json_schema")
        if not isinstance(spec, dict) or "name" not in spec:
            raise Refused(400, "Missing required parameter: 'response_format.json_schema.name'.",
                          param="response_format.json_schema.name", code="missing_required_parameter")
        extra = sorted(set(spec) - {"name", "description", "schema", "strict"})
        if extra:
            raise Refused(400, f"Unknown parameter: 'response_format.json_schema.{extra[0]}'.",
                          param=f"response_format.json_schema.{extra[0]}", code="unknown_parameter")
        if not NAME.match(str(spec["name"])):
            raise Refused(400, "Invalid 'response_format.json_schema.name': string does not match pattern. Expected "
                               "a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                          param="response_format.json_schema.name", code="invalid_value")
        schema = spec.get("schema")
        if spec.get("strict"):
            if not isinstance(schema, dict) or schema.get("type") != "object":
                got = schema.get("type") if isinstance(schema, dict) else None
                raise Refused(400, f"Invalid schema for response_format '{spec['name']}': schema must be a JSON "
                                   f"Schema of 'type: \"object\"', got 'type: \"{got}\"'.", param="response_format")
            if problem := strict_problems(schema):
                raise Refused(400, f"Invalid schema for response_format '{spec['name']}': {problem}",
                              param="response_format")

    # -- answers -----------------------------------------------------------------
    @staticmethod
    def _kind(body: dict[str, Any]) -> str:
        if body.get("tools"):
            return "brain"
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
        if name == "StoryDraft":
            return "story"
        if name == "ContinuityVerdict":
            return "continuity"
        if any(isinstance(m.get("content"), list) for m in body["messages"]):
            return "describe"
        return "text"

    def _completion(self, body: dict[str, Any], *, content: str | None = None,
                    tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        prompt = len(json.dumps(body["messages"])) // 4
        completion = len(json.dumps(message)) // 4
        return {"id": f"chatcmpl-fake{next(self.ids)}", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"], "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "message": message, "logprobs": None,
                             "finish_reason": "tool_calls" if tool_calls else "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}

    def _answer(self, req: Request) -> dict[str, Any]:
        body = req.body
        text = "\n".join(_texts(body["messages"]))
        if req.kind == "brain":
            parts = brain_policy(as_gemini(body["messages"]))
            calls = [{"id": f"call_{next(self.ids):06d}", "type": "function",
                      "function": {"name": p["functionCall"]["name"], "arguments": json.dumps(p["functionCall"]["args"])}}
                     for p in parts if "functionCall" in p]
            words = " ".join(p["text"] for p in parts if "text" in p) or None
            return self._completion(body, content=words, tool_calls=calls)
        if req.kind == "story":
            return self._completion(body, content=json.dumps(fake_story(text)))
        if req.kind == "continuity":
            names = re.findall(r"picture \d+ \(([^)]+)\):", text)
            verdict = {"characters": [{"name": n, "score": 0.92, "reason": ""} for n in names]}
            return self._completion(body, content=json.dumps(verdict))
        if req.kind == "describe":
            return self._completion(body, content="A tiny diorama of the scene, in miniature, soft light.")
        return self._completion(body, content="OK.")


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            out.append(content)
        elif isinstance(content, list):
            out += [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return out


def _answered_before(messages: list[Any], i: int) -> bool:
    """Whether the tool message at i follows (through other tool messages) an assistant message with calls."""
    j = i - 1
    while j >= 0 and messages[j].get("role") == "tool":
        j -= 1
    return j >= 0 and messages[j].get("role") == "assistant" and bool(messages[j].get("tool_calls"))


def as_gemini(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A Chat Completions conversation in the Gemini request shape brain_policy reads."""
    system = [{"text": m["content"]} for m in messages if m["role"] in ("system", "developer")]
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for m in messages:
        if m["role"] == "user":
            contents.append({"role": "user", "parts": [{"text": t} for t in _texts([m])]})
        elif m["role"] == "assistant":
            parts: list[dict[str, Any]] = [{"text": m["content"]}] if m.get("content") else []
            for call in m.get("tool_calls") or []:
                names[call["id"]] = call["function"]["name"]
                parts.append({"functionCall": {"id": call["id"], "name": call["function"]["name"],
                                               "args": json.loads(call["function"]["arguments"] or "{}")}})
            contents.append({"role": "model", "parts": parts})
        elif m["role"] == "tool":
            response = json.loads(m["content"]) if isinstance(m["content"], str) else {}
            contents.append({"role": "user", "parts": [{"functionResponse": {
                "id": m["tool_call_id"], "name": names.get(m["tool_call_id"], ""), "response": response}}]})
    return {"systemInstruction": {"parts": system}, "contents": contents}
