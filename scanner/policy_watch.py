"""Hot reload of the policy file: on SIGHUP and when the file changes, without dropping sessions.

`PolicyHolder.current` is one attribute read once per message, so a reload swaps the whole
`PolicyBook` between two messages and a message in flight keeps the book it started with. A file
that does not validate is refused: the error (file, line, setting; never a value) is logged and
the old policy stays in force.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from scanner.tenants import PolicyBook, PolicyError, load_book

log = logging.getLogger("sendguard.policy")


class PolicyHolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: PolicyBook = load_book(path)  # at start-up a bad file is fatal
        self._stamp = self._stat()
        self.reloads = 0
        self.refused = 0

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self) -> bool:
        """Load the file again; True if the new policy is in force."""
        self._stamp = self._stat()
        try:
            book = load_book(self.path)
        except PolicyError as exc:
            self.refused += 1
            log.error("policy reload refused, the previous policy stays in force: %s", exc)
            return False
        self.current = book
        self.reloads += 1
        log.info("policy reloaded from %s: %d tenant(s)", self.path, len(book.tenants))
        return True

    async def watch(self, every: float = 1.0) -> None:
        """Reload when the file's mtime, size or inode changes (an editor's rename counts)."""
        while True:
            await asyncio.sleep(every)
            if self._stat() != self._stamp:
                self.reload()
