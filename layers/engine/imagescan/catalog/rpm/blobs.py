"""What the database readers yield: header blobs, or a record they had to skip.

Each reader (:mod:`.bdb`, :mod:`.ndb`, :mod:`.sqlite`) raises CatalogError when the file as a whole cannot be read
(wrong magic, unusable metadata) and otherwise yields one item per record, so that one damaged record costs only
itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True, slots=True)
class HeaderBlob:
    key: int
    """The record's header number (hnum / package index) in its database."""
    data: bytes


@dataclass(frozen=True, slots=True)
class SkippedRecord:
    where: str
    """Which record or page, e.g. ``page 12``, ``slot 40``, ``hnum 7``."""
    reason: str

    def note(self) -> str:
        return f"{self.where}: {self.reason}"


DbItem = HeaderBlob | SkippedRecord


def read_at(data: BinaryIO, offset: int, length: int) -> bytes:
    """``length`` bytes at ``offset``, or fewer when the file ends first (the caller checks)."""
    data.seek(offset)
    return data.read(length)


