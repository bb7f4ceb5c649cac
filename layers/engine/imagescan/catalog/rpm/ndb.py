"""Reader of rpm's own "ndb" package database, ``Packages.db`` (SUSE since SLE 15 / openSUSE Leap 15).

Layout (rpm ``lib/backend/ndb/rpmpkg.c``; all integers little-endian, sizes in 16-byte blocks):

* the file starts with a 32-byte header: magic ``RpmP``, version 0, generation, number of slot pages, next
  package index;
* the slot pages (4096 bytes each, the first one after the header) hold 16-byte slots: magic ``Slot``, package
  index, block offset, block count. A block offset of 0 marks a free slot;
* each blob sits at ``block offset * 16``: a 16-byte head (magic ``BlbS``, package index, generation, length),
  the header blob, zero padding to a block boundary, and a 12-byte tail (adler32 of everything before the tail,
  length, magic ``BlbE``).

A damaged slot or blob costs only its package.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.blobs import DbItem, HeaderBlob, SkippedRecord, read_at

MAGIC = b"RpmP"
_SLOT_MAGIC = b"Slot"
_BLOB_HEAD_MAGIC = b"BlbS"
_BLOB_TAIL_MAGIC = b"BlbE"
_HEADER_SIZE = 32
_PAGE_SIZE = 4096
_SLOT_SIZE = 16
_BLOCK = 16
_BLOB_HEAD = 16
_BLOB_TAIL = 12
_HEADER = struct.Struct("<4sIIII")
_SLOT = struct.Struct("<4sIII")
_BLOB_HEAD_STRUCT = struct.Struct("<4sIII")
_BLOB_TAIL_STRUCT = struct.Struct("<II4s")


def _blocks_for(length: int) -> int:
    return (_BLOB_HEAD + length + _BLOB_TAIL + _BLOCK - 1) // _BLOCK


def read_ndb(data: BinaryIO, size: int) -> Iterator[DbItem]:
    """The records of an ndb ``Packages.db``; raises CatalogError when its header or slot area is unusable."""
    head = read_at(data, 0, _HEADER_SIZE)
    if len(head) < _HEADER_SIZE:
        raise CatalogError("rpm ndb: file too short for the database header")
    magic, version, _generation, slot_pages, _next_index = _HEADER.unpack_from(head, 0)
    if magic != MAGIC:
        raise CatalogError("rpm ndb: not an ndb Packages.db (bad magic)")
    if version != 0:
        raise CatalogError(f"rpm ndb: unsupported version {version}")
    if slot_pages == 0 or slot_pages * _PAGE_SIZE > size:
        raise CatalogError(f"rpm ndb: {slot_pages} slot pages do not fit in {size} bytes")
    return _items(data, size, slot_pages)


def _items(data: BinaryIO, size: int, slot_pages: int) -> Iterator[DbItem]:
    first_blob_block = slot_pages * _PAGE_SIZE // _BLOCK
    file_blocks = size // _BLOCK
    slot_area = read_at(data, 0, slot_pages * _PAGE_SIZE)
    if len(slot_area) != slot_pages * _PAGE_SIZE:
        raise CatalogError("rpm ndb: slot pages truncated")
    for slot_no in range(_HEADER_SIZE // _SLOT_SIZE, slot_pages * _PAGE_SIZE // _SLOT_SIZE):
        magic, pkg_index, block_offset, block_count = _SLOT.unpack_from(slot_area, slot_no * _SLOT_SIZE)
        where = f"slot {slot_no}"
        if magic != _SLOT_MAGIC:
            yield SkippedRecord(where, "bad slot magic")
            continue
        if block_offset == 0:
            continue
        if not pkg_index or block_offset < first_blob_block or block_count < _blocks_for(0):
            yield SkippedRecord(where, f"invalid slot (package {pkg_index}, block {block_offset}, {block_count})")
            continue
        if block_offset + block_count > file_blocks:
            yield SkippedRecord(where, f"package {pkg_index}: blob extends past the end of the file")
            continue
        region = read_at(data, block_offset * _BLOCK, block_count * _BLOCK)
        problem = _check_blob(region, pkg_index, block_count)
        if problem:
            yield SkippedRecord(where, f"package {pkg_index}: {problem}")
            continue
        length = _BLOB_HEAD_STRUCT.unpack_from(region, 0)[3]
        yield HeaderBlob(pkg_index, region[_BLOB_HEAD : _BLOB_HEAD + length])


def _check_blob(region: bytes, pkg_index: int, block_count: int) -> str | None:
    if len(region) != block_count * _BLOCK:
        return "blob truncated"
    magic, index, _generation, length = _BLOB_HEAD_STRUCT.unpack_from(region, 0)
    if magic != _BLOB_HEAD_MAGIC:
        return "bad blob head magic"
    if index != pkg_index:
        return f"blob belongs to package {index}"
    if _blocks_for(length) != block_count:
        return f"blob length {length} does not match {block_count} blocks"
    checksum, tail_length, tail_magic = _BLOB_TAIL_STRUCT.unpack_from(region, len(region) - _BLOB_TAIL)
    if tail_magic != _BLOB_TAIL_MAGIC or tail_length != length:
        return "bad blob tail"
    if zlib.adler32(region[: len(region) - _BLOB_TAIL]) != checksum:
        return "blob checksum mismatch"
    return None
