"""The JSON API under /api/. Every route is guarded (401 without credentials, 403 for the wrong
role or, with a session cookie, a missing ``X-CSRF-Token``). Request bodies are pydantic models;
responses never contain a clear value except `POST /api/messages/{id}/reveal`."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scanner.model import Finding
from scanner.ports import QuarantineStore
from scanner.quarantine.decisions import Decisions, RejectOutcome, ReleaseOutcome
from scanner.quarantine.model import Account, AuditEvent, HeldStatus, HeldSummary, QueueFilter, Role
from scanner.review.auth import hash_password, issue_api_token
from scanner.review.context import context, principal_of, requires
from scanner.review.render import message_view, revealed_view, safe_summary, shown, view_json

MAX_LIMIT = 200
M = TypeVar("M", bound=BaseModel)


class BadRequest(ValueError):
    pass


# --- request bodies ---------------------------------------------------------------------------


class RevealBody(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("reason must not be blank")
        return v.strip()


class RejectBody(BaseModel):
    reason: str | None = Field(default=None, max_length=1000)
    notify_sender: bool = False


class BulkBody(BaseModel):
    action: Literal["release", "reject"]
    ids: list[str] = Field(min_length=1, max_length=MAX_LIMIT)
    reason: str | None = Field(default=None, max_length=1000)
    notify_sender: bool = False


class AccountBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=12, max_length=1000)


class TokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: Role


async def _body(request: Request, model: type[M]) -> M:
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        # field names and messages only: never echo the submitted values back
        raise BadRequest(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from None


# --- shared with the HTML views ---------------------------------------------------------------


def parse_filter(q: QueryParams, now: datetime) -> QueueFilter:
    """Queue filter from query parameters (shared by the API and the queue page)."""
    status_raw = q.get("status", HeldStatus.HELD.value)
    try:
        status = None if status_raw in ("", "any") else HeldStatus(status_raw)
        offset = int(q.get("offset", "0"))
        limit = int(q.get("limit", "50"))
    except ValueError as exc:
        raise BadRequest(f"bad query parameter: {exc}") from None
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"offset must be >= 0 and limit within 1..{MAX_LIMIT}")
    return QueueFilter(
        sender=q.get("sender") or None,
        tenant=q.get("tenant") or None,
        category=q.get("category") or None,
        status=status,
        received_after=_when(q.get("received_after")),
        received_before=_when(q.get("received_before")),
        offset=offset,
        limit=limit,
    )


def _when(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest("received_after/received_before must be ISO 8601") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def summary_json(s: HeldSummary, now: datetime) -> dict[str, Any]:
    return {**safe_summary(s), "age_seconds": max(0, int((now - s.received_at).total_seconds()))}


async def summaries_json(
    store: QuarantineStore, items: list[HeldSummary], now: datetime
) -> list[dict[str, Any]]:
    """Queue rows as shown: an envelope holding a finding shows its masked form, never the clear
    columns (which exist for filtering)."""
    masks = await store.masked_envelopes([s.id for s in items])
    out = []
    for s in items:
        row = summary_json(s, now)
        if s.id in masks:
            row["mail_from"], rcpts = masks[s.id]
            row["rcpt_tos"] = list(rcpts)
        out.append(row)
    return out


def finding_json(f: Finding) -> dict[str, Any]:
    return {**f.as_dict(), "location": shown(f.location), "masked": shown(f.masked)}


# --- routes -----------------------------------------------------------------------------------


@requires(Role.VIEWER, api=True)
async def list_messages(request: Request) -> Response:
    ctx = context(request)
    now = ctx.clock()
    flt = parse_filter(request.query_params, now)
    items, total = await ctx.store.list_held(flt)
    counts = await ctx.store.category_counts(replace(flt, category=None, offset=0))
    return JSONResponse(
        {
            "items": await summaries_json(ctx.store, items, now),
            "total": total,
            "offset": flt.offset,
            "limit": flt.limit,
            "counts": counts,
        }
    )


@requires(Role.VIEWER, api=True)
async def get_message(request: Request) -> Response:
    ctx = context(request)
    who = principal_of(request)
    record = await ctx.store.get(request.path_params["id"])
    if record is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    await ctx.audit(who.name, "view", record.summary.id)
    [summary] = await summaries_json(ctx.store, [record.summary], ctx.clock())
    body: dict[str, Any] = {
        "summary": summary,
        "envelope": {
            "mail_from": summary["mail_from"],
            "rcpt_tos": summary["rcpt_tos"],
            "client_address": shown(record.envelope.client_address),
            "helo": shown(record.envelope.helo),
        },
        "findings": [finding_json(f) for f in record.findings],
        "content_purged": record.data is None,
    }
    view = await message_view(ctx.store, record)
    if view is not None:
        body.update(view_json(view))
    return JSONResponse(body)


@requires(Role.REVIEWER, api=True)
async def reveal_message(request: Request) -> Response:
    ctx = context(request)
    body = await _body(request, RevealBody)
    record = await ctx.store.get(request.path_params["id"])
    if record is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    if record.data is None:
        return JSONResponse({"error": "content purged"}, status_code=410)
    await ctx.audit(principal_of(request).name, "reveal", record.summary.id, body.reason)
    view = await revealed_view(record)
    assert view is not None  # data checked above
    return JSONResponse({"id": record.summary.id, **view_json(view, with_values=True)})


_RELEASE_STATUS = {
    ReleaseOutcome.RELEASED: (200, None),
    ReleaseOutcome.NOT_FOUND: (404, "not found"),
    ReleaseOutcome.RELAY_FAILED: (502, "upstream refused or unreachable; the message is still held"),
    ReleaseOutcome.UNCERTAIN: (
        502,
        "no final reply from upstream: it may have the message; an admin decides",
    ),
}


async def not_held_reason(request: Request, message_id: str) -> str:
    record = await context(request).store.get(message_id)
    status = record.summary.status if record else None
    if status in (HeldStatus.RELEASING, HeldStatus.RELEASED):
        return "already released"
    return f"not held (status {status.value})" if status else "not found"


def decisions(request: Request) -> Decisions:
    ctx = context(request)
    return Decisions(ctx.store, ctx.relay, hostname=ctx.hostname, clock=ctx.clock, journal=ctx.journal)


async def do_release(request: Request, message_id: str) -> tuple[int, dict[str, Any]]:
    who = principal_of(request)
    # the decision writes its own audit events (the CLI and the views use it too)
    outcome = (await decisions(request).release(message_id, who.name)).outcome
    if outcome is ReleaseOutcome.NOT_HELD:
        return 409, {
            "id": message_id,
            "outcome": outcome.value,
            "error": await not_held_reason(request, message_id),
        }
    code, error = _RELEASE_STATUS[outcome]
    return code, {"id": message_id, "outcome": outcome.value, **({"error": error} if error else {})}


async def do_reject(
    request: Request, message_id: str, reason: str | None, notify: bool
) -> tuple[int, dict[str, Any]]:
    who = principal_of(request)
    result = await decisions(request).reject(message_id, who.name, reason, notify_sender=notify)
    outcome, notified = result.outcome, result.notified
    if outcome is RejectOutcome.REJECTED:
        return 200, {"id": message_id, "outcome": outcome.value, "notified": notified}
    if outcome is RejectOutcome.NOT_FOUND:
        return 404, {"id": message_id, "outcome": outcome.value, "error": "not found"}
    return 409, {
        "id": message_id,
        "outcome": outcome.value,
        "error": await not_held_reason(request, message_id),
    }


@requires(Role.REVIEWER, api=True)
async def release_message(request: Request) -> Response:
    code, body = await do_release(request, request.path_params["id"])
    return JSONResponse(body, status_code=code)


@requires(Role.REVIEWER, api=True)
async def reject_message(request: Request) -> Response:
    body = await _body(request, RejectBody)
    code, out = await do_reject(request, request.path_params["id"], body.reason, body.notify_sender)
    return JSONResponse(out, status_code=code)


@requires(Role.REVIEWER, api=True)
async def bulk(request: Request) -> Response:
    body = await _body(request, BulkBody)
    results = []
    for message_id in dict.fromkeys(body.ids):  # de-duplicated, order kept
        if body.action == "release":
            _, out = await do_release(request, message_id)
        else:
            _, out = await do_reject(request, message_id, body.reason, body.notify_sender)
        results.append(out)
    return JSONResponse({"action": body.action, "results": results})


@requires(Role.ADMIN, api=True)
async def audit(request: Request) -> Response:
    ctx = context(request)
    q = request.query_params
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise BadRequest("limit must be an integer") from None
    events = await ctx.store.audit_log(q.get("message_id") or None, limit=max(1, min(limit, 100_000)))
    if q.get("format", "json") == "csv":
        return Response(
            audit_csv(events),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="sendguard-audit.csv"'},
        )
    return JSONResponse({"events": [e.as_dict() for e in events]})


def audit_csv(events: list[AuditEvent]) -> str:
    """CSV export; cells that a spreadsheet would run as a formula are quoted with a leading '."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["at", "actor", "action", "message_id", "reason"])
    for e in events:
        row = [e.at.isoformat(), e.actor, e.action, e.message_id or "", e.reason or ""]
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in row])
    return buf.getvalue()


