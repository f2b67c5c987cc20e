"""The stored form of a `MessageView`: compact JSON (sealed by the store), versioned.

A view stored by another version of this code is not guessed at: `decode_view` raises, and the
store treats the row as absent (the console then builds a bounded view, see `scanner.review.render`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from scanner.quarantine.view import Excerpt, MessageView, PartFindings, Run, ShownValue

VERSION = 1


def encode_view(view: MessageView) -> bytes:
    return json.dumps(_encode(view), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_view(raw: bytes) -> MessageView:
    return _decode(json.loads(raw))


# --- storage form -----------------------------------------------------------------------------


def _runs_out(runs: Iterable[Run]) -> list[list[str | None]]:
    return [[r.text, r.category] for r in runs]


def _runs_in(raw: Any) -> tuple[Run, ...]:
    return tuple(Run(str(t), None if c is None else str(c)) for t, c in raw)


def _value_out(v: ShownValue) -> dict[str, object]:
    return {"n": v.name, "r": _runs_out(v.runs), "note": v.note}


def _value_in(raw: Any) -> ShownValue:
    note = raw.get("note")
    return ShownValue(str(raw["n"]), _runs_in(raw["r"]), None if note is None else str(note))


def _encode(v: MessageView) -> dict[str, object]:
    return {
        "v": VERSION,
        "headers": [_value_out(h) for h in v.headers],
        "hidden": v.hidden_headers,
        "envelope": [_value_out(e) for e in v.envelope],
        "excerpts": [
            {"l": e.location, "k": e.kind, "r": _runs_out(e.runs), "cut": e.cut} for e in v.excerpts
        ],
        "parts": [
            {"l": p.location, "k": p.kind, "f": p.filename, "c": p.chars, "found": [list(x) for x in p.found]}
            for p in v.parts
        ],
        "parts_total": v.parts_total,
        "withheld": list(v.withheld),
        "notes": list(v.notes),
        "text_shown": v.text_shown,
    }


def _decode(raw: Any) -> MessageView:
    if raw.get("v") != VERSION:
        raise ValueError(f"stored view version {raw.get('v')!r}, this code reads {VERSION}")
    return MessageView(
        headers=tuple(_value_in(h) for h in raw["headers"]),
        hidden_headers=int(raw["hidden"]),
        envelope=tuple(_value_in(e) for e in raw["envelope"]),
        excerpts=tuple(
            Excerpt(str(e["l"]), str(e["k"]), _runs_in(e["r"]), bool(e["cut"])) for e in raw["excerpts"]
        ),
        parts=tuple(
            PartFindings(
                str(p["l"]),
                str(p["k"]),
                None if p["f"] is None else str(p["f"]),
                int(p["c"]),
                tuple((str(a), str(b), str(c)) for a, b, c in p["found"]),
            )
            for p in raw["parts"]
        ),
        parts_total=int(raw["parts_total"]),
        withheld=tuple(str(x) for x in raw["withheld"]),
        notes=tuple(str(x) for x in raw["notes"]),
        text_shown=bool(raw["text_shown"]),
    )
