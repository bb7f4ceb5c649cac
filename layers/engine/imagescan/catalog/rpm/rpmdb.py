"""One entry point for the three rpm database formats: tell the format from the file's first bytes, read every
header, and keep the packages together with notes on the records that had to be skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm import bdb, ndb, sqlite
from imagescan.catalog.rpm.blobs import DbItem, HeaderBlob
from imagescan.catalog.rpm.header import RpmHeader
from imagescan.catalog.rpm.record import RpmRecord, record_from_header

MAX_NOTES = 20
"""Notes kept per file; a badly damaged file would otherwise yield one per page."""


class DbFormat(StrEnum):
    BDB = "bdb"
    NDB = "ndb"
    SQLITE = "sqlite"


_READERS: dict[DbFormat, Callable[[BinaryIO, int], Iterator[DbItem]]] = {
    DbFormat.BDB: bdb.read_bdb,
    DbFormat.NDB: ndb.read_ndb,
    DbFormat.SQLITE: sqlite.read_sqlite,
}


def detect_format(head: bytes) -> DbFormat | None:
    """The database format of a file starting with ``head`` (at least its first 16 bytes)."""
    if head.startswith(sqlite.MAGIC):
        return DbFormat.SQLITE
    if head.startswith(ndb.MAGIC):
        return DbFormat.NDB
    if bdb.byte_order(head) is not None:
        return DbFormat.BDB
    return None


@dataclass(slots=True)
class RpmDbContents:
    format: DbFormat
    records: list[RpmRecord] = field(default_factory=list)
    """Every header that could be read, in database order, ``gpg-pubkey`` pseudo-packages included."""
    notes: list[str] = field(default_factory=list)
    skipped: int = 0

    def add_note(self, note: str) -> None:
        self.skipped += 1
        if len(self.notes) < MAX_NOTES:
            self.notes.append(note)
        elif len(self.notes) == MAX_NOTES:
            self.notes.append("further damaged records are not listed")


def read_items(data: BinaryIO, size: int) -> tuple[DbFormat, Iterator[DbItem]]:
    """The format of an rpm database and its raw records (header blobs, or records that had to be skipped).

    Raises CatalogError when the format is unknown or its metadata is unusable.
    """
    data.seek(0)
    fmt = detect_format(data.read(16))
    if fmt is None:
        raise CatalogError("not an rpm database: no BerkeleyDB, ndb or SQLite magic")
    return fmt, _READERS[fmt](data, size)


def read_rpmdb(data: BinaryIO, size: int) -> RpmDbContents:
    """Read an rpm database of any format.

    Raises CatalogError when the format is unknown, its metadata is unusable, or not one header could be read
    although the file has records.
    """
    fmt, items = read_items(data, size)
    contents = RpmDbContents(fmt)
    for item in items:
        if not isinstance(item, HeaderBlob):
            contents.add_note(item.note())
            continue
        try:
            contents.records.append(record_from_header(RpmHeader.parse(item.data)))
        except CatalogError as exc:
            contents.add_note(f"header {item.key}: {exc}")
    if contents.skipped and not contents.records:
        raise CatalogError(f"rpm {fmt}: no readable package header; first problem: {contents.notes[0]}")
    return contents
