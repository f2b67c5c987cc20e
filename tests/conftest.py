"""Fixtures every test folder shares, and the `corpus` marker.

- `backend` / `store`: each SQL store test on SQLite and on PostgreSQL (`tests/stores.py`);
  `any_store`: the in-memory store of the console tests as well, for contract tests.
- ``@pytest.mark.corpus``: the test reads ../shared/corpus (or $SENDGUARD_CORPUS). Skipped when
  it is missing, a failure when SENDGUARD_REQUIRE_CORPUS=1 (CI), so it cannot skip silently.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from scanner.ports import QuarantineStore
from scanner.quarantine.crypto import generate_key
from scanner.quarantine.store import SqlQuarantineStore
from tests.corpus import require_corpus
from tests.review.memory_store import MemoryStore
from tests.stores import Backend, open_backend


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("corpus") is not None:
        require_corpus()


SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=SQL_BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async with open_backend(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
async def store(backend: Backend, key: str) -> AsyncIterator[SqlQuarantineStore]:
    opened = await backend.open([key])
    yield opened
    await opened.close()


@pytest.fixture(params=["memory", *SQL_BACKENDS])
async def any_store(
    request: pytest.FixtureRequest, tmp_path: Path, key: str
) -> AsyncIterator[QuarantineStore]:
    """Every implementation of `QuarantineStore`: the tests' in-memory one and both SQL ones."""
    if request.param == "memory":
        yield MemoryStore()
        return
    async with open_backend(request.param, tmp_path) as opened:
        store = await opened.open([key])
        yield store
        await store.close()
