"""Encryption at rest: key file, rotation without losing mail, wrong keys fail clearly."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken

from scanner.quarantine.crypto import CHAIN, CHUNK, QuarantineKeyError, Sealer, generate_key
from scanner.quarantine.model import HeldStatus
from scanner.quarantine.store import SqlQuarantineStore
from tests.quarantine.fakes import held_message
from tests.stores import Backend


async def _raw_tokens(store: SqlQuarantineStore) -> list[bytes]:
    async with store.engine.connect() as conn:
        data = (
            await conn.execute(sa.text("SELECT data FROM quarantine_messages WHERE data IS NOT NULL"))
        ).all()
        sealed = (await conn.execute(sa.text("SELECT sealed FROM quarantine_findings"))).all()
    return [bytes(r[0]) for r in [*data, *sealed]]


async def test_rotation_keeps_old_mail_readable_and_retires_the_old_key(backend: Backend) -> None:
    key_a, key_b = generate_key(), generate_key()
    message = held_message("rot")
    store = await backend.open([key_a])
    await store.hold(message)
    await store.close()

    store = await backend.open([key_b, key_a])
    try:
        record = await store.get("rot")
        assert record is not None and record.data == message.data
        rotated = await store.rotate_keys()
        assert rotated == 2  # the message and its one finding
    finally:
        await store.close()

    store = await backend.open([key_b])
    try:
        record = await store.get("rot")
        assert (
            record is not None and record.data == message.data and record.findings == message.verdict.findings
        )
        for token in await _raw_tokens(store):
            Fernet(key_b.encode()).decrypt(token)
            with pytest.raises(InvalidToken):
                Fernet(key_a.encode()).decrypt(token)
    finally:
        await store.close()


async def test_opening_with_only_a_wrong_key_is_a_clear_error(backend: Backend) -> None:
    right, wrong = generate_key(), generate_key()
    store = await backend.open([right])
    await store.hold(held_message("k"))
    await store.close()

    with pytest.raises(QuarantineKeyError, match="none of the 1 configured quarantine key") as info:
        await backend.open([wrong])
    assert wrong not in str(info.value) and right not in str(info.value)


async def test_key_file_is_generated_private_and_reused(backend: Backend) -> None:
    assert not backend.key_file.exists()
    store = await backend.open()
    await store.hold(held_message("kf"))
    await store.close()

    assert stat.S_IMODE(backend.key_file.stat().st_mode) == 0o600
    store = await backend.open()
    try:
        record = await store.get("kf")
        assert record is not None and record.data == held_message("kf").data
    finally:
        await store.close()


@pytest.mark.parametrize("bad", ["not-a-key", "", "c2hvcnQ="])
def test_a_malformed_key_is_named_by_position_not_value(bad: str) -> None:
    with pytest.raises(QuarantineKeyError, match="key #2 is not a Fernet key") as info:
        Sealer([generate_key().encode(), bad.encode()])
    if bad:
        assert bad not in str(info.value)


def test_sealer_roundtrip_and_tamper_detection() -> None:
    sealer = Sealer([generate_key().encode()])
    token = sealer.seal(b"payload")
    assert sealer.open(token) == b"payload"
    tampered = token[:-5] + (b"A" if token[-5:-4] != b"A" else b"B") + token[-4:]
    with pytest.raises(QuarantineKeyError):
        sealer.open(tampered)


async def test_a_claim_that_cannot_decrypt_is_rolled_back(store: SqlQuarantineStore) -> None:
    await store.hold(held_message("undecryptable"))
    wrong = SqlQuarantineStore(store.engine, Sealer([generate_key().encode()]), store.retention)

    with pytest.raises(QuarantineKeyError):
        await wrong.claim_release("undecryptable", "alice")

    record = await store.get("undecryptable")
    assert record is not None and record.summary.status is HeldStatus.HELD


def test_a_large_plaintext_is_a_chain_that_opens_rotates_and_refuses_tampering() -> None:
    old, new = generate_key(), generate_key()
    data = bytes(range(256)) * (3 * CHUNK // 256) + b"tail"  # three chunks and a bit
    sealed = Sealer([old.encode()]).seal(data)
    assert sealed.startswith(CHAIN) and data[:64] not in sealed
    both = Sealer([new.encode(), old.encode()])
    assert both.open(sealed) == data
    rotated = both.rotate(sealed)
    assert Sealer([new.encode()]).open(rotated) == data
    with pytest.raises(QuarantineKeyError):
        Sealer([old.encode()]).open(rotated)
    links = sealed[len(CHAIN) :].split(b"\n")
    other = Sealer([old.encode()]).seal(data)[len(CHAIN) :].split(b"\n")
    tampered = [
        CHAIN + b"\n".join([links[1], links[0], *links[2:]]),  # reordered
        CHAIN + b"\n".join(links[:-1]),  # truncated
        CHAIN + b"\n".join([other[0], *links[1:]]),  # a link of another chain
    ]
    for token in tampered:
        with pytest.raises(QuarantineKeyError):
            Sealer([old.encode()]).open(token)
    small = Sealer([old.encode()]).seal(b"short")
    assert not small.startswith(CHAIN) and Fernet(old.encode()).decrypt(small) == b"short"
