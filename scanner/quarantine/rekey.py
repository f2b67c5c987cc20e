"""Key checks and rotation over the stored tokens (message bytes and finding details).

Rotation runs in batches of short transactions so the proxy keeps holding mail meanwhile;
the Fernet work runs in a thread. A message purged between read and write stays purged (the
UPDATE is guarded by ``data IS NOT NULL``).
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from scanner.quarantine.crypto import Sealer
from scanner.quarantine.tables import findings, messages

BATCH = 100


async def verify(reader: AsyncEngine, sealer: Sealer) -> None:
    """Decrypt one stored token; raises `QuarantineKeyError` if no configured key can."""
    async with reader.begin() as conn:
        token = (
            await conn.execute(sa.select(messages.c.data).where(messages.c.data.is_not(None)).limit(1))
        ).scalar_one_or_none()
        if token is None:
            token = (await conn.execute(sa.select(findings.c.sealed).limit(1))).scalar_one_or_none()
    if token is not None:
        await asyncio.to_thread(sealer.open, token, what="the stored messages")


async def rotate(writer: AsyncEngine, reader: AsyncEngine, sealer: Sealer) -> int:
    """Re-encrypt every stored token with the newest key; returns how many were rewritten."""
    return await _rotate_messages(writer, reader, sealer) + await _rotate_findings(writer, reader, sealer)


async def _rotate_messages(writer: AsyncEngine, reader: AsyncEngine, sealer: Sealer) -> int:
    count = 0
    last = ""
    while True:
        async with reader.begin() as conn:
            batch = (
                await conn.execute(
                    sa.select(messages.c.id, messages.c.data)
                    .where(messages.c.id > last, messages.c.data.is_not(None))
                    .order_by(messages.c.id)
                    .limit(BATCH)
                )
            ).all()
        if not batch:
            return count
        last = batch[-1][0]
        rotated = await asyncio.to_thread(_rotate_all, sealer, [(i, t) for i, t in batch])
        async with writer.begin() as conn:
            for message_id, token in rotated:
                result = await conn.execute(
                    messages.update()
                    .where(messages.c.id == message_id, messages.c.data.is_not(None))
                    .values(data=token)
                )
                count += result.rowcount


def _rotate_all(sealer: Sealer, pairs: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(key, sealer.rotate(token)) for key, token in pairs]


async def _rotate_findings(writer: AsyncEngine, reader: AsyncEngine, sealer: Sealer) -> int:
    count = 0
    last: tuple[str, int] = ("", -1)
    while True:
        # keyset paging on the composite primary key (row values: SQLite >= 3.15, PostgreSQL)
        after = sa.tuple_(findings.c.message_id, findings.c.seq) > sa.tuple_(
            sa.literal(last[0]), sa.literal(last[1])
        )
        async with reader.begin() as conn:
            batch = (
                await conn.execute(
                    sa.select(findings.c.message_id, findings.c.seq, findings.c.sealed)
                    .where(after)
                    .order_by(findings.c.message_id, findings.c.seq)
                    .limit(BATCH)
                )
            ).all()
        if not batch:
            return count
        last = (batch[-1][0], batch[-1][1])
        rotated = [(m, s, sealer.rotate(t)) for m, s, t in batch]
        async with writer.begin() as conn:
            for message_id, seq, token in rotated:
                result = await conn.execute(
                    findings.update()
                    .where(findings.c.message_id == message_id, findings.c.seq == seq)
                    .values(sealed=token)
                )
                count += result.rowcount
