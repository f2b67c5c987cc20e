"""Encryption at rest for held mail: Fernet (AES-128-CBC + HMAC-SHA256) behind a MultiFernet.

Keys come newest first. The newest encrypts; every key decrypts, so an operator rotates by
putting a new key in front (``keys = [new, old]``), running ``sendguard quarantine
rotate-keys`` (re-encrypts every stored token with the newest key) and then dropping the old
key. With no key configured a key is generated once into ``key_file`` (mode 0600), which keeps
the embedded default working with nothing set up.

A plaintext over `CHUNK` bytes (a large held message) is sealed as a chain of Fernet tokens,
one per chunk: ``SGC1`` then the tokens, one a line. Each chunk's plaintext starts with a random
id shared by the chain, its index and the chain's length, so chunks cannot be reordered,
dropped or spliced in from another message without `open` refusing the chain. The reason is the
event loop: Fernet encodes a whole token in one C call that holds the GIL (16 ms for 10 MB, so
a seal in a thread still stalled the loop); a 1 MiB chunk holds it about 2 ms.

This module does file I/O only in `load_keys` (the key file); `Sealer` is pure.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from scanner._errors import StoreError

log = logging.getLogger("sendguard.quarantine")

CHUNK = 1024 * 1024
CHAIN = b"SGC1\n"
_LINK = struct.Struct("!16sII")  # chain id, index, count


class QuarantineKeyError(StoreError):
    """The configured keys cannot decrypt what the quarantine holds, or a key is malformed.

    Messages name the key by position only, never its value.
    """

    text = "Quarantine key error"


class Sealer:
    """Seals and opens byte strings with the configured keys (first = newest)."""

    __slots__ = ("_fernet", "key_count")

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise QuarantineKeyError("no quarantine key configured")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # deliberately not echoing the key
                raise QuarantineKeyError(
                    f"quarantine key #{position} is not a Fernet key (32 url-safe base64-encoded bytes)"
                ) from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def seal(self, plaintext: bytes) -> bytes:
        if len(plaintext) <= CHUNK:
            return self._fernet.encrypt(plaintext)
        chain = os.urandom(16)
        count = -(-len(plaintext) // CHUNK)
        view = memoryview(plaintext)
        tokens = [
            self._fernet.encrypt(_LINK.pack(chain, i, count) + view[i * CHUNK : (i + 1) * CHUNK])
            for i in range(count)
        ]
        return CHAIN + b"\n".join(tokens)

    def open(self, token: bytes, *, what: str = "a stored message") -> bytes:
        try:
            if not token.startswith(CHAIN):
                return self._fernet.decrypt(token)
            parts: list[bytes] = []
            chain: bytes | None = None
            tokens = token[len(CHAIN) :].split(b"\n")
            for i, link in enumerate(tokens):
                plain = self._fernet.decrypt(link)
                ident, index, count = _LINK.unpack_from(plain)
                chain = chain or ident
                if ident != chain or index != i or count != len(tokens):
                    raise InvalidToken
                parts.append(plain[_LINK.size :])
            return b"".join(parts)
        except (InvalidToken, struct.error):
            raise QuarantineKeyError(
                f"none of the {self.key_count} configured quarantine key(s) decrypts {what} "
                "(wrong key, or the stored data was altered): was a key removed before "
                "`sendguard quarantine rotate-keys` ran?"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt `token` with the newest key (it must decrypt with one of the keys)."""
        try:
            if token.startswith(CHAIN):
                links = token[len(CHAIN) :].split(b"\n")
                return CHAIN + b"\n".join(self._fernet.rotate(link) for link in links)
            return self._fernet.rotate(token)
        except InvalidToken:
            raise QuarantineKeyError(
                f"none of the {self.key_count} configured quarantine key(s) decrypts a stored token; "
                "rotation needs the old key too"
            ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_keys(keys: Sequence[SecretStr], key_file: Path) -> list[bytes]:
    """The configured keys, or the keys in `key_file` (created with a fresh key if missing).

    The key file holds one key per line, newest first, so file-based setups can rotate too.
    """
    if keys:
        return [k.get_secret_value().strip().encode("ascii") for k in keys]
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write a private temp file, then link it into place: link() fails if the key file
        # appeared meanwhile, so two instances starting together agree on one key, and no
        # reader ever sees a half-written file.
        tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(generate_key() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        else:
            log.warning("generated a new quarantine key in %s; back it up with the database", key_file)
        finally:
            tmp.unlink()
    mode = key_file.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("quarantine key file %s is readable by others (mode %o); chmod 600 it", key_file, mode)
    lines = key_file.read_text(encoding="ascii").splitlines()
    found = [line.strip().encode("ascii") for line in lines if line.strip() and not line.startswith("#")]
    if not found:
        raise QuarantineKeyError(f"quarantine key file {key_file} holds no key")
    return found
