"""The HTTP face: a JSON API under /api, server-sent events, and the web studio at /.

    director serve [--host 127.0.0.1] [--port 8000] [--workspace DIR] [--workers N]

Like the CLI it is a thin translation of requests into lifecycle calls
(director.lifecycle). Runs go to the server's worker pool, never the request,
so a closed browser tab does not stop them. Everything a response says about a
run comes from the catalog and the checkpoints, so runs started by the CLI
show up too, and a restarted server shows its unfinished runs as interrupted.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import secrets
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from director import batch_routes, uploads
from director.access import SESSION_SECONDS, Studio
from director.assistants import Assistants
from director.batch_routes import Running
from director.errors import ConfigError, DirectorError, InputError, StorageError
from director.guards import (
    ERRORS,
    FORM_TYPES,
    AssetFile,
    BodyLimit,
    HeadAsGet,
    Incidents,
    content_type,
    error,
    host_name,
    loopback,
    srt_to_vtt,
    status_of,
    without_paths,
)
from director.lease import effective_status
from director.options import MAX_TEXT_CHARS, MakeOptions, http_fields, refusal_of
from director.secrets import register
from director.state import AssetRef
from director.store import Catalog
from director.streams import follow
from director.version import __version__

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
SHA256 = re.compile(r"[0-9a-f]{64}")
STOP_GRACE_S = 1.0
"""On SIGTERM, how long runs get to reach their next step before they are marked interrupted regardless."""
CHANGES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
MCP_PATH = "/mcp"
"""The MCP face over streamable HTTP (director.assistants), behind the same token, Host and Origin checks."""

OPTION = MakeOptions.model_fields


class Strict(BaseModel):
    """A request body: unknown fields refused, and no coercion (true is not a number, "3" is not 3)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def run_request() -> type[BaseModel]:
    """The body of POST /api/runs, made from the options' one declaration (director.options)."""
    return create_model(  # type: ignore[no-any-return, call-overload]
        "RunRequest", __base__=Strict, __doc__="A goal to make, with the same options as `director make`.",
        goal=(str, Field(min_length=1, max_length=MAX_TEXT_CHARS, description="What the video should be.")),
        **http_fields())


RunRequest = run_request()


class Answer(Strict):
    answer: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description='"yes", "no", or a change in words.')


class Said(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="A revision, like `director say`.")


class Resume(Strict):
    budget: Annotated[float | None, OPTION["budget"]]


