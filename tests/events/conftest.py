"""A loopback webhook receiver (the store fixtures, SQLite and PostgreSQL, are in tests/conftest.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + "c2VuZGd1YXJkLXRlc3Qtc2VjcmV0LTMyLWJ5dGVzLW9r"


@dataclass
class Receiver:
    """An HTTP endpoint on loopback that verifies every Standard Webhooks signature it gets.

    `status` is what it answers; `down()` closes the listening socket (connection refused),
    `up()` listens again on the same port. `events` maps webhook-id -> parsed body (a retry of
    the same id overwrites, so len(events) counts distinct events), `deliveries` counts POSTs.
    """

    secret: str = SECRET
    port: int = 0
    status: int = 200
    events: dict[str, dict[str, object]] = field(default_factory=dict)
    deliveries: int = 0
    bad_signatures: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def wait_for(self, count: int, within: float = 30.0) -> None:
        async def reached() -> None:
            while len(self.events) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(reached(), within)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.status
            if status == 200:
                try:
                    payload = Webhook(self.secret).verify(body, headers)
                except WebhookVerificationError:
                    self.bad_signatures += 1
                    status = 401
                else:
                    self.deliveries += 1
                    self.events[headers["webhook-id"]] = payload
                    self.changed.set()
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.up()
    yield r
    await r.down()


def bodies(r: Receiver) -> list[str]:
    return [json.dumps(b, sort_keys=True) for b in r.events.values()]
