"""Archives: ZIP (also nested), gzip, tar. Every member goes back through `read_file`, so a CSV
in a ZIP in a tar.gz is read like a CSV attached on its own.

Bounds (all from `AttachmentLimits`, counted over the whole attachment by `Walk`): members,
bytes decompressed in total and per file, the compression ratio of each member once it passed
1 MiB (a zip bomb is ~1000:1, text and office XML ~3-30:1), nesting depth. Sizes declared in
the archive are not trusted: bytes are counted as they are decompressed and reading stops at
the bound. Nothing is ever written to disk, so a member named ``../../etc/passwd`` cannot go
anywhere; such a name is still reported (`Unscanned.CORRUPT`) because no honest tool makes one.

Locations: ``<where>/<member path>``; the member names are listed in ``<where>/names`` and
scanned as text like the rest.
"""

from __future__ import annotations

import functools
import io
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO

from scanner.extract.attachments.walk import Stop, Walk
from scanner.model import Unscanned

ReadFile = Callable[[bytes, str, Walk, int, str], None]
_CHUNK = 256 * 1024
_RATIO_FLOOR = 1024 * 1024  # the ratio bound applies once a member has produced this much


def open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise Stop(Unscanned.CORRUPT, "not read: damaged ZIP file") from None


def zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, walk: Walk) -> bytes:
    """The bytes of one member, decompressed within every bound, or `Stop`."""
    if info.flag_bits & 0x1:
        raise Stop(Unscanned.ENCRYPTED, "not read: password-protected archive member")
    try:
        with zf.open(info) as stream:
            return _bounded(_chunks(stream), max(info.compress_size, 1), walk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        raise Stop(Unscanned.CORRUPT, "not read: damaged archive member") from None


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk


def _bounded(chunks: Iterator[bytes], compressed: int, walk: Walk) -> bytes:
    limits = walk.limits
    out = bytearray()
    for chunk in chunks:
        out += chunk
        walk.inflated(len(chunk))
        if len(out) > limits.max_bytes:
            raise Stop(Unscanned.SIZE_LIMIT, f"not read: over {limits.max_bytes} bytes uncompressed")
        if len(out) > _RATIO_FLOOR and len(out) > compressed * limits.max_ratio:
            raise Stop(Unscanned.SIZE_LIMIT, f"not read: compressed more than {limits.max_ratio}:1")
        walk.check_time()
    return bytes(out)


def _unsafe(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _names(where: str, names: list[str], walk: Walk) -> None:
    walk.text(f"{where}/names", "\n".join(names))
    if any(_unsafe(n) for n in names):
        walk.unread(Unscanned.CORRUPT, where, "archive with unsafe member paths (../ or absolute)")


def read_zip(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    with open_zip(data) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if any(i.filename == "[Content_Types].xml" for i in infos):
            # an OPC package that is no DOCX/XLSX/PPTX (sniff.py): XLSB, XPS, Visio... binary
            # or layout parts that would pass unread as members
            raise Stop(Unscanned.UNSUPPORTED, "not read: Office package of a kind we do not read")
        _names(where, [i.filename for i in infos], walk)
        for info in infos:
            walk.member()
            at = f"{where}/{walk.label(info.filename)}"
            _member(functools.partial(zip_member, zf, info, walk), at, info.filename, walk, depth, read_file)


def _member(
    inflate: Callable[[], bytes], at: str, name: str, walk: Walk, depth: int, read_file: ReadFile
) -> None:
    """Decompress one member and read it; a bound of this member alone is recorded at it."""
    try:
        content = inflate()
    except Stop as stop:
        if stop.whole:
            raise
        walk.unread(stop.kind, at, stop.why)
        return
    read_file(content, at, walk, depth + 1, name)


def read_gzip(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    """RFC 1952; concatenated members are one stream, as gunzip reads them."""
    name = _gzip_name(data)
    walk.member()
    try:
        content = _bounded(_gunzip(data), len(data), walk)
    except (zlib.error, EOFError):
        raise Stop(Unscanned.CORRUPT, "not read: damaged gzip file") from None
    read_file(content, f"{where}/{walk.label(name)}" if name else where, walk, depth + 1, name)


def _gunzip(data: bytes) -> Iterator[bytes]:
    rest = data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            chunk = inflater.decompress(rest, _CHUNK)
            rest = inflater.unconsumed_tail
            if chunk:
                yield chunk
            if inflater.eof or (not chunk and not rest):
                break
        if not inflater.eof:
            raise EOFError("truncated gzip stream")
        rest = inflater.unused_data
        if not rest.startswith(b"\x1f\x8b"):
            return  # trailing garbage after the last member is ignored, as gunzip does


def _gzip_name(data: bytes) -> str:
    """FNAME from the header (RFC 1952 §2.3.1), if set."""
    if len(data) < 10 or not data[3] & 0x08:
        return ""
    pos = 10
    if data[3] & 0x04:  # FEXTRA
        pos += 2 + int.from_bytes(data[10:12], "little")
    end = data.find(b"\x00", pos, pos + 1024)
    return data[pos:end].decode("latin-1") if end > pos else ""


def read_tar(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, EOFError, OSError):
        raise Stop(Unscanned.CORRUPT, "not read: damaged tar file") from None
    with archive:
        members: list[tarfile.TarInfo] = []
        try:
            for info in archive:
                walk.member()
                if info.isfile():
                    members.append(info)
        except (tarfile.TarError, EOFError, OSError):
            walk.unread(Unscanned.CORRUPT, where, "not read: damaged tar file")
        _names(where, [i.name for i in members], walk)
        for info in members:
            at = f"{where}/{walk.label(info.name)}"
            stream = archive.extractfile(info)
            if stream is not None:
                _member(
                    functools.partial(_bounded, _chunks(stream), len(data), walk),
                    at,
                    info.name,
                    walk,
                    depth,
                    read_file,
                )
