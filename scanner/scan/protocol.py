"""The conversation between the proxy (`scanner.scan.pool`) and a worker (`scanner.scan.worker`).

Every frame is one of the frozen messages below, written by `encode` and read by `decode` --
the only two functions that know the bytes: an ``!Q`` length, then a pickle. Both ends are our
own code started from the same installation, so pickle is safe here; `decode` still refuses
anything that is not one of these messages, so a confused peer fails loudly instead of
feeding a tuple to the batcher.

    proxy  -> worker   Batch(batch_id, pieces)        pieces[i]: a RawMessage (extracted by the
                                                      worker) or segments already extracted
    worker -> proxy    Ready(pid)                     once, after the engine was built
                       StartFailed(error)             instead of Ready; the worker then exits
                       Results(batch_id, results)     results[i] answers pieces[i]

A result is `Detected` (findings and the extraction's defects), `NeedsSplit` (a raw message
whose text is longer than its `piece_chars`: the extraction comes back to be cut into pieces by
the batcher) or `Failed` (the exception's type name -- never its text, which could quote the
message). Batches on one worker are answered in order.
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass

from scanner.model import Envelope, Extraction, Finding, Segment

HEADER = struct.Struct("!Q")


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A whole message as received: the worker extracts it, and detects it if its text is at
    most `piece_chars` characters (else it answers `NeedsSplit`)."""

    data: bytes
    piece_chars: int
    envelope: Envelope | None = None  # scanned too: its addresses reach the recipient


# What one piece of a batch carries to the worker.
PieceBody = RawMessage | tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: int
    pieces: tuple[PieceBody, ...]


@dataclass(frozen=True, slots=True)
class Ready:
    pid: int


@dataclass(frozen=True, slots=True)
class StartFailed:
    error: str  # the exception's type name


@dataclass(frozen=True, slots=True)
class Detected:
    findings: tuple[Finding, ...]
    defects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NeedsSplit:
    extraction: Extraction


@dataclass(frozen=True, slots=True)
class Failed:
    error: str  # the exception's type name


PieceResult = Detected | NeedsSplit | Failed


@dataclass(frozen=True, slots=True)
class Results:
    batch_id: int
    results: tuple[PieceResult, ...]


Frame = Batch | Ready | StartFailed | Results
_FRAMES = (Batch, Ready, StartFailed, Results)


class ProtocolError(Exception):
    """A frame that is not one of ours (a bug, or a peer from another version)."""


class _Parts:
    """A pickler's file that keeps what it is given: the pickler hands a large bytes payload
    (a raw message) to ``write`` as the object itself, after flushing its own small frame, so
    the message is never copied into the frame (protocol 5 framing, CPython's C pickler)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[bytes | memoryview] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        self.parts.append(data)
        self.size += len(data)
        return len(data)


def encode(frame: Frame) -> list[bytes | memoryview]:
    """One frame, header first, as buffers to write in order. A batch of raw messages is
    megabytes: they go out as the very bytes objects received, with no copy on the event loop
    (a 26 MB message copied into one buffer held the loop 20 ms)."""
    out = _Parts()
    pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(frame)
    return [HEADER.pack(out.size), *out.parts]


def frame_length(header: bytes) -> int:
    """The length of the frame body that follows `header` (HEADER.size bytes)."""
    (length,) = HEADER.unpack(header)
    return int(length)


def decode(body: bytes) -> Frame:
    frame = pickle.loads(body)
    if not isinstance(frame, _FRAMES):
        raise ProtocolError(f"unexpected frame {type(frame).__name__}")
    return frame
