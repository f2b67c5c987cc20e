"""Alembic environment for the quarantine schema.

Not driven by ``alembic.ini``: `scanner.quarantine.migrate` passes an open (sync-facing)
connection in ``config.attributes["connection"]`` from inside ``AsyncConnection.run_sync``,
so the same code migrates SQLite and PostgreSQL, from a checkout or an installed wheel.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from scanner.quarantine.tables import VERSION_TABLE, UtcDateTime, metadata


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # new revisions must not import scanner: render our decorator as the column type it wraps
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        # SQLite cannot ALTER most things; batch mode rebuilds tables (no-op on PostgreSQL)
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; use scanner.quarantine.migrate")

_connection = context.config.attributes.get("connection")
if not isinstance(_connection, Connection):
    raise RuntimeError("run migrations through scanner.quarantine.migrate.upgrade_to_head()")
_run(_connection)
