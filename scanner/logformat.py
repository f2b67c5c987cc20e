"""`log_format = "json"`: one JSON object per line, for log shippers (Loki, Elasticsearch, ...).

Fields: ``ts`` (ISO 8601 UTC), ``level``, ``logger``, ``msg`` (the same %-formatted text as the
text format: references, counts and names, never a value or a body) and, on errors, ``exc``
(the exception's type and place from `describe`, never its message).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from scanner._errors import describe


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            entry["exc"] = describe(record.exc_info[1])
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    """Root logging for `serve`: text lines or JSON lines on stderr."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    # neither format names a thread, a process or a caller: skip gathering them for each of the
    # per-message lines (the logging HOWTO's "Optimization" section; ~1/4 of a record's cost)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
