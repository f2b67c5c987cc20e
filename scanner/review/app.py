"""The review console as one Starlette app, and a way to serve it inside the proxy's event loop.

    create_app(store, relay, settings) -> Starlette
        /login, /logout        session login (argon2 passwords, throttled)
        /, /messages/{id}, ... the web UI           (scanner.review.views)
        /api/...               the JSON API         (scanner.review.api)
        /static/console.css    the only asset; nothing is loaded from the internet

Security headers go on every response; everything except /static is `Cache-Control: no-store`.
uvicorn's access log is off (it would log query strings); one line per request is logged here,
path without query string.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner.ports import QuarantineStore, Relay
from scanner.quarantine.model import Role
from scanner.review import api, views
from scanner.review.auth import LoginThrottle, SessionSigner, csrf_ok, verify_password
from scanner.review.context import ReviewContext, context, requires
from scanner.settings import ReviewSettings

log = logging.getLogger("scanner.review")
HERE = Path(__file__).parent

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    store: QuarantineStore,
    relay: Relay,
    settings: ReviewSettings,
    *,
    clock: Callable[[], datetime] = _utcnow,
    hostname: str = "sendguard.localhost",
) -> Starlette:
    """The console over `store`; releases and reject notices go out through `relay`."""
    secret = (
        settings.session_secret.get_secret_value().encode()
        if settings.session_secret is not None
        else secrets.token_bytes(32)  # sessions end with the process
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["age"] = format_age
    templates.env.filters["size"] = format_size
    templates.env.filters["when"] = format_when
    app = Starlette(
        routes=[
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            *api.routes,
            *views.routes,
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ],
        exception_handlers={api.BadRequest: _bad_request},
    )
    app.state.review = ReviewContext(
        store=store,
        relay=relay,
        settings=settings,
        clock=clock,
        signer=SessionSigner(secret, clock),
        throttle=LoginThrottle(clock),
        templates=templates,
        hostname=hostname,
    )
    app.add_middleware(_Headers)
    return app


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


class _Headers:
    """Security headers on everything, no-store on everything dynamic, one log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
        who = scope.get("state", {}).get("principal")
        if not static:
            log.info("review %s %s %d %s", scope["method"], scope["path"], status, who.name if who else "-")


# --- login / logout ---------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    ctx = context(request)
    if await ctx.principal(request) is not None:
        return RedirectResponse("/", status_code=303)
    # an anonymous session carries the CSRF token the login form must echo
    session = ctx.session(request) or ctx.signer.new(None)
    response = _login_page(request, session.csrf, None, 200)
    ctx.set_session(response, session)
    return response


def _login_page(request: Request, csrf: str, error: str | None, status: int) -> Response:
    return context(request).templates.TemplateResponse(
        request, "login.html", {"csrf": csrf, "error": error, "user": None}, status_code=status
    )


async def login(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    session = ctx.session(request)
    token = form.get("csrf_token")
    if session is None or not csrf_ok(session, token if isinstance(token, str) else None):
        fresh = ctx.signer.new(None)
        response = _login_page(request, fresh.csrf, "Your session expired; please sign in again.", 403)
        ctx.set_session(response, fresh)
        return response
    name = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    client = request.client.host if request.client else "-"
    if ctx.throttle.blocked(name, client):
        return _login_page(request, session.csrf, "Too many failed attempts; wait a few minutes.", 429)
    account = await ctx.store.get_account(name) if name else None
    if not await verify_password(account, password) or account is None:
        ctx.throttle.failed(name, client)
        log.info("review login failed from %s", client)  # never the name typed: it may be a password
        return _login_page(request, session.csrf, "Wrong name or password.", 401)
    ctx.throttle.succeeded(name)
    await ctx.audit(account.name, "login", None)
    response = RedirectResponse("/", status_code=303)
    ctx.set_session(response, ctx.signer.new(account.name))
    return response


@requires(Role.VIEWER, api=False)
async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    context(request).set_session(response, None)
    return response


# --- template filters -------------------------------------------------------------------------


def format_age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def format_when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1048576:.1f} MB"


# --- serving ----------------------------------------------------------------------------------


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # the proxy owns the process's signals; it stops us through ReviewServer.stop()
        yield


class ReviewServer:
    """uvicorn running inside the caller's event loop."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None], sock: socket.socket) -> None:
        self._server, self._task, self._sock = server, task, sock
        self.port: int = sock.getsockname()[1]

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task
        self._sock.close()  # a no-op when uvicorn already closed it


async def serve_review(app: ASGIApp, host: str, port: int, *, name: str = "review console") -> ReviewServer:
    """Start serving `app` on host:port (0 = any free port) in the running loop; returns once listening.

    We bind the socket ourselves so a busy port raises OSError here (uvicorn would sys.exit).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    config = uvicorn.Config(
        app, access_log=False, log_config=None, lifespan="off", server_header=False, date_header=False
    )
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            sock.close()
            task.result()
            raise RuntimeError(f"{name} failed to start")
        await asyncio.sleep(0.01)
    log.info("%s listening on http://%s:%d", name, host, sock.getsockname()[1])
    return ReviewServer(server, task, sock)
