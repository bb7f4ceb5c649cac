"""Damage to real databases: one bad page, slot or row costs only its records; an unusable file raises
CatalogError. Nothing else escapes and nothing loops."""

from __future__ import annotations

import io
import shutil
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm.rpmdb import MAX_NOTES, RpmDbContents, read_rpmdb

SLES = "rpm-bdb/sles-12-sp4/Packages"
BCI = "rpm-ndb/sle-15-sp3-bci/Packages.db"
FEDORA = "rpm-sqlite/fedora-38-trimmed/rpmdb.sqlite"
MARINER = "rpm-sqlite/cbl-mariner-2.0/rpmdb.sqlite"


def _read(data: bytes) -> RpmDbContents:
    return read_rpmdb(io.BytesIO(data), len(data))


def _pages(data: bytes, pagesize: int = 4096) -> Iterator[tuple[int, int]]:
    """(page number, page type) of every page after the metadata page (little-endian file)."""
    for pgno in range(1, len(data) // pagesize):
        yield pgno, data[pgno * pagesize + 25]


# --- BerkeleyDB ---------------------------------------------------------------------------------------------


def test_bdb_bad_overflow_page_costs_one_record(real_dir: Path) -> None:
    data = bytearray((real_dir / SLES).read_bytes())
    total = len(_read(bytes(data)).records)
    pgno = next(p for p, t in _pages(bytes(data)) if t == 7)
    data[pgno * 4096 + 25] = 0
    contents = _read(bytes(data))
    assert len(contents.records) == total - 1
    assert len(contents.notes) == 1 and "not an overflow page" in contents.notes[0]


def test_bdb_loop_in_bucket_chain_ends(real_dir: Path) -> None:
    data = bytearray((real_dir / SLES).read_bytes())
    total = len(_read(bytes(data)).records)
    pgno = next(p for p, t in _pages(bytes(data)) if t == 13)
    struct.pack_into("<I", data, pgno * 4096 + 16, pgno)  # the page's next page is itself
    contents = _read(bytes(data))
    assert len(contents.records) <= total
    assert any("linked twice" in note for note in contents.notes)


def _offpage_values(data: bytes, pgno: int) -> list[int]:
    """Page offsets of the off-page values of records with a non-zero key on hash page ``pgno``."""
    page = pgno * 4096
    count = struct.unpack_from("<H", data, page + 20)[0]
    offsets = struct.unpack_from(f"<{count}H", data, page + 26)
    found = []
    for i in range(0, count - 1, 2):
        key_off, value_off = page + offsets[i], page + offsets[i + 1]
        if data[key_off] == 1 and data[key_off + 1 : key_off + 5] != b"\0\0\0\0" and data[value_off] == 3:
            found.append(value_off)
    return found


def test_bdb_shared_overflow_chain_is_read_once(real_dir: Path) -> None:
    """Two items pointing at the same overflow chain: the second is a damaged record, not a second copy."""
    data = bytearray((real_dir / SLES).read_bytes())
    total = len(_read(bytes(data)).records)
    first, second = _offpage_values(bytes(data), 1)[:2]
    data[second : second + 12] = data[first : first + 12]
    contents = _read(bytes(data))
    assert len(contents.records) == total - 1 and "linked twice" in contents.notes[0]


def test_bdb_truncated_file(real_dir: Path) -> None:
    data = (real_dir / SLES).read_bytes()
    contents = _read(data[: len(data) // 2])
    assert 0 < len(contents.records) < 108
    assert contents.notes and len(contents.notes) <= MAX_NOTES + 1


def test_bdb_duplicate_item_is_skipped(real_dir: Path) -> None:
    data = bytearray((real_dir / SLES).read_bytes())
    data[_offpage_values(bytes(data), 1)[0]] = 2  # H_DUPLICATE
    contents = _read(bytes(data))
    assert len(contents.records) == 107 and "duplicate" in contents.notes[0]


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "message"),
    [
        (16, "<I", 3, "unsupported hash version"),
        (20, "<I", 1000, "invalid page size"),
        (24, "<B", 1, "encrypted"),
        (25, "<B", 9, "not a hash metadata page"),
        (48, "<I", 2, "sub-databases"),
        (72, "<I", 10**6, "buckets cannot fit"),
    ],
)
def test_bdb_bad_metadata_raises(real_dir: Path, offset: int, fmt: str, value: int, message: str) -> None:
    data = bytearray((real_dir / SLES).read_bytes())
    struct.pack_into(fmt, data, offset, value)
    with pytest.raises(CatalogError, match=message):
        _read(bytes(data))


def test_bdb_metadata_only(real_dir: Path) -> None:
    data = (real_dir / SLES).read_bytes()
    with pytest.raises(CatalogError):
        _read(data[:300])
    with pytest.raises(CatalogError, match="buckets cannot fit"):
        _read(data[:4096])


# --- ndb ------------------------------------------------------------------------------------------------------


def _ndb_slots(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """(slot offset, package index, block offset, block count) of every used slot."""
    pages = struct.unpack_from("<I", data, 12)[0]
    for off in range(32, pages * 4096, 16):
        _magic, index, blkoff, blkcnt = struct.unpack_from("<4sIII", data, off)
        if blkoff:
            yield off, index, blkoff, blkcnt


def test_ndb_corrupt_blob_costs_one_record(real_dir: Path) -> None:
    data = bytearray((real_dir / BCI).read_bytes())
    _, _, blkoff, _ = next(_ndb_slots(bytes(data)))
    data[blkoff * 16 + 100] ^= 0xFF
    contents = _read(bytes(data))
    assert len(contents.records) == 34 and "checksum" in contents.notes[0]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [(0, b"Slox", "bad slot magic"), (8, struct.pack("<I", 2**31), "past the end"),
     (4, struct.pack("<I", 999), "belongs to package"), (12, struct.pack("<I", 1), "invalid slot"),
     (8, struct.pack("<I", 1), "invalid slot")],
)
def test_ndb_bad_slot_costs_one_record(real_dir: Path, field: int, value: bytes, message: str) -> None:
    data = bytearray((real_dir / BCI).read_bytes())
    off, *_ = next(_ndb_slots(bytes(data)))
    data[off + field : off + field + len(value)] = value
    contents = _read(bytes(data))
    assert len(contents.records) == 34 and message in contents.notes[0]


def test_ndb_bad_header_raises(real_dir: Path) -> None:
    data = (real_dir / BCI).read_bytes()
    with pytest.raises(CatalogError, match="version"):
        _read(data[:4] + struct.pack("<I", 1) + data[8:])
    with pytest.raises(CatalogError, match="slot pages"):
        _read(data[:12] + struct.pack("<I", 10**6) + data[16:])
    with pytest.raises(CatalogError, match="too short"):
        _read(data[:20])


# --- SQLite ---------------------------------------------------------------------------------------------------


def _edit_sqlite(src: Path, tmp_path: Path, *statements: str) -> bytes:
    db = tmp_path / "rpmdb.sqlite"
    shutil.copy(src, db)
    with closing(sqlite3.connect(db)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.execute("PRAGMA journal_mode=DELETE")  # rpm's databases use WAL: fold it into the file
    return db.read_bytes()


def test_sqlite_bad_row_costs_one_record(real_dir: Path, tmp_path: Path) -> None:
    data = _edit_sqlite(real_dir / MARINER, tmp_path,
                        "UPDATE Packages SET blob = x'00000001' WHERE hnum = (SELECT MIN(hnum) FROM Packages)",
                        "UPDATE Packages SET blob = 'text' WHERE hnum = (SELECT MAX(hnum) FROM Packages)")
    contents = _read(data)
    assert len(contents.records) == 127
    assert len(contents.notes) == 2 and "not bytes" in contents.notes[1]


def test_sqlite_all_rows_bad_raises(real_dir: Path, tmp_path: Path) -> None:
    data = _edit_sqlite(real_dir / FEDORA, tmp_path, "UPDATE Packages SET blob = x'0102'")
    with pytest.raises(CatalogError, match="no readable package header"):
        _read(data)


def test_sqlite_without_packages_table_raises(real_dir: Path, tmp_path: Path) -> None:
    data = _edit_sqlite(real_dir / FEDORA, tmp_path, "DROP TABLE Packages")
    with pytest.raises(CatalogError, match="no Packages table"):
        _read(data)


def test_sqlite_empty_packages_table(real_dir: Path, tmp_path: Path) -> None:
    data = _edit_sqlite(real_dir / FEDORA, tmp_path, "DELETE FROM Packages")
    contents = _read(data)
    assert contents.records == [] and contents.notes == []


def test_sqlite_garbage_after_magic_raises() -> None:
    with pytest.raises(CatalogError, match="sqlite"):
        _read(b"SQLite format 3\x00" + b"\xff" * 4000)


def test_sqlite_corrupt_pages(real_dir: Path) -> None:
    """Overwritten pages: SQLite's own error becomes CatalogError or a note; what is read is still right."""
    original = (real_dir / MARINER).read_bytes()
    whole = {(r.name, r.version, r.release) for r in _read(original).records}
    data = bytearray(original)
    data[len(data) // 2 : len(data) // 2 + 200_000] = b"\xa5" * 200_000
    try:
        contents = _read(bytes(data))
    except CatalogError:
        return
    assert {(r.name, r.version, r.release) for r in contents.records} <= whole
    assert len(contents.records) == len(whole) or contents.notes


def test_unknown_format_raises() -> None:
    with pytest.raises(CatalogError, match="not an rpm database"):
        _read(b"\x00" * 8192)