class Replay(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    checkpoint: str | None = Field(None, alias="from", max_length=200, description="Checkpoint id (default: the start).")


class Fork(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    checkpoint: str = Field(alias="from", min_length=1, max_length=200, description="Checkpoint id to branch from.")
    say: str | None = Field(None, max_length=MAX_TEXT_CHARS, description="The change the new run makes.")
    run_id: Annotated[str | None, OPTION["run_id"]]


def create_app(*, workspace: str | Path | None = None, workers: int = 2, token: str | None = None,
               director: Any = None, allowed_hosts: tuple[str, ...] = (), **overrides: Any) -> FastAPI:
    """The app; `director serve` runs it with uvicorn, tests drive it with httpx."""
    from director.api import Director

    def new_pool() -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="director-run")

    director = director or Director(workspace, pool=new_pool(), **overrides)
    director.lifecycle.executor = director.lifecycle.executor or new_pool()
    # The server owns its workspace: with the catalog in place, an unknown run is a 404 from the start.
    director.workspace.prepare()
    Catalog.open(director.workspace, create=True)
    studio = Studio(director, token or None, allowed_hosts)
    if token:
        register(token)  # never echoed: error texts and logs are scrubbed of it like the API keys
    if director.settings.mcp_token:
        if not token:  # else the API an assistant is kept from would be open to it, and to everyone
            raise ConfigError("DIRECTOR_MCP_TOKEN keeps an assistant to /mcp only while DIRECTOR_TOKEN guards the "
                              "rest of the API: set DIRECTOR_TOKEN too")
        studio.mcp_token = director.settings.mcp_token.get_secret_value()
        register(studio.mcp_token)

    settings = director.settings
    media_root = settings.media_root.expanduser() if settings.media_root else None
    def files(value: str, kind: str, field: str) -> str:  # upload ids (or paths under the media root), no other path
        return uploads.resolve(value, director.workspace.root, media_root=media_root, kind=kind, field=field)

    assistants = Assistants(director, over_http=True, files=files)
    batches = Running(workers=max(1, workers))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.served:  # the app is served again after a shutdown (tests do that): a fresh pool
            director.lifecycle.executor = new_pool()
        app.state.served = True
        studio.stopping.clear()
        # MCP's streamable HTTP sessions, a manager per serving (one runs once); the guard below checks every
        # request's Host, Origin and token before it reaches them, so the SDK's own Host check is left off.
        assistants.server.streamable_http_app(transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=False))
        async with assistants.server.session_manager.run():
            yield
        studio.stopping.set()
        # Runs in flight stop at their next step and show as interrupted; queued ones stop before they start.
        # A step that takes longer than the grace is not waited for: its run is marked interrupted now (the
        # last checkpoint and every finished tool call are kept), and resume goes on from there.
        stopped = director.lifecycle.stop_all(grace=STOP_GRACE_S, kill=studio.signalled)
        studio.stopped = [run.id for run in stopped] + batches.stop_all(grace=STOP_GRACE_S)
        director.lifecycle.executor.shutdown(wait=False)

    app = FastAPI(title="Director", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Turn a goal into a finished video: submit, follow, approve, revise, replay and fork.")
    app.state.studio = studio
    app.state.batches = batches
    app.state.served = False
    app.add_middleware(Incidents)  # type: ignore[arg-type]  # innermost: it sees what the routes raise
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)  # type: ignore[arg-type]
    app.add_middleware(HeadAsGet)  # type: ignore[arg-type]

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        """Who may ask what: the Host must be a name this server answers to (against DNS rebinding), a change
        must come from the studio's own origin as JSON (against cross-site requests), and with a token set,
        every API call needs the token or a browser session. Every answer carries the studio's headers."""
        path = request.url.path
        response: Response
        if path != "/healthz" and not studio.host_ok(request):
            names = ", ".join(sorted(studio.allowed_hosts))
            response = error(421, f"this server answers to {names}, not {host_name(request.headers.get('host', ''))!r}"
                                  f"; behind a proxy, start it with --allowed-host NAME")
        elif path == MCP_PATH and (why := studio.browser_elsewhere(request)):
            response = error(403, why)
        elif path == MCP_PATH and request.method == "POST" and content_type(request) != "application/json":
            response = error(415, "send MCP messages as Content-Type: application/json")
        elif request.method in CHANGES and path.startswith("/api") and (why := studio.same_origin(request)):
            response = error(403, why)
        elif request.method in CHANGES and path.startswith("/api") and not path.startswith("/api/uploads") \
                and content_type(request) != "application/json":
            response = error(415, "send the request as Content-Type: application/json (an empty body is {})")
        elif request.method in CHANGES and path.startswith("/api/uploads") and content_type(request) in FORM_TYPES:
            response = error(415, "send the file itself as the body, with its own Content-Type (video/mp4, "
                                  "audio/wav, application/octet-stream), not as a form")
        elif path == MCP_PATH and not studio.assistant(request):
            response = error(401, "a token is needed: send the Authorization header with the value Bearer "
                                  "<DIRECTOR_MCP_TOKEN> (or <DIRECTOR_TOKEN>)", headers={"WWW-Authenticate": "Bearer"})
        elif (path.startswith("/api") or path == "/openapi.json") and path != "/api/session" \
                and not studio.authorised(request):
            response = error(401, "a token is needed: send the Authorization header with the value Bearer "
                                  "<DIRECTOR_TOKEN>, or open the studio and enter it there", headers={"WWW-Authenticate": "Bearer"})
        else:
            response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if (path.startswith("/api") and not path.startswith("/api/assets")) or path == MCP_PATH:
            response.headers.setdefault("Cache-Control", "no-store")  # runs change; a proxy must not keep them
        return response

    @app.post("/api/session", status_code=204, responses=ERRORS, summary="Open a browser session with the token")
    async def open_session(request: Request) -> Response:
        """The studio trades the token (in the Authorization header) for an HttpOnly session cookie, so the page
        keeps no secret: not in a cookie it can read, not in localStorage."""
        if studio.token and not studio.bearer(request):
            return error(401, "a token is needed: send the Authorization header with the value Bearer "
                              "<DIRECTOR_TOKEN>", headers={"WWW-Authenticate": "Bearer"})
        response = Response(status_code=204)
        if studio.token:
            response.set_cookie(studio.cookie_name(request), studio.open_session(), max_age=SESSION_SECONDS,
                                httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")
        return response

    @app.exception_handler(DirectorError)
    async def director_error(request: Request, exc: DirectorError) -> JSONResponse:
        return error(status_of(exc), without_paths(str(exc), director.workspace.root))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        if request.url.path == "/api/runs" and where in OPTION:  # the options' own words, as every face says them
            return error(422, f"{where}: {refusal_of({**first, 'loc': (where,)}, 'http')}")
        return error(422, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        # The log has the traceback; the answer says nothing of the server's insides (SQL, paths, hosts).
        incident = secrets.token_hex(4)
        log.exception("unexpected error %s on %s %s", incident, request.method, request.url.path)
        return error(500, f"internal error {incident}: the server's log has the details")

    async def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def run_object(run_id: str) -> dict[str, Any]:
        return await call(studio.run_object, run_id)

    @app.get("/api/health", responses={503: {"description": "Something a run needs is unreachable"}},
             summary="The database, the asset store and the cluster, as this server sees them")
    async def health(where: bool = Query(False, description="Also say where the database and the asset store "
                                                            "are (server paths)")) -> JSONResponse:
        report = await call(director.lifecycle.health)
        if not where:  # the server's paths only when asked for
            report = {k: ({n: v for n, v in part.items() if n != "where"} if isinstance(part, dict) else part)
                      for k, part in report.items()}
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """For load balancers, without a token: only whether this server can work."""
        report = await call(director.lifecycle.health)
        return JSONResponse({"ok": report["ok"]}, status_code=200 if report["ok"] else 503)

    @app.post("/api/uploads", status_code=201, responses=ERRORS, summary="Upload a video or audio file",
              openapi_extra={"requestBody": {"required": True, "description": "The file's bytes.", "content": {
                  "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def upload(request: Request, name: str = Query("upload", max_length=200,
                                                          description="The file's name (its suffix is kept)")) \
            -> dict[str, Any]:
        """The file is the request body (any Content-Type); it is kept if it decodes as video or audio, under
        its sha256, which is its id for a run's sources or music."""
        limit = settings.upload_mb * 1024 * 1024
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:  # said up front: refused before a byte is read
            raise uploads.too_large(limit)
        try:
            return await uploads.receive(request.stream(), director.workspace.root, name=name, limit=limit)
        except ClientDisconnect:  # the client went away mid-file: nothing is kept, nothing to log
            raise InputError("the upload was cut off before its end") from None

    @app.post("/api/runs", status_code=201, responses=ERRORS, summary="Make a video from a goal")
    async def create_run(request: RunRequest) -> dict[str, Any]:  # type: ignore[valid-type]
        body: Any = request  # a model made from the options' declaration, so its fields are known at run time
        options = uploads.with_files(body.model_dump(exclude={"goal"}, exclude_unset=True), files)
        run = await call(director.lifecycle.make, body.goal, background=True, face="http", **options)
        return await run_object(run.id)

    @app.get("/api/runs", responses=ERRORS, summary="Every run, newest first")
    async def list_runs() -> list[dict[str, Any]]:
        try:
            rows = await call(director.runs)
        except InputError:  # no catalog yet: nothing has run here
            return []
        for r in rows:
            r.pop("final", None)  # a server path; the run object has the URL
        return without_paths(rows, director.workspace.root)  # type: ignore[no-any-return]

    @app.get("/api/runs/{run_id}", responses=ERRORS, summary="One run: status, scenes, approval, final")
    async def get_run(run_id: str) -> dict[str, Any]:
        return await run_object(run_id)

    async def known_run(run_id: str) -> str:
        await call(director.lifecycle._catalog().require_run, run_id)  # 404 before the stream starts
        return run_id

    @app.get("/api/runs/{run_id}/events", response_class=StreamingResponse,
             responses={**ERRORS, 200: {"description": "Server-sent events: `event:` its type, `id:` its seq, `data:` "
                                                       "the event as JSON; a `: ping` comment when idle",
                                        "content": {"text/event-stream": {"schema": {"type": "string"}}}}},
             summary="The run's events as server-sent events; Last-Event-ID or ?after=N resumes")
    async def run_events(run_id: str = Depends(known_run), after: int | None = Query(None, ge=0, le=2**31),
                         last_event_id: str | None = Header(None)) -> StreamingResponse:
        start = after if after is not None else 0
        if last_event_id and last_event_id.strip().isdigit() and len(last_event_id.strip()) < 10:
            start = int(last_event_id.strip())
        # A plain streaming response: a client hanging up just ends it (FastAPI's own SSE producer logs a
        # BrokenResourceError traceback when that races its keep-alive, fastapi discussion #15725).
        return StreamingResponse(stream_events(director, run_id, start, studio.stopping),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.post("/api/runs/{run_id}/approve", responses=ERRORS, summary="Answer the approval gate")
    async def approve(run_id: str, body: Answer) -> dict[str, Any]:
        await call(director.resume, run_id, approve=body.answer, background=True)
        return await run_object(run_id)

    @app.post("/api/runs/{run_id}/messages", responses=ERRORS, summary="A revision or chat line")
    async def message(run_id: str, body: Said) -> dict[str, Any]:
        await call(director.say, run_id, body.text, background=True)
        return await run_object(run_id)

    @app.post("/api/runs/{run_id}/resume", responses=ERRORS, summary="Continue a stopped run")
    async def resume(run_id: str, body: Resume | None = None) -> dict[str, Any]:
        await call(director.resume, run_id, budget=body.budget if body else None, background=True)
        return await run_object(run_id)

    @app.post("/api/runs/{run_id}/cancel", responses=ERRORS, summary="Stop a run; what it made is kept")
    async def cancel(run_id: str) -> dict[str, Any]:
        live = await call(director.cancel, run_id)
        if live is not None and live.working.is_set():  # a queued run is cancelled at once; a working one soon
            await asyncio.to_thread(live.wait_quietly, 30.0)
        return await run_object(run_id)

    @app.get("/api/runs/{run_id}/history", responses=ERRORS, summary="The run's checkpoints, newest first")
    async def history(run_id: str) -> list[dict[str, Any]]:
        return await call(director.history, run_id)  # type: ignore[no-any-return]

    @app.post("/api/runs/{run_id}/replay", responses=ERRORS, summary="Run again from a checkpoint")
    async def replay(run_id: str, body: Replay | None = None) -> dict[str, Any]:
        await call(director.replay, run_id, body.checkpoint if body else None, background=True)
        return await run_object(run_id)

    @app.post("/api/runs/{run_id}/fork", status_code=201, responses=ERRORS,
              summary="A new run from a checkpoint, with a change")
    async def fork(run_id: str, body: Fork) -> dict[str, Any]:
        run = await call(director.fork, run_id, body.checkpoint, say=body.say, new_run_id=body.run_id,
                         background=True)
        return await run_object(run.id)

    @app.get("/api/runs/{run_id}/subtitles.vtt", responses=ERRORS, summary="The final cut's subtitles as WebVTT")
    async def subtitles(run_id: str) -> Response:
        state, _ = await call(director.lifecycle.latest, run_id)
        final = state.storyboard.final if state and state.storyboard else None
        if final is None:
            raise HTTPException(404, f"run {run_id} has no final cut yet")
        try:  # from a shared store, this machine fetches (and checks) what it has not cached
            path = await call(lambda: director.lifecycle.store().path(final.subtitles))
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (StorageError, OSError):
            raise HTTPException(404, f"run {run_id}'s subtitles are missing from the store (director doctor)") from None
        return Response(srt_to_vtt(text), media_type="text/vtt; charset=utf-8")

    @app.get("/api/assets/{sha}", responses={**ERRORS, 206: {"description": "Part of the file (Range)"}},
             summary="An asset by its sha256; honours Range")
    async def asset(sha: str) -> AssetFile:
        if not SHA256.fullmatch(sha):
            raise HTTPException(404, "no such asset: ids are 64 lowercase hex digits")
        row = await call(director.lifecycle._catalog().get_asset, sha)
        if row is None:
            raise HTTPException(404, f"no asset {sha}")
        root = director.workspace.assets_dir.resolve()
        if not director.workspace.abspath(row.path).resolve().is_relative_to(root):
            raise HTTPException(404, f"asset {sha} is missing from the store (director doctor)")
        ref = AssetRef(sha256=row.sha256, kind=row.kind, path=row.path, bytes=row.bytes)
        try:  # from a shared store, this machine fetches (and checks) what it has not cached
            path = await call(lambda: director.lifecycle.store().path(ref))
        except StorageError as exc:
            raise HTTPException(404, f"asset {sha} is missing from the store ({exc})") from None
        if not path.is_file():
            raise HTTPException(404, f"asset {sha} is missing from the store (director doctor)")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # Immutable (named by its content), but behind a token only this browser may keep it: no shared cache.
        cache = "private" if studio.token else "public"
        return AssetFile(path, media_type=media_type, headers={"Cache-Control": f"{cache}, max-age=31536000, immutable"})

    web = resources.files("director") / "web"

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse((web / "index.html").read_text(encoding="utf-8"))

    batch_routes.add_routes(app, director, batches, files=files, stopping=studio.stopping)
    app.mount("/static", StaticFiles(directory=str(web)), name="static")
    app.router.routes.append(Route(MCP_PATH, endpoint=McpEndpoint(assistants), methods=["GET", "POST", "DELETE"],
                                   include_in_schema=False))

    return app


class McpEndpoint:
    """POST, GET and DELETE /mcp: handed to the MCP SDK's session manager of this serving."""

    def __init__(self, assistants: Assistants) -> None:
        self.assistants = assistants

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.assistants.server.session_manager.handle_request(scope, receive, send)


def stream_events(director: Any, run_id: str, after: int,
                  stopping: threading.Event | None = None) -> AsyncIterator[bytes]:
    """A run's recorded events after `after`, then new ones, until run_finished or until no process drives it."""
    catalog = director.lifecycle._catalog()

    def resting() -> bool:
        return effective_status(catalog.require_run(run_id), catalog) != "running"

    return follow(lambda seq: catalog.events(run_id, after=seq), resting, last="run_finished",
                  root=director.workspace.root, after=after, stopping=stopping)


def check_bind(host: str, token: str | None) -> None:
    """ConfigError (exit 2) for an address past loopback without a token."""
    if not loopback(host) and not token:
        raise ConfigError(f"binding {host} exposes Director to the network: set DIRECTOR_TOKEN first "
                          f"(or bind 127.0.0.1)")


def serve(*, host: str, port: int, workspace: Path | None, workers: int, token: str | None,
          allowed_hosts: tuple[str, ...] = (), **overrides: Any) -> list[str]:
    """Run the server until Ctrl-C or SIGTERM; the ids of the runs that stopped (interrupted) with it.
    Refuses a non-loopback address without a token."""
    import uvicorn

    check_bind(host, token)
    bound = (host,) if host not in ("0.0.0.0", "::", "") else ()  # the address it is reached by, as a Host
    app = create_app(workspace=workspace, workers=workers, token=token, allowed_hosts=(*bound, *allowed_hosts),
                     **overrides)
    studio: Studio = app.state.studio

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            # Told to stop: the event streams end at once (a browser's EventSource would hold the shutdown
            # open for ever), and the runs get STOP_GRACE_S before they are marked interrupted.
            studio.signalled = True
            studio.stopping.set()
            super().handle_exit(sig, frame)

    try:
        Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)).run()
    except KeyboardInterrupt:  # uvicorn raises the signal again once it has shut down; the CLI's handler says so
        pass
    return studio.stopped
