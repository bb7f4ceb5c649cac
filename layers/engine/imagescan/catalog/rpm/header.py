"""Parser of one rpm header blob, the unit every rpm database stores per installed package.

A stored header has no lead and no magic; all integers are big-endian::

    il   u32                      number of index entries
    dl   u32                      size of the data store in bytes
    il x {tag u32, type u32, offset i32, count u32}
    dl bytes of data              values, addressed by the entries' offsets

The first entry is usually a region tag (``HEADERIMMUTABLE``) whose value is a trailer in the data store; entries
after the region ("dribbles", written at install time) replace region entries with the same tag, so the last entry
for a tag wins. Every offset and count is checked against ``dl`` before use: a corrupt blob raises
:class:`~imagescan.catalog.base.CatalogError`, never another exception, and never causes an allocation larger than
the blob itself.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from imagescan.catalog.base import CatalogError

_HEADER_TAGS_MAX = 0x0000FFFF
_HEADER_DATA_MAX = 0x0FFFFFFF
_ENTRY = struct.Struct(">IIiI")


class Tag(IntEnum):
    """The tags this package reads (numbers from rpm's ``rpmtag.h``)."""

    HEADERIMMUTABLE = 63
    NAME = 1000
    VERSION = 1001
    RELEASE = 1002
    EPOCH = 1003
    VENDOR = 1011
    LICENSE = 1014
    ARCH = 1022
    OLDFILENAMES = 1027
    SOURCERPM = 1044
    DIRINDEXES = 1116
    BASENAMES = 1117
    DIRNAMES = 1118


class TagType(IntEnum):
    NULL = 0
    CHAR = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    STRING = 6
    BIN = 7
    STRING_ARRAY = 8
    I18NSTRING = 9


_INT_FORMATS: dict[int, tuple[str, int]] = {
    TagType.CHAR: ("B", 1),
    TagType.INT8: ("B", 1),
    TagType.INT16: ("H", 2),
    TagType.INT32: ("I", 4),
    TagType.INT64: ("Q", 8),
}
_STRING_TYPES = frozenset({TagType.STRING, TagType.STRING_ARRAY, TagType.I18NSTRING})


@dataclass(frozen=True, slots=True)
class Entry:
    tag: int
    type: int
    offset: int
    count: int


class RpmHeader:
    """Typed access to the entries of one header. Build it with :meth:`parse`."""

    __slots__ = ("_data", "_entries")

    def __init__(self, entries: dict[int, Entry], data: bytes) -> None:
        self._entries = entries
        self._data = data

    @classmethod
    def parse(cls, blob: bytes) -> RpmHeader:
        """Check the index against the blob's size and keep the last entry for each tag."""
        if len(blob) < 8:
            raise CatalogError(f"rpm header: {len(blob)} bytes, too short for the index counts")
        il, dl = struct.unpack_from(">II", blob, 0)
        if il == 0 or il > _HEADER_TAGS_MAX:
            raise CatalogError(f"rpm header: implausible index entry count {il}")
        if dl > _HEADER_DATA_MAX:
            raise CatalogError(f"rpm header: implausible data size {dl}")
        data_start = 8 + 16 * il
        if data_start + dl > len(blob):
            raise CatalogError(
                f"rpm header: index ({il} entries) and data ({dl} bytes) exceed the blob ({len(blob)} bytes)"
            )
        entries: dict[int, Entry] = {}
        for tag, typ, offset, count in _ENTRY.iter_unpack(blob[8:data_start]):
            if typ > TagType.I18NSTRING:
                raise CatalogError(f"rpm header: tag {tag} has unknown type {typ}")
            if offset < 0 or offset > dl or count > dl or (count == 0 and typ != TagType.NULL):
                raise CatalogError(f"rpm header: tag {tag} points outside the data ({offset=}, {count=}, {dl=})")
            fixed = _INT_FORMATS.get(typ)
            if fixed is not None and offset + fixed[1] * count > dl:
                raise CatalogError(f"rpm header: tag {tag} array overruns the data")
            if typ == TagType.BIN and offset + count > dl:
                raise CatalogError(f"rpm header: tag {tag} binary value overruns the data")
            entries[tag] = Entry(tag, typ, offset, count)
        return cls(entries, blob[data_start : data_start + dl])

    def __contains__(self, tag: int) -> bool:
        return tag in self._entries

    def tags(self) -> list[int]:
        return list(self._entries)

    def entry(self, tag: int) -> Entry | None:
        return self._entries.get(tag)

    def strings(self, tag: int) -> list[str] | None:
        """The value of a STRING, STRING_ARRAY or I18NSTRING tag as a list; None when absent or not a string."""
        entry = self._entries.get(tag)
        if entry is None or entry.type not in _STRING_TYPES:
            return None
        count = 1 if entry.type == TagType.STRING else entry.count
        parts = self._data[entry.offset :].split(b"\0", count)
        if len(parts) <= count:
            raise CatalogError(f"rpm header: tag {tag} has an unterminated string")
        return [part.decode("utf-8", "replace") for part in parts[:count]]

    def string(self, tag: int) -> str | None:
        """The first string of a string tag (an I18NSTRING's default locale); None when absent."""
        entry = self._entries.get(tag)
        if entry is None or entry.type not in _STRING_TYPES:
            return None
        end = self._data.find(b"\0", entry.offset)
        if end < 0:
            raise CatalogError(f"rpm header: tag {tag} has an unterminated string")
        return self._data[entry.offset : end].decode("utf-8", "replace")

    def integers(self, tag: int) -> list[int] | None:
        """The values of an integer tag (CHAR, INT8 .. INT64); None when absent or not an integer."""
        entry = self._entries.get(tag)
        if entry is None:
            return None
        fixed = _INT_FORMATS.get(entry.type)
        if fixed is None:
            return None
        code, _ = fixed
        return list(struct.unpack_from(f">{entry.count}{code}", self._data, entry.offset))

    def integer(self, tag: int) -> int | None:
        values = self.integers(tag)
        return values[0] if values else None
