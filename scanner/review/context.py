"""Per-app state and the guard every route goes through (authentication, role, CSRF)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from scanner.ports import EventJournal, QuarantineStore, Relay
from scanner.quarantine.model import AuditEvent, Role
from scanner.review.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    IPNetwork,
    LoginThrottle,
    Principal,
    Session,
    SessionSigner,
    allows,
    client_address,
    csrf_ok,
    verify_bearer,
)
from scanner.review.sessions import SessionStore
from scanner.settings import ReviewSettings

log = logging.getLogger("sendguard.review")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class ReviewContext:
    store: QuarantineStore
    relay: Relay
    settings: ReviewSettings
    clock: Callable[[], datetime]
    signer: SessionSigner
    throttle: LoginThrottle
    templates: Jinja2Templates
    hostname: str
    sessions: SessionStore
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # reviewer decisions become webhook events through it (None: no events)
    journal: EventJournal | None = None

    def login_form_session(self, request: Request) -> Session | None:
        """The anonymous login form's signed CSRF cookie."""
        return self.signer.loads(request.cookies.get(LOGIN_COOKIE))

    def client(self, request: Request) -> str:
        """The client's address, through ``review.trusted_proxies`` only."""
        peer = request.client.host if request.client else "-"
        return client_address(peer, request.headers.get("x-forwarded-for"), self.trusted_proxies)

    async def principal(self, request: Request) -> Principal | None:
        """The caller, from a Bearer token if one is sent, else from the session cookie."""
        auth = request.headers.get("authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer":
                return None
            account = await verify_bearer(self.store, token.strip())
            return Principal(account.name, account.role, "token") if account else None
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        live = await self.sessions.lookup(cookie, self.clock())
        if live is None:
            return None
        account = await self.store.get_account(live.account)
        if account is None:  # deleted since login
            return None
        return Principal(account.name, account.role, "session", live.csrf)

    def set_cookie(self, response: Response, name: str, value: str | None) -> None:
        if value is None:
            response.delete_cookie(
                name, path="/", httponly=True, samesite="strict", secure=self.settings.secure_cookies
            )
            return
        response.set_cookie(
            name, value, httponly=True, samesite="strict", secure=self.settings.secure_cookies, path="/"
        )

    async def audit(self, actor: str, action: str, message_id: str | None, reason: str | None = None) -> None:
        await self.store.record(AuditEvent(self.clock(), actor, action, message_id, reason))
        # the reason is free text a reviewer typed: it goes to the audit trail, not the log
        log.info("audit %s by %s on %s", action, actor, message_id or "-")


def context(request: Request) -> ReviewContext:
    ctx = request.app.state.review
    assert isinstance(ctx, ReviewContext)
    return ctx


def principal_of(request: Request) -> Principal:
    p = request.state.principal
    assert isinstance(p, Principal)
    return p


def requires(role: Role, *, api: bool) -> Callable[[Handler], Handler]:
    """Guard a route: authenticated (401 / redirect to login), CSRF for cookie writes (403), role (403)."""

    def deco(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            ctx = context(request)
            who = await ctx.principal(request)
            if who is None:
                if api:
                    return JSONResponse(
                        {"error": "authentication required"},
                        status_code=401,
                        headers={"WWW-Authenticate": 'Bearer realm="sendguard"'},
                    )
                return RedirectResponse("/login", status_code=303)
            request.state.principal = who
            if request.method not in ("GET", "HEAD") and who.via == "session":
                presented = request.headers.get("x-csrf-token")
                if presented is None and request.headers.get("content-type", "").startswith(
                    ("application/x-www-form-urlencoded", "multipart/form-data")
                ):
                    field = (await request.form()).get("csrf_token")
                    presented = field if isinstance(field, str) else None
                if not csrf_ok(who.csrf, presented):
                    return forbidden(request, api, "missing or invalid CSRF token")
            if not allows(who.role, role):
                return forbidden(request, api, f"requires role {role.value}")
            return await handler(request)

        return guarded

    return deco


def forbidden(request: Request, api: bool, why: str) -> Response:
    if api:
        return JSONResponse({"error": why}, status_code=403)
    return context(request).templates.TemplateResponse(
        request, "error.html", {"status": 403, "message": why, "user": None}, status_code=403
    )
