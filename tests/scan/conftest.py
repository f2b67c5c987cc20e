"""Fixtures of the scan runtime tests: both event loops, and the worker processes we started."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import psutil
import pytest
import uvloop


@pytest.fixture(scope="module", params=["asyncio", "uvloop"])
def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
    """Every test on both loops: the proxy runs uvloop, whose handles differ in small ways."""
    if request.param == "uvloop":
        return uvloop.EventLoopPolicy()
    return asyncio.DefaultEventLoopPolicy()


def _worker_children() -> set[int]:
    """Our child processes, minus multiprocessing's resource tracker (one per interpreter)."""
    out = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(child.cmdline()):
                out.add(child.pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture
def worker_children() -> Callable[[], set[int]]:
    return _worker_children
