"""The view a page or the API shows, and its JSON form. Nothing here parses a message per request.

A message's view (`scanner.quarantine.view.MessageView`) was computed when it was held and is
read from the store. Two exceptions, both bounded (`scanner.quarantine.view` cuts the input) and
both run in a thread, never on the event loop:

- a message held before views were stored (or whose view failed to build): built once per
  opening, the same bounded way;
- an audited reveal (reviewers and admins, with a reason): the values in clear are never stored.

Sender-written text that does not come from a view (the envelope and summary columns) goes
through `shown` before it reaches a page or a JSON body: an address held with invalid UTF-8 or
a bidirectional override cannot break the encoder (500) or reorder the page.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from scanner.ports import QuarantineStore
from scanner.quarantine.model import HeldRecord, HeldSummary
from scanner.quarantine.view import MessageView, ShownValue, build_view, shown

__all__ = ["message_view", "revealed_view", "safe_summary", "shown", "view_json"]


async def message_view(store: QuarantineStore, record: HeldRecord) -> MessageView | None:
    """The masked view of `record`; None when its content is gone."""
    if record.data is None:
        return None
    view = await store.get_view(record.summary.id)
    if view is not None:
        return view
    # no view stored at hold time: a row held before views (and before headers were scanned)
    return await asyncio.to_thread(
        partial(build_view, record.data, record.findings, record.envelope, headers_scanned=False)
    )


async def revealed_view(record: HeldRecord) -> MessageView | None:
    """The view with values in clear (the caller has checked the role and audited the reason)."""
    if record.data is None:
        return None
    return await asyncio.to_thread(build_view, record.data, record.findings, record.envelope, reveal=True)


def safe_summary(s: HeldSummary) -> dict[str, Any]:
    """`HeldSummary.as_dict` with every sender-written string made displayable."""
    out = s.as_dict()
    out["mail_from"] = shown(s.mail_from)
    out["rcpt_tos"] = [shown(r) for r in s.rcpt_tos]
    out["tenant"] = shown(s.tenant) if s.tenant is not None else None
    return out


def _value_json(v: ShownValue) -> dict[str, Any]:
    return {"name": v.name, "text": v.text, "note": v.note}


def view_json(view: MessageView, *, with_values: bool = False) -> dict[str, Any]:
    """The API form of a view; `with_values` (reveal) adds each finding's offsets and clear value."""
    segments = []
    for e in view.excerpts:
        seg: dict[str, Any] = {"location": e.location, "kind": e.kind, "text": e.text, "cut": e.cut}
        if with_values:
            found, pos = [], 0
            for r in e.runs:
                if r.category is not None:
                    found.append(
                        {"category": r.category, "start": pos, "end": pos + len(r.text), "value": r.text}
                    )
                pos += len(r.text)
            seg["findings"] = found
        segments.append(seg)
    return {
        "headers": [_value_json(h) for h in view.headers],
        "hidden_headers": view.hidden_headers,
        "envelope_shown": [_value_json(e) for e in view.envelope],
        "text_shown": view.text_shown,
        "segments": segments,
        "attachments": [
            {
                "location": a.location,
                "filename": a.filename,
                "found": [{"category": c, "location": loc, "masked": m} for c, loc, m in a.found],
            }
            for a in view.attachments
        ],
        "parts_total": view.parts_total,
        "withheld": list(view.withheld),
        "notes": list(view.notes),
    }
