"""Who may use the HTTP face: the Studio every route shares (the Director, the token, the browser sessions and
the names the server answers to) and its checks of a request's token, session, Host and Origin. director.server's
guard middleware asks it; director.guards holds the answers and the name parsing.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from typing import Any

from fastapi import Request

from director.guards import host_name, without_paths
from director.lease import effective_status
from director.run_object import describe_run

SESSION_COOKIE = "director_session"
"""The browser session's cookie: a random id the server made (HttpOnly, SameSite=Strict), never the token."""
SESSION_SECONDS = 12 * 3600
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class Studio:
    """What the routes share: the Director (with the worker pool), the token, the browser sessions and the
    names this server answers to."""

    def __init__(self, director: Any, token: str | None, allowed_hosts: tuple[str, ...] = ()) -> None:
        self.director = director
        self.token = token
        self.mcp_token: str | None = None
        """DIRECTOR_MCP_TOKEN: opens /mcp alone, so an assistant given it cannot use the HTTP API (batches, runs
        without the gate) around the MCP face's spending rule."""
        self.allowed_hosts = frozenset((*LOOPBACK_NAMES, *(host_name(h) for h in allowed_hosts if h)))
        """Host names served: loopback's, plus --allowed-host (a reverse proxy's); anything else is a 421, so a
        page on an attacker's name that resolves here (DNS rebinding) reaches nothing."""
        self.sessions: dict[str, float] = {}
        """Browser session id -> when it expires (made by POST /api/session with the token)."""
        self.stopping = threading.Event()
        """Set when the server is told to stop: open event streams end, so the shutdown is not held up."""
        self.signalled = False
        """The process got SIGTERM or Ctrl-C (`director serve`): it ends once the server has shut down."""
        self.stopped: list[str] = []
        """The runs the shutdown stopped (marked interrupted, to resume)."""

    def bearer(self, request: Request, token: str | None = None) -> bool:
        """The request carries the token (or the one named) in its Authorization header (no browser sends that on
        its own)."""
        token = token or self.token
        given = request.headers.get("authorization", "")
        return bool(token) and given.lower().startswith("bearer ") and hmac.compare_digest(
            given[7:].strip().encode(), str(token).encode())

    def assistant(self, request: Request) -> bool:
        """May this request reach /mcp: the assistants' own token (DIRECTOR_MCP_TOKEN, which opens nothing else),
        or what opens the whole API; with neither token set, loopback is open, as the API is."""
        if self.mcp_token and self.bearer(request, self.mcp_token):
            return True
        if self.token:
            return self.authorised(request)
        return not self.mcp_token

    def session(self, request: Request) -> bool:
        """The request carries a live browser session's cookie."""
        sid = request.cookies.get(self.cookie_name(request), "")
        expires = self.sessions.get(sid) if sid else None
        return expires is not None and expires > time.time()

    @staticmethod
    def cookie_name(request: Request) -> str:
        """One cookie per port: a browser sends a host's cookies to all its ports, and another server's must
        not collide with this one's."""
        return f"{SESSION_COOKIE}_{request.url.port or (443 if request.url.scheme == 'https' else 80)}"

    def open_session(self) -> str:
        now = time.time()
        self.sessions = {sid: t for sid, t in self.sessions.items() if t > now}
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = now + SESSION_SECONDS
        return sid

    def authorised(self, request: Request) -> bool:
        return not self.token or self.bearer(request) or self.session(request)

    def host_ok(self, request: Request) -> bool:
        return host_name(request.headers.get("host", "")) in self.allowed_hosts

    def same_origin(self, request: Request) -> str | None:
        """Why a state-changing request may not be the studio's own, or None when it is: its Origin must be this
        server (the name it was asked by, and the port), or, without one, Sec-Fetch-Site same-origin or the token
        in the Authorization header (a client that is not a browser)."""
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return f"a request from another site ({fetch_site}) cannot change anything here"
        if origin is not None:
            own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
            if origin.strip().lower() != own:
                return f"a request from another origin ({origin[:80]}) cannot change anything here"
            return None
        if fetch_site == "same-origin" or self.bearer(request):
            return None
        return ("a request that changes something must come from the studio's own page (its Origin header) or "
                "carry the token in the Authorization header; a script can send the header Origin with the value "
                f"{request.url.scheme}://{request.headers.get('host', '')}")

    def browser_elsewhere(self, request: Request) -> str | None:
        """Why an MCP request comes from a page on another site, or None: any Origin must be this server's (MCP
        asks servers to check it, against DNS rebinding); an assistant, which is no browser, sends none."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site not in ("same-origin", "none"):
            return f"a request from another site ({fetch_site}) cannot reach the MCP server"
        origin = request.headers.get("origin")
        own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        if origin is not None and origin.strip().lower() != own:
            return f"a request from another origin ({origin[:80]}) cannot reach the MCP server"
        return None

    def run_object(self, run_id: str) -> dict[str, Any]:
        lifecycle = self.director.lifecycle
        catalog = lifecycle._catalog()
        row = catalog.require_run(run_id)
        state, asked = lifecycle.latest(run_id)
        run = describe_run(row, state, asked, status=effective_status(row, catalog), cost=catalog.run_spend(run_id))
        root = self.director.workspace.root
        run["error"] = without_paths(run["error"], root)
        for scene in run["scenes"]:
            scene["error"] = without_paths(scene["error"], root)
        return run
