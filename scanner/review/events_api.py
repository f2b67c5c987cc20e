"""Console and API additions for events, reports and tenants (installed by `with_events`).

    GET  /outbox, POST /outbox/{id}/retry       the outbox page: dead items retried by an admin
    GET  /api/outbox[?status=]                  outbox rows, metadata only (viewer)
    POST /api/outbox/{id}/retry                 a dead item back to pending (admin)
    GET  /api/references/{ref}                  what happened to a message (staff or tenant token)
    GET  /api/tenant/messages                   the calling tenant's held and rejected mail
    POST /api/tenant-tokens                     {"name", "tenant"} -> a tenant token, shown once (admin)

A tenant token (``Authorization: Bearer sgtt_...``) sees only its tenant's mail, masked: every
query is filtered on the token's tenant, and another tenant's reference answers 404 exactly like
an unknown one (no oracle). Nothing here returns message bytes or a clear value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from scanner.events.outbox import SqlOutbox, Status, utcnow
from scanner.events.records import TENANT_TOKEN_PREFIX, Records
from scanner.quarantine.model import QueueFilter, Role
from scanner.review.api import _body
from scanner.review.auth import allows
from scanner.review.context import context, principal_of, requires

MAX_ROWS = 200


@dataclass(frozen=True, slots=True)
class EventsState:
    outbox: SqlOutbox
    records: Records


def _state(request: Request) -> EventsState:
    state = request.app.state.events
    assert isinstance(state, EventsState)
    return state


class TenantTokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    tenant: str = Field(min_length=1, max_length=255)


async def _tenant_scope(request: Request) -> str | Response | None:
    """The tenant a tenant token is scoped to; None for staff; a 401 response for anyone else."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip().startswith(TENANT_TOKEN_PREFIX):
        tenant = await _state(request).records.tenant_of(token.strip())
        if tenant is not None:
            return tenant
        return JSONResponse({"error": "authentication required"}, status_code=401)
    who = await context(request).principal(request)
    if who is None:
        return JSONResponse({"error": "authentication required"}, status_code=401)
    return None


def _held(record: Any) -> dict[str, Any]:
    out: dict[str, Any] = record.summary.as_dict()
    out["kind"] = "held"
    out["reference"] = record.summary.id
    out["findings"] = [
        {
            k: v
            for k, v in f.as_dict().items()
            if k in ("category", "group", "confidence", "location", "masked")
        }
        for f in record.findings
    ]
    return out


async def reference(request: Request) -> Response:
    scope = await _tenant_scope(request)
    if isinstance(scope, Response):
        return scope
    ref = request.path_params["ref"]
    found = await _state(request).records.rejection(ref, scope)
    if found is None:
        record = await context(request).store.get(ref)
        if record is not None and (scope is None or record.summary.tenant == scope):
            found = _held(record)
    if found is None:
        return JSONResponse({"error": "no such reference"}, status_code=404)
    return JSONResponse(found)


async def tenant_messages(request: Request) -> Response:
    scope = await _tenant_scope(request)
    if isinstance(scope, Response):
        return scope
    if scope is None:
        return JSONResponse({"error": "a tenant token is required"}, status_code=403)
    held, _ = await context(request).store.list_held(QueueFilter(tenant=scope, status=None, limit=MAX_ROWS))
    return JSONResponse(
        {
            "tenant": scope,
            "held": [s.as_dict() | {"reference": s.id, "kind": "held"} for s in held],
            "rejected": await _state(request).records.rejections(scope, MAX_ROWS),
        }
    )


@requires(Role.VIEWER, api=True)
async def outbox_list(request: Request) -> Response:
    status = request.query_params.get("status") or None
    items = await _state(request).outbox.list(status, MAX_ROWS)
    return JSONResponse(
        {"counts": await _state(request).outbox.counts(), "items": [i.as_dict() for i in items]}
    )


@requires(Role.ADMIN, api=True)
async def outbox_retry(request: Request) -> Response:
    item_id = request.path_params["id"]
    if not await _state(request).outbox.requeue(item_id, utcnow()):
        return JSONResponse({"id": item_id, "error": "not dead-lettered"}, status_code=409)
    await context(request).audit(principal_of(request).name, "outbox_retry", None, item_id)
    return JSONResponse({"id": item_id, "status": Status.PENDING})


@requires(Role.ADMIN, api=True)
async def new_tenant_token(request: Request) -> Response:
    body = await _body(request, TenantTokenBody)
    token = await _state(request).records.issue_token(body.name, body.tenant)
    await context(request).audit(principal_of(request).name, "tenant_token", None, body.name)
    return JSONResponse({"name": body.name, "tenant": body.tenant, "token": token}, status_code=201)


@requires(Role.VIEWER, api=False)
async def outbox_page(request: Request) -> Response:
    who = principal_of(request)
    status = request.query_params.get("status") or None
    page = {
        "user": who,
        "csrf": who.csrf,
        "is_admin": allows(who.role, Role.ADMIN),
        "items": await _state(request).outbox.list(status, MAX_ROWS),
        "counts": await _state(request).outbox.counts(),
    }
    return context(request).templates.TemplateResponse(request, "outbox.html", page)


@requires(Role.ADMIN, api=False)
async def outbox_page_retry(request: Request) -> Response:
    item_id = request.path_params["id"]
    if await _state(request).outbox.requeue(item_id, utcnow()):
        await context(request).audit(principal_of(request).name, "outbox_retry", None, item_id)
    return RedirectResponse("/outbox?status=dead", status_code=303)


routes = [
    Route("/outbox", outbox_page, methods=["GET"]),
    Route("/outbox/{id}/retry", outbox_page_retry, methods=["POST"]),
    Route("/api/outbox", outbox_list, methods=["GET"]),
    Route("/api/outbox/{id}/retry", outbox_retry, methods=["POST"]),
    Route("/api/references/{ref}", reference, methods=["GET"]),
    Route("/api/tenant/messages", tenant_messages, methods=["GET"]),
    Route("/api/tenant-tokens", new_tenant_token, methods=["POST"]),
]


def with_events(app: Starlette, outbox: SqlOutbox) -> Starlette:
    """Add the routes above to the console `app` (before its catch-all routes, if any)."""
    app.state.events = EventsState(outbox, Records(outbox.store))
    app.router.routes[0:0] = routes
    return app
