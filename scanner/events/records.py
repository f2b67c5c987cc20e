"""Reading what support and tenants may see: rejection records and tenant-scoped API tokens.

A tenant token is ``sgtt_`` + 43 random characters; only its SHA-256 is stored (the token has
256 bits of entropy, so a slow hash adds nothing). A token resolves to exactly one tenant, and
every read made with it is filtered on that tenant in SQL.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from scanner.events.tables import rejections, tenant_tokens
from scanner.quarantine.engine import READ_ONLY
from scanner.quarantine.store import SqlQuarantineStore

TENANT_TOKEN_PREFIX = "sgtt_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _rejection(row: sa.RowMapping) -> dict[str, Any]:
    return {
        "reference": row["reference"],
        "kind": "rejected",
        "received_at": row["received_at"].isoformat(),
        "tenant": row["tenant"],
        "mail_from": row["mail_from"],
        "rcpt_tos": list(row["rcpt_tos"]),
        "mode": row["mode"],
        "report_queued": row["report_queued"],
        "categories": row["categories"],
        "findings": row["findings"],
    }


class Records:
    def __init__(self, store: SqlQuarantineStore) -> None:
        self._store = store
        self._reader = store.engine.execution_options(**{READ_ONLY: True})

    async def rejection(self, reference: str, tenant: str | None = None) -> dict[str, Any] | None:
        """One record; with `tenant`, only if it is that tenant's."""
        query = sa.select(rejections).where(rejections.c.reference == reference)
        if tenant is not None:
            query = query.where(rejections.c.tenant == tenant)
        async with self._reader.begin() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _rejection(row)

    async def rejections(self, tenant: str, limit: int = 100) -> list[dict[str, Any]]:
        query = (
            sa.select(rejections)
            .where(rejections.c.tenant == tenant)
            .order_by(rejections.c.received_at.desc())
            .limit(limit)
        )
        async with self._reader.begin() as conn:
            return [_rejection(r) for r in (await conn.execute(query)).mappings()]

    async def issue_token(self, name: str, tenant: str) -> str:
        """Create (or replace) the named token for `tenant`; the token is shown once."""
        token = TENANT_TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._store.transaction() as conn:
            await conn.execute(tenant_tokens.delete().where(tenant_tokens.c.name == name))
            await conn.execute(
                tenant_tokens.insert().values(
                    name=name, tenant=tenant, token_hash=_digest(token), created_at=datetime.now(UTC)
                )
            )
        return token

    async def tenant_of(self, token: str) -> str | None:
        if not token.startswith(TENANT_TOKEN_PREFIX):
            return None
        query = sa.select(tenant_tokens.c.tenant).where(tenant_tokens.c.token_hash == _digest(token))
        async with self._reader.begin() as conn:
            return (await conn.execute(query)).scalar_one_or_none()
