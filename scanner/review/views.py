"""The server-rendered web UI (Jinja2). Every form POST carries the session's CSRF token; every
action goes through the same functions as the JSON API, so both are audited the same way.

After an action the browser is redirected (POST/redirect/GET) with a short outcome word in the
query string (``?notice=released``): never a reason, a value or a token.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scanner.quarantine.model import HeldStatus, Role
from scanner.review.api import BadRequest, do_reject, do_release, finding_json, parse_filter, summaries_json
from scanner.review.auth import allows
from scanner.review.context import context, principal_of, requires
from scanner.review.render import message_view, revealed_view, shown

AGES = {  # queue "age" filter -> (newer than, older than)
    "1h": (timedelta(hours=1), None),
    "24h": (timedelta(hours=24), None),
    "7d": (timedelta(days=7), None),
    "older7d": (None, timedelta(days=7)),
}

NOTICES = {
    "released": ("ok", "Released: the original message was relayed upstream."),
    "not_held": ("warn", "Nothing sent: the message was already released or is no longer held."),
    "not_found": ("warn", "No such message."),
    "relay_failed": ("error", "The upstream refused or was unreachable; the message is still held."),
    "rejected": ("ok", "Rejected. The message content was deleted."),
    "rejected_notified": ("ok", "Rejected, and the sender was notified (categories only, no data)."),
    "bulk": ("ok", "Bulk action done."),
}


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _link(query: dict[str, str], **change: str) -> str:
    return "/?" + urlencode(query | change)


def _page(request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    who = principal_of(request)
    base = {
        "user": who,
        "csrf": who.csrf,
        "can_act": allows(who.role, Role.REVIEWER),
        "is_admin": allows(who.role, Role.ADMIN),
    }
    return context(request).templates.TemplateResponse(request, name, base | ctx, status_code=status_code)


@requires(Role.VIEWER, api=False)
async def queue(request: Request) -> Response:
    ctx = context(request)
    now = ctx.clock()
    q = request.query_params
    try:
        flt = parse_filter(q, now)
    except BadRequest as exc:
        return _page(request, "error.html", {"status": 400, "message": str(exc)}, 400)
    newer, older = AGES.get(q.get("age", ""), (None, None))
    flt = replace(
        flt,
        received_after=now - newer if newer else flt.received_after,
        received_before=now - older if older else flt.received_before,
    )
    items, total = await ctx.store.list_held(flt)
    counts = await ctx.store.category_counts(replace(flt, category=None, offset=0))
    keep = {k: v for k, v in q.items() if k not in ("offset", "notice") and v}
    prev_offset = max(0, flt.offset - flt.limit) if flt.offset > 0 else None
    next_offset = flt.offset + flt.limit if flt.offset + flt.limit < total else None
    return _page(
        request,
        "queue.html",
        {
            "items": await summaries_json(ctx.store, items, now),
            "total": total,
            "flt": flt,
            "counts": dict(sorted(counts.items())),
            "query": keep,
            "age": q.get("age", ""),
            "status_value": q.get("status", HeldStatus.HELD.value),
            "statuses": [s.value for s in HeldStatus],
            "chips": [(c, n, _link(keep, category=c)) for c, n in sorted(counts.items())],
            "prev_link": _link(keep, offset=str(prev_offset)) if prev_offset is not None else None,
            "next_link": _link(keep, offset=str(next_offset)) if next_offset is not None else None,
            "notice": NOTICES.get(q.get("notice", "")),
        },
    )


async def _message_page(request: Request, *, reveal: bool = False, error: str | None = None) -> Response:
    ctx = context(request)
    record = await ctx.store.get(request.path_params["id"])
    if record is None:
        return _page(request, "error.html", {"status": 404, "message": "No such message."}, 404)
    view = await (revealed_view(record) if reveal else message_view(ctx.store, record))
    env = record.envelope
    return _page(
        request,
        "message.html",
        {
            "s": (await summaries_json(ctx.store, [record.summary], ctx.clock()))[0],
            "client": f"{shown(env.client_address) or '—'} {shown(env.helo)}",
            "findings": [finding_json(f) for f in record.findings],
            "view": view,
            "revealed": reveal,
            "held": record.summary.status is HeldStatus.HELD,
            "notice": NOTICES.get(request.query_params.get("notice", "")),
            "error": error,
        },
        400 if error else 200,
    )


@requires(Role.VIEWER, api=False)
async def message(request: Request) -> Response:
    response = await _message_page(request)
    if response.status_code == 200:
        await context(request).audit(principal_of(request).name, "view", request.path_params["id"])
    return response


@requires(Role.REVIEWER, api=False)
async def reveal(request: Request) -> Response:
    reason = _field(await request.form(), "reason")
    if not reason:
        return await _message_page(request, error="A reason is required to reveal values.")
    message_id = request.path_params["id"]
    record = await context(request).store.get(message_id)
    if record is None or record.data is None:
        return await _message_page(request, error="Nothing to reveal: the content is gone.")
    await context(request).audit(principal_of(request).name, "reveal", message_id, reason[:1000])
    return await _message_page(request, reveal=True)


@requires(Role.REVIEWER, api=False)
async def release(request: Request) -> Response:
    message_id = request.path_params["id"]
    _, out = await do_release(request, message_id)
    return RedirectResponse(f"/messages/{message_id}?notice={out['outcome']}", status_code=303)


@requires(Role.REVIEWER, api=False)
async def reject(request: Request) -> Response:
    form = await request.form()
    message_id = request.path_params["id"]
    notify = _field(form, "notify_sender") == "on"
    _, out = await do_reject(request, message_id, _field(form, "reason")[:1000] or None, notify)
    outcome = "rejected_notified" if out.get("notified") else out["outcome"]
    return RedirectResponse(f"/messages/{message_id}?notice={outcome}", status_code=303)


@requires(Role.REVIEWER, api=False)
async def bulk(request: Request) -> Response:
    form = await request.form()
    action = _field(form, "action")
    ids = list(dict.fromkeys(v for v in form.getlist("ids") if isinstance(v, str)))[:200]
    if action not in ("release", "reject") or not ids:
        return _page(request, "error.html", {"status": 400, "message": "Choose an action and messages."}, 400)
    for message_id in ids:
        if action == "release":
            await do_release(request, message_id)
        else:
            notify = _field(form, "notify_sender") == "on"
            await do_reject(request, message_id, _field(form, "reason")[:1000] or None, notify)
    return RedirectResponse("/?notice=bulk", status_code=303)


@requires(Role.ADMIN, api=False)
async def audit_page(request: Request) -> Response:
    events = await context(request).store.audit_log(None, limit=200)
    return _page(request, "audit.html", {"events": events})


routes = [
    Route("/", queue, methods=["GET"]),
    Route("/bulk", bulk, methods=["POST"]),
    Route("/audit", audit_page, methods=["GET"]),
    Route("/messages/{id}", message, methods=["GET"]),
    Route("/messages/{id}/reveal", reveal, methods=["POST"]),
    Route("/messages/{id}/release", release, methods=["POST"]),
    Route("/messages/{id}/reject", reject, methods=["POST"]),
]
