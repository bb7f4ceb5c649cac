"""Read-only reader of the BerkeleyDB hash database that rpm up to 4.15 keeps as ``Packages``.

Layout (BerkeleyDB ``db_page.h``; integers in the byte order of the machine that created the file, told by the
magic number of the metadata page):

* page 0, the hash metadata page: magic ``0x061561`` at 12, version at 16, page size at 20, encryption at 24,
  page type 8 at 25, flags byte at 26 (bit 0: page checksums), last page number at 32, then ``max_bucket`` at 72
  and the 32 ``spares`` at 96 that map a bucket to its page: ``page = bucket + spares[bit_length(bucket)]``.
* every other page starts with a 26-byte header: page number at 8, next page at 16, item count at 20, high-free
  offset at 22, type at 25 (2 or 13: hash page, 7: overflow page). With checksums 6 more bytes follow.
* a hash page holds an array of item offsets; items pair up as key, value. An item's first byte is its kind: 1
  (the bytes follow inline, up to the previous item's offset) or 3 (off-page: page number and total length of a
  chain of overflow pages, each holding ``hf_offset`` bytes).

rpm stores each header under its 4-byte header number; number 0 is rpm's own counter and is not a package.

Every bucket chain is walked once; every page may be visited once only (a loop in a corrupt file ends the chain
that loops), so the work is bounded by the file's page count.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.blobs import DbItem, HeaderBlob, SkippedRecord, read_at

HASH_MAGIC = 0x00061561
_META_SIZE = 512
_PAGE_HEADER = 26
_CHKSUM_HEADER = 32
_P_HASH_UNSORTED = 2
_P_OVERFLOW = 7
_P_HASHMETA = 8
_P_HASH = 13
_H_KEYDATA = 1
_H_DUPLICATE = 2
_H_OFFPAGE = 3
_H_OFFDUP = 4
_DBMETA_CHKSUM = 0x01
_DB_HASH_SUBDB = 0x02


def byte_order(head: bytes) -> str | None:
    """``<`` or ``>`` when ``head`` starts a BerkeleyDB hash database, else None."""
    if len(head) < 16:
        return None
    for order in "<>":
        if struct.unpack_from(order + "I", head, 12)[0] == HASH_MAGIC:
            return order
    return None


@dataclass(frozen=True, slots=True)
class _Meta:
    order: str
    pagesize: int
    npages: int
    overhead: int
    max_bucket: int
    spares: tuple[int, ...]


class _PageError(Exception):
    """A page or item that cannot be used; costs the records that depend on it."""


def _read_meta(data: BinaryIO, size: int) -> _Meta:
    head = read_at(data, 0, _META_SIZE)
    order = byte_order(head)
    if order is None or len(head) < _META_SIZE:
        raise CatalogError("rpm bdb: not a BerkeleyDB hash database")
    version, pagesize = struct.unpack_from(order + "II", head, 16)
    encrypt_alg, page_type, metaflags = head[24], head[25], head[26]
    (last_pgno,) = struct.unpack_from(order + "I", head, 32)
    (flags,) = struct.unpack_from(order + "I", head, 48)
    (max_bucket,) = struct.unpack_from(order + "I", head, 72)
    spares = struct.unpack_from(order + "32I", head, 96)
    if not 7 <= version <= 10:
        raise CatalogError(f"rpm bdb: unsupported hash version {version}")
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise CatalogError(f"rpm bdb: invalid page size {pagesize}")
    if encrypt_alg:
        raise CatalogError("rpm bdb: the database is encrypted")
    if page_type != _P_HASHMETA:
        raise CatalogError(f"rpm bdb: metadata page has type {page_type}, not a hash metadata page")
    if flags & _DB_HASH_SUBDB:
        raise CatalogError("rpm bdb: the file holds sub-databases, which rpm never writes")
    npages = min(last_pgno + 1, size // pagesize)
    if max_bucket >= npages:
        raise CatalogError(f"rpm bdb: {max_bucket + 1} buckets cannot fit in {npages} pages")
    overhead = _CHKSUM_HEADER if metaflags & _DBMETA_CHKSUM else _PAGE_HEADER
    return _Meta(order, pagesize, npages, overhead, max_bucket, spares)


class BdbHashReader:
    """Yields the records of an rpm BerkeleyDB ``Packages`` file. The constructor checks the metadata page."""

    def __init__(self, data: BinaryIO, size: int) -> None:
        self._data = data
        self._meta = _read_meta(data, size)
        self._u16 = struct.Struct(self._meta.order + "H")
        self._u32 = struct.Struct(self._meta.order + "I")
        self._seen: set[int] = set()

    def items(self) -> Iterator[DbItem]:
        meta = self._meta
        for bucket in range(meta.max_bucket + 1):
            index = bucket.bit_length()
            if index >= len(meta.spares):
                yield SkippedRecord(f"bucket {bucket}", "beyond the spares table")
                return
            yield from self._chain(bucket, bucket + meta.spares[index])

    def _page(self, pgno: int) -> bytes:
        meta = self._meta
        if pgno in self._seen:
            raise _PageError(f"page {pgno} is linked twice")
        self._seen.add(pgno)
        if not 0 < pgno < meta.npages:
            raise _PageError(f"page {pgno} is outside the file ({meta.npages} pages)")
        page = read_at(self._data, pgno * meta.pagesize, meta.pagesize)
        if len(page) != meta.pagesize:
            raise _PageError(f"page {pgno} is truncated")
        if self._u32.unpack_from(page, 8)[0] != pgno:
            raise _PageError(f"page {pgno} carries another page number")
        return page

    def _chain(self, bucket: int, pgno: int) -> Iterator[DbItem]:
        while pgno:
            try:
                page = self._page(pgno)
                if page[25] not in (_P_HASH, _P_HASH_UNSORTED):
                    raise _PageError(f"page {pgno} of bucket {bucket} has type {page[25]}, not a hash page")
            except _PageError as exc:
                yield SkippedRecord(f"bucket {bucket}", f"{exc}; the rest of the bucket is lost")
                return
            yield from self._page_items(pgno, page)
            pgno = self._u32.unpack_from(page, 16)[0]

    def _page_items(self, pgno: int, page: bytes) -> Iterator[DbItem]:
        meta = self._meta
        count = self._u16.unpack_from(page, 20)[0]
        index_end = meta.overhead + 2 * count
        if index_end > meta.pagesize:
            yield SkippedRecord(f"page {pgno}", f"{count} items cannot fit in the page")
            return
        offsets = struct.unpack_from(f"{meta.order}{count}H", page, meta.overhead)
        for i in range(0, count - 1, 2):
            try:
                key = self._item(page, offsets, i, index_end)
                value = self._item(page, offsets, i + 1, index_end)
            except _PageError as exc:
                yield SkippedRecord(f"page {pgno} item {i // 2}", str(exc))
                continue
            if len(key) != 4:
                yield SkippedRecord(f"page {pgno} item {i // 2}", f"key of {len(key)} bytes, not a header number")
                continue
            hnum = self._u32.unpack(key)[0]
            if hnum:
                yield HeaderBlob(hnum, value)
        if count % 2:
            yield SkippedRecord(f"page {pgno}", f"odd item count {count}")

    def _item(self, page: bytes, offsets: tuple[int, ...], i: int, index_end: int) -> bytes:
        start = offsets[i]
        end = self._meta.pagesize if i == 0 else offsets[i - 1]
        if not index_end <= start < end <= self._meta.pagesize:
            raise _PageError(f"item offset {start} out of place")
        kind = page[start]
        if kind == _H_KEYDATA:
            return page[start + 1 : end]
        if kind == _H_OFFPAGE:
            if end - start < 12:
                raise _PageError("off-page item too short")
            pgno, total = struct.unpack_from(self._meta.order + "II", page, start + 4)
            return self._overflow(pgno, total)
        if kind in (_H_DUPLICATE, _H_OFFDUP):
            raise _PageError("duplicate items, which rpm never writes")
        raise _PageError(f"unknown item kind {kind}")

    def _overflow(self, pgno: int, total: int) -> bytes:
        meta = self._meta
        if total == 0 or total > meta.npages * meta.pagesize:
            raise _PageError(f"implausible off-page length {total}")
        out = bytearray()
        while len(out) < total:
            if not pgno:
                raise _PageError(f"overflow chain ends after {len(out)} of {total} bytes")
            page = self._page(pgno)
            if page[25] != _P_OVERFLOW:
                raise _PageError(f"page {pgno} has type {page[25]}, not an overflow page")
            length = self._u16.unpack_from(page, 22)[0]
            if length == 0 or meta.overhead + length > meta.pagesize or len(out) + length > total:
                raise _PageError(f"overflow page {pgno} holds an implausible {length} bytes")
            out += page[meta.overhead : meta.overhead + length]
            pgno = self._u32.unpack_from(page, 16)[0]
        return bytes(out)


def read_bdb(data: BinaryIO, size: int) -> Iterator[DbItem]:
    """The records of a BerkeleyDB hash ``Packages`` file; raises CatalogError when its metadata is unusable."""
    return BdbHashReader(data, size).items()
