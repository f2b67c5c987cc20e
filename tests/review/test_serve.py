"""serve_review: uvicorn inside the caller's loop, on a real loopback socket."""

from __future__ import annotations

import socket

import httpx
import pytest

from scanner.review import create_app, serve_review
from scanner.settings import ReviewSettings
from tests.fakes import FakeRelay
from tests.review.memory_store import MemorySessions, MemoryStore


async def test_serves_and_stops() -> None:
    app = create_app(MemoryStore(), FakeRelay(), ReviewSettings(), sessions=MemorySessions())
    server = await serve_review(app, "127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as c:
            r = await c.get(f"http://127.0.0.1:{server.port}/api/messages")
        assert r.status_code == 401 and "server" not in r.headers
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as c:
            await c.get(f"http://127.0.0.1:{server.port}/login")


async def test_busy_port_raises() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            await serve_review(
                create_app(MemoryStore(), FakeRelay(), ReviewSettings(), sessions=MemorySessions()),
                "127.0.0.1",
                taken.getsockname()[1],
            )
