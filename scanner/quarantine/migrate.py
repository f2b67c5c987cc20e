"""Schema migrations (Alembic), run programmatically when the store opens.

The migration scripts ship inside the package (``scanner/quarantine/migrations``) so an
installed wheel migrates its database without an ``alembic.ini``. To add a revision from a
checkout::

    python -m scanner.quarantine.migrate revision "add a column" sqlite+aiosqlite:///var/dev.db
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from scanner.quarantine.engine import driver_execute, make_engine

# arbitrary constant naming our advisory lock ("sgquar" in ASCII)
_PG_LOCK_KEY = 0x736771756172

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade_to_head(target: str | AsyncEngine, *, schema: str | None = None) -> None:
    """Bring the database at `target` (URL or engine) to the newest schema revision.

    `schema` (PostgreSQL): the schema our tables live in (the engine's search_path), created
    here if missing, under the same lock as the migration.
    """

    def _upgrade(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")

    engine = make_engine(target, schema=schema) if isinstance(target, str) else target
    try:
        async with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # batch migrations recreate tables; SQLite wants FK enforcement off meanwhile,
                # and the pragma is a no-op inside a transaction, hence before BEGIN
                await driver_execute(conn, "PRAGMA foreign_keys=OFF")
            try:
                async with conn.begin():
                    if conn.dialect.name == "postgresql":
                        # several proxy instances may start at once: one migrates, the others
                        # wait (SQLite gets the same from BEGIN IMMEDIATE)
                        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                        if schema is not None:
                            quoted = conn.dialect.identifier_preparer.quote_identifier(schema)
                            await conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
                    await conn.run_sync(_upgrade)
            finally:
                if sqlite:
                    await driver_execute(conn, "PRAGMA foreign_keys=ON")
    finally:
        if isinstance(target, str):
            await engine.dispose()


async def _revision(message: str, url: str) -> None:
    """Autogenerate a revision against a database already at head."""

    def _make(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)

    await upgrade_to_head(url)
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_make)
    finally:
        await engine.dispose()


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) != 4 or sys.argv[1] != "revision":
        sys.exit("usage: python -m scanner.quarantine.migrate revision MESSAGE URL")
    asyncio.run(_revision(sys.argv[2], sys.argv[3]))
