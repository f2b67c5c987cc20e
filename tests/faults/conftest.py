"""Fault-injection fixtures: a tiny filesystem that fills up, a store backend on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tiny_fs() -> Iterator[Path]:
    """A 256 KiB tmpfs: a real ENOSPC. Skips where mounting is not permitted (not root, no caps)."""
    where = Path(tempfile.mkdtemp(prefix="sendguard-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()
