"""The review console as one Starlette app, and a way to serve it inside the proxy's event loop.

    create_app(store, relay, settings) -> Starlette
        /login, /logout        session login (argon2 passwords, throttled)
        /, /messages/{id}, ... the web UI           (scanner.review.views)
        /api/...               the JSON API         (scanner.review.api)
        /static/console.css    the only asset; nothing is loaded from the internet

`scanner.review.guard.Guard` wraps it all: security headers on every response (errors too),
bounded request bodies, exceptions logged by type and place only, one log line per request
(path without query string; uvicorn's access log is off, it would log query strings).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from scanner.ports import EventJournal, QuarantineStore, Relay
from scanner.quarantine.model import Role
from scanner.review import api, views
from scanner.review.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    SessionSigner,
    csrf_ok,
    verify_password,
)
from scanner.review.context import ReviewContext, context, principal_of, requires
from scanner.review.guard import Guard
from scanner.review.sessions import Lifetimes, SessionStore, SqlSessions
from scanner.settings import ReviewSettings

log = logging.getLogger("sendguard.review")
HERE = Path(__file__).parent


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    store: QuarantineStore,
    relay: Relay,
    settings: ReviewSettings,
    *,
    clock: Callable[[], datetime] = _utcnow,
    hostname: str = "sendguard.localhost",
    sessions: SessionStore | None = None,
    journal: EventJournal | None = None,
) -> Starlette:
    """The console over `store`; releases and reject notices go out through `relay`.

    Sessions live in the store's database (`SqlSessions` on its engine) unless `sessions` is given.
    """
    secret = (
        settings.session_secret.get_secret_value().encode()
        if settings.session_secret is not None
        else secrets.token_bytes(32)  # an open login form must be reloaded after a restart
    )
    if sessions is None:
        engine = getattr(store, "engine", None)
        if not isinstance(engine, AsyncEngine):
            raise TypeError("create_app needs a SQL store, or a SessionStore passed as sessions=")
        lifetimes = Lifetimes(
            idle=timedelta(minutes=settings.session_idle_minutes),
            lifetime=timedelta(hours=settings.session_max_hours),
        )
        sessions = SqlSessions(engine, lifetimes)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["age"] = format_age
    templates.env.filters["size"] = format_size
    templates.env.filters["when"] = format_when
    app = _Console(
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
        sessions=sessions,
        trusted_proxies=tuple(settings.trusted_proxies),
        journal=journal,
    )
    app.max_body = settings.max_body_bytes
    return app


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


class _Console(Starlette):
    """Starlette with `Guard` outside everything, its own error handling included."""

    max_body = 65536

    def build_middleware_stack(self) -> ASGIApp:
        return Guard(super().build_middleware_stack(), max_body=self.max_body)


# --- login / logout ---------------------------------------------------------------------------


async def login_form(request: Request) -> Response:
    ctx = context(request)
    if await ctx.principal(request) is not None:
        return RedirectResponse("/", status_code=303)
    # an anonymous, signed cookie carries the CSRF token the login form must echo
    form = ctx.login_form_session(request) or ctx.signer.new(None)
    response = _login_page(request, form.csrf, None, 200)
    ctx.set_cookie(response, LOGIN_COOKIE, ctx.signer.dumps(form))
    return response


def _login_page(request: Request, csrf: str, error: str | None, status: int) -> Response:
    return context(request).templates.TemplateResponse(
        request, "login.html", {"csrf": csrf, "error": error, "user": None}, status_code=status
    )


async def login(request: Request) -> Response:
    ctx = context(request)
    form = await request.form()
    pending = ctx.login_form_session(request)
    token = form.get("csrf_token")
    if pending is None or not csrf_ok(pending.csrf, token if isinstance(token, str) else None):
        fresh = ctx.signer.new(None)
        response = _login_page(request, fresh.csrf, "Your session expired; please sign in again.", 403)
        ctx.set_cookie(response, LOGIN_COOKIE, ctx.signer.dumps(fresh))
        return response
    name = str(form.get("username", "")).strip()[:255]
    password = str(form.get("password", ""))
    client = ctx.client(request)
    if ctx.throttle.blocked(name, client):
        return _login_page(request, pending.csrf, "Too many failed attempts; wait a few minutes.", 429)
    account = await ctx.store.get_account(name) if name else None
    if not await verify_password(account, password) or account is None:
        ctx.throttle.failed(name, client)
        log.info("review login failed from %s", client)  # never the name typed: it may be a password
        return _login_page(request, pending.csrf, "Wrong name or password.", 401)
    ctx.throttle.succeeded(name, client)
    await ctx.audit(account.name, "login", None)
    cookie, _ = await ctx.sessions.create(account.name, ctx.clock())
    response = RedirectResponse("/", status_code=303)
    ctx.set_cookie(response, SESSION_COOKIE, cookie)
    ctx.set_cookie(response, LOGIN_COOKIE, None)
    return response


@requires(Role.VIEWER, api=False)
async def logout(request: Request) -> Response:
    ctx = context(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await ctx.sessions.end(token)  # the row goes: a copied cookie is worthless from now on
    await ctx.audit(principal_of(request).name, "logout", None)
    response = RedirectResponse("/login", status_code=303)
    ctx.set_cookie(response, SESSION_COOKIE, None)
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
