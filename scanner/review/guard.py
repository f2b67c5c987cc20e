"""The console's outermost layer: what every response carries and what every request may cost.

`Guard` wraps the whole Starlette app, error handling included (Starlette puts its own
`ServerErrorMiddleware` outside any middleware added with `add_middleware`, so a 500 used to
leave without our headers). For every request:

- **Security headers on every response**, 404, 413 and 500 included: CSP (`default-src 'self'`,
  no framing, no base/form elsewhere), `X-Frame-Options: DENY`, `nosniff`, `no-referrer`, and
  `Cache-Control: no-store` on everything but /static.
- **Bounded bodies**: a declared `Content-Length` over `max_body` is refused with 413 before a
  byte is read; otherwise the body is read here, at most `max_body` bytes (413 beyond), and
  replayed to the app. The console takes short forms and JSON (64 KiB by default), never uploads.
- **Errors never leak content into logs**: an exception is logged as its type and place
  (`scanner._errors.describe`), never its message (which may quote a header value), and the
  client gets a plain 500; nothing propagates to uvicorn's traceback logging.
- One log line per request: method, path without query string, status, account.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanner._errors import describe

log = logging.getLogger("sendguard.review")

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class Guard:
    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        started = False
        status = 0

        async def guarded_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = list(message.get("headers", []))
                if not static:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        body = await self._read_body(scope, receive)
        if body is None:
            await _plain(guarded_send, 413, b"request body too large")
        else:
            try:
                await self.app(scope, _replay(body, receive), guarded_send)
            except Exception as exc:
                log.error("review %s %s failed: %s", scope["method"], scope["path"], describe(exc))
                if not started:
                    await _plain(guarded_send, 500, b"internal error")
        who = scope.get("state", {}).get("principal")
        if not static:
            log.info("review %s %s %d %s", scope["method"], scope["path"], status, who.name if who else "-")

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole request body, or None when it is (or says it is) over the cap."""
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body:
                        return None
                except ValueError:
                    return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # disconnected: the app will see an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})