@requires(Role.ADMIN, api=True)
async def put_account(request: Request) -> Response:
    ctx = context(request)
    body = await _body(request, AccountBody)
    password_hash = await asyncio.to_thread(hash_password, body.password)
    await ctx.store.put_account(Account(body.name, body.role, password_hash))
    await ctx.audit(principal_of(request).name, "account", None, f"{body.name} as {body.role.value}")
    return JSONResponse({"name": body.name, "role": body.role.value}, status_code=201)


@requires(Role.ADMIN, api=True)
async def new_token(request: Request) -> Response:
    ctx = context(request)
    body = await _body(request, TokenBody)
    token, account = issue_api_token(body.name, body.role)
    await ctx.store.put_account(account)
    await ctx.audit(principal_of(request).name, "token", None, f"{body.name} as {body.role.value}")
    # shown once; only its hash is stored
    return JSONResponse({"name": body.name, "role": body.role.value, "token": token}, status_code=201)


routes = [
    Route("/api/messages", list_messages, methods=["GET"]),
    Route("/api/messages/bulk", bulk, methods=["POST"]),
    Route("/api/messages/{id}", get_message, methods=["GET"]),
    Route("/api/messages/{id}/reveal", reveal_message, methods=["POST"]),
    Route("/api/messages/{id}/release", release_message, methods=["POST"]),
    Route("/api/messages/{id}/reject", reject_message, methods=["POST"]),
    Route("/api/audit", audit, methods=["GET"]),
    Route("/api/accounts", put_account, methods=["POST"]),
    Route("/api/tokens", new_token, methods=["POST"]),
]
