"""An upstream MTA on loopback whose behaviour a fault test switches at any moment.

Modes (`Upstream.mode`): ``ok`` (250, recorded), ``tempfail`` (451 at the end of data),
``reject`` (552 5.3.4), ``hang`` (never answers the final dot), ``close_mid_data`` (hangs up
after a few bytes of DATA), ``store_then_close`` (records, then hangs up without a reply: the
message may be delivered, the sender cannot know), ``slow`` (each reply `delay` s late).
`stop()` closes the listener and every connection (killed/absent), `start()` listens again.

It counts what it stored by Message-ID, and which of those it stored without the sender ever
seeing the reply (`unacknowledged`): SMTP's inherent duplicate window on this hop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field

from tests.postfix.harness import free_port, message_id


@dataclass(eq=False)
class _Conn:
    writer: asyncio.StreamWriter
    stored_unacked: str | None = None  # stored, reply not yet known to have been read


@dataclass
class Upstream:
    port: int = field(default_factory=free_port)
    mode: str = "ok"
    delay: float = 0.5
    stored: Counter[str] = field(default_factory=Counter)
    unacknowledged: Counter[str] = field(default_factory=Counter)
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.Server | None = None
    _conns: set[_Conn] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __hash__(self) -> int:
        return id(self)

    # --- control, from the test's thread ----------------------------------------------------

    def run_forever(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self.start()

    def _call(self, coro: object) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)  # type: ignore[arg-type]

    def start(self) -> None:
        self._call(self._start())

    def stop(self) -> None:
        self._call(self._stop())

    def shutdown(self) -> None:
        self.stop()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)

    def count(self, ids: list[str]) -> Counter[str]:
        with self._lock:
            return Counter({i: self.stored[i] for i in ids if self.stored[i]})

    # --- the server ---------------------------------------------------------------------------

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._conns):
            if conn.stored_unacked is not None:
                with self._lock:
                    self.unacknowledged[conn.stored_unacked] += 1
                conn.stored_unacked = None  # counted once, not again when its session ends
            conn.writer.transport.abort()
        self._conns.clear()

    async def _reply(self, conn: _Conn, line: str) -> None:
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        conn.writer.write(line.encode() + b"\r\n")
        await conn.writer.drain()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._conns.add(conn)
        try:
            await self._reply(conn, "220 upstream.test ESMTP")
            while line := await reader.readline():
                conn.stored_unacked = None  # a new command: our last reply was read
                verb = line[:4].upper()
                if verb == b"EHLO":
                    conn.writer.write(
                        b"250-upstream.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 100000000\r\n"
                    )
                    await conn.writer.drain()
                elif verb == b"QUIT":
                    await self._reply(conn, "221 bye")
                    return
                elif verb == b"DATA":
                    if not await self._data(conn, reader):
                        return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    await self._reply(conn, "250 ok")
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            # a connection that ends with no command after our last 250 (reset, aborted, closed
            # by a kill) never proved that reply was read: the same window as an abort in _stop.
            # That includes a message read from the buffer after _stop aborted the connection (it
            # had arrived whole before the kill): stored, and its reply never sent. _stop itself
            # resets stored_unacked of what it counted, so nothing is counted twice.
            if conn.stored_unacked is not None:
                with self._lock:
                    self.unacknowledged[conn.stored_unacked] += 1
                conn.stored_unacked = None
            self._conns.discard(conn)
            writer.transport.abort()

    async def _data(self, conn: _Conn, reader: asyncio.StreamReader) -> bool:
        """One DATA phase; False when the connection is to end."""
        mode = self.mode
        await self._reply(conn, "354 go ahead")
        if mode == "close_mid_data":
            await reader.read(16)
            return False
        data = await reader.readuntil(b"\r\n.\r\n")
        mode = self.mode  # may have changed while the data came in
        if mode == "tempfail":
            await self._reply(conn, "451 4.3.0 upstream busy, try later")
        elif mode == "reject":
            await self._reply(conn, "552 5.3.4 upstream says too big")
        elif mode == "hang":
            await asyncio.sleep(3600)
        else:
            mid = message_id(data) or "?"
            with self._lock:
                self.stored[mid] += 1
            conn.stored_unacked = mid
            if mode == "store_then_close":
                return False  # counted as unacknowledged when the session ends (no reply sent)
            await self._reply(conn, "250 2.0.0 stored")
        return True
