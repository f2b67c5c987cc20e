"""OLE2 compound files (MS-CFB): legacy Excel (BIFF, through xlrd), and the ones we only name.

An OLE2 file is a small file system; its directory says what it holds. ``Workbook``/``Book``
streams are Excel 97-2003 (read by xlrd, every sheet, as rows); ``EncryptedPackage`` is an
OOXML document saved with a password (MS-OFFCRYPTO §2.3.4.4: unreadable → `Unscanned.ENCRYPTED`);
``WordDocument`` and ``PowerPoint Document`` are legacy Word and PowerPoint, which we do not
read (`Unscanned.UNSUPPORTED`, so the policy decides rather than letting them pass).
"""

from __future__ import annotations

import io

import xlrd

from scanner.extract.attachments.archive import ReadFile
from scanner.extract.attachments.sheets import add_row, number_text
from scanner.extract.attachments.walk import Stop, Walk
from scanner.model import Unscanned


def _stream(name: str) -> bytes:
    """How a directory entry's name appears in the file (UTF-16LE, MS-CFB §2.6.1)."""
    return name.encode("utf-16-le")


def read_ole(data: bytes, where: str, walk: Walk, depth: int, read_file: ReadFile) -> None:
    if _stream("EncryptedPackage") in data:
        raise Stop(Unscanned.ENCRYPTED, "not read: password-protected Office document")
    if _stream("Workbook") in data or _stream("Book") in data:
        _read_xls(data, where, walk)
        return
    if _stream("WordDocument") in data:
        raise Stop(Unscanned.UNSUPPORTED, "not read: legacy Word document (.doc)")
    if _stream("PowerPoint Document") in data:
        raise Stop(Unscanned.UNSUPPORTED, "not read: legacy PowerPoint document (.ppt)")
    raise Stop(Unscanned.UNSUPPORTED, "not read: OLE2 compound file of an unknown kind")


def _read_xls(data: bytes, where: str, walk: Walk) -> None:
    try:
        book = xlrd.open_workbook(file_contents=data, logfile=io.StringIO(), on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise Stop(Unscanned.ENCRYPTED, "not read: password-protected spreadsheet") from None
        raise Stop(Unscanned.CORRUPT, "not read: damaged spreadsheet") from None
    try:
        names = book.sheet_names()
        if len(names) > walk.limits.max_pages:
            walk.unread(Unscanned.PART_LIMIT, where, f"not read: sheets after {walk.limits.max_pages}")
        for index, name in enumerate(names[: walk.limits.max_pages]):
            walk.check_time()
            sheet = book.sheet_by_index(index)
            sheet_at = f"{where}/sheet[{walk.label(name)}]"
            for r in range(sheet.nrows):
                cells = [(c, _cell_text(cell, book.datemode)) for c, cell in enumerate(sheet.row(r))]
                add_row(walk, sheet_at, r + 1, cells)
            book.unload_sheet(index)
    finally:
        book.release_resources()


def _cell_text(cell: xlrd.sheet.Cell, datemode: int) -> str:
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return number_text(float(cell.value))
    if cell.ctype in (xlrd.XL_CELL_TEXT,):
        return str(cell.value)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return str(xlrd.xldate.xldate_as_datetime(cell.value, datemode).isoformat(" "))
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return str(cell.value)
    return ""
