"""The HTTP face's guards and answers: the one-line JSON error every response uses, the body limit, the
incident log for unexpected errors, HEAD as GET, Range errors in the API's shape, and the Host and Origin names
the server checks (director/server.py wires them into the app).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from director import uploads
from director.errors import ConfigError, DirectorError, InputError, RunStateError, UnknownRun
from director.secrets import scrub

log = logging.getLogger("director.server")


class ErrorBody(BaseModel):
    error: str = Field(description="One clear line.")


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody}
                                           for code in (400, 401, 403, 404, 409, 413, 415, 421, 422)}


def without_paths(value: Any, root: str | Path) -> Any:
    """A value as the HTTP face shows it: the server's workspace (where its files live) is `<workspace>`, in
    a message and in every string of a nested event."""
    if isinstance(value, dict):
        return {k: without_paths(v, root) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_paths(v, root) for v in value]
    if not isinstance(value, str) or not value:
        return value
    for path in workspace_spellings(str(root)):
        value = value.replace(path, "<workspace>")
    return value


@lru_cache(maxsize=8)
def workspace_spellings(root: str) -> tuple[str, ...]:
    """The workspace as it may appear in a message, longest first: as given and resolved (resolved once, not
    for every string of every event)."""
    return tuple(sorted({root, str(Path(root).resolve())}, key=len, reverse=True))


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": scrub(" ".join(message.split()))}, status_code=status, headers=headers)


FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"))
"""What a plain HTML form can send across sites without asking: never taken, even from the studio's origin."""


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def status_of(exc: DirectorError) -> int:
    if isinstance(exc, UnknownRun):
        return 404
    if isinstance(exc, RunStateError):
        return 409
    if isinstance(exc, uploads.TooLarge):
        return 413
    if isinstance(exc, (InputError, ConfigError)):
        return 422
    return 500


class BodyLimit:
    """413 for a request body over the limit, whether or not it says its length up front."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/api/uploads":  # an upload streams to disk under its own cap
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await error(413, f"the request body is over {self.limit} bytes")(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise HTTPException(413, f"the request body is over {self.limit} bytes")
            return message

        await self.app(scope, limited, send)


class Incidents:
    """An unexpected error is logged once, with an incident id, and answered as one line that says nothing of
    the server's insides (FastAPI's own handler for Exception re-raises, so the server would log it twice)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:  # noqa: BLE001 - this is the last place an error can be answered
            incident = secrets.token_hex(4)
            log.exception("unexpected error %s on %s %s", incident, scope.get("method"), scope.get("path"))
            if not started:
                await error(500, f"internal error {incident}: the server's log has the details")(scope, receive, send)


class HeadAsGet:
    """HEAD answers wherever GET does: routed as a GET, its headers sent and its body dropped (an event stream
    ends as soon as its headers are out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                started.set()

        async def hung_up() -> Message:
            if started.is_set():
                return {"type": "http.disconnect"}
            message = await receive()
            return message

        await self.app({**scope, "method": "GET"}, hung_up, headers_only)


class AssetFile(FileResponse):
    """A file that answers a bad Range in the API's JSON error shape (400 malformed, 416 past the end)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = dict(scope.get("headers") or []).get(b"range")
        if wanted is not None:
            from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

            size = Path(self.path).stat().st_size
            try:
                self._parse_range_header(wanted.decode("latin-1"), size)
            except MalformedRangeHeader as exc:
                await error(400, f"bad Range header: {exc.content}")(scope, receive, send)
                return
            except RangeNotSatisfiable:
                await error(416, f"the Range asks for bytes past the end of the file ({size} bytes)",
                            headers={"Content-Range": f"bytes */{size}"})(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def srt_to_vtt(srt: str) -> str:
    """WebVTT for a <track>: the SRT cues with '.' before the milliseconds."""
    body = re.sub(r"(\d\d:\d\d:\d\d),(\d\d\d)", r"\1.\2", srt.replace("\r\n", "\n"))
    return "WEBVTT\n\n" + body


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


AUTHORITY = re.compile(r"(?:\[(?P<v6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::\d{1,5})?")


def host_name(host: str) -> str:
    """The name in a Host or Origin authority, without its port: 'EXAMPLE.org:80' -> 'example.org', '[::1]:8' -> '::1'.
    Anything else (userinfo, a bare IPv6 address, text after the brackets) is no name: ''."""
    m = AUTHORITY.fullmatch(host.strip().lower())
    return (m.group("v6") or m.group("name")) if m else ""
