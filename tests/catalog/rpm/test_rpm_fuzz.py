"""Property tests: random bytes and mutated real headers, pages, slots and SQLite files only ever give a result or
CatalogError — no other exception, no hang (each example has a deadline)."""

from __future__ import annotations

import io
import struct
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.rpm import RpmCataloger
from imagescan.catalog.rpm.blobs import HeaderBlob
from imagescan.catalog.rpm.header import RpmHeader
from imagescan.catalog.rpm.record import record_from_header
from imagescan.catalog.rpm.rpmdb import read_items, read_rpmdb
from imagescan.catalog.rpm.sqlite import read_sqlite
from imagescan.models import PathRecord

FUZZ = settings(
    max_examples=120, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow],
)
SMALL_DBS = {
    "bdb": "rpm-bdb/single-third-party-dive/Packages",
    "bdb-epoch": "rpm-bdb/fedora-32-custom-epoch/Packages",
    "ndb": "rpm-ndb/sle-15-sp3-three-packages/Packages.db",
    "sqlite": "rpm-sqlite/fedora-38-trimmed/rpmdb.sqlite",
}

Mutation = list[tuple[int, int]]
mutations = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=24)


def _mutate(data: bytes, changes: Mutation, cut: int | None, limit: int | None = None) -> bytes:
    out = bytearray(data)
    span = min(len(out), limit or len(out))
    for pos, value in changes:
        out[pos % span] = value
    return bytes(out[:cut] if cut is not None else out)


def _parse(data: bytes) -> PathRecord | None:
    try:
        return RpmCataloger().parse("var/lib/rpm/Packages", io.BytesIO(data), len(data))
    except CatalogError:
        return None


@pytest.fixture(scope="session")
def small_dbs(real_dir: Path) -> dict[str, bytes]:
    return {key: (real_dir / rel).read_bytes() for key, rel in SMALL_DBS.items()}


@pytest.fixture(scope="session")
def real_headers(real_dir: Path) -> list[bytes]:
    blobs: list[bytes] = []
    for rel in SMALL_DBS.values():
        path = real_dir / rel
        with path.open("rb") as fh:
            _, items = read_items(fh, path.stat().st_size)
            blobs += [item.data for item in items if isinstance(item, HeaderBlob)]
    assert len(blobs) >= 6
    return blobs


@FUZZ
@given(st.binary(max_size=8192))
def test_random_bytes(data: bytes) -> None:
    _parse(data)


@FUZZ
@given(
    st.sampled_from([
        b"SQLite format 3\x00",
        b"RpmP" + struct.pack("<IIII", 0, 1, 1, 1),
        b"\0" * 12 + struct.pack("<IIIBBBB", 0x061561, 9, 512, 0, 8, 0, 0),
        b"\0" * 12 + struct.pack(">IIIBBBB", 0x061561, 9, 512, 0, 8, 1, 0),
    ]),
    st.binary(max_size=6000),
)
def test_random_bytes_behind_a_magic(prefix: bytes, rest: bytes) -> None:
    _parse(prefix + rest)


@FUZZ
@given(st.sampled_from(sorted(SMALL_DBS)), mutations, st.none() | st.integers(min_value=0, max_value=400_000))
def test_mutated_databases(small_dbs: dict[str, bytes], key: str, changes: Mutation, cut: int | None) -> None:
    data = small_dbs[key]
    # the metadata, slot pages and first hash pages hold most structure: aim half of the changes there
    result = _parse(_mutate(data, changes, cut, limit=8192 if changes[0][1] % 2 else None))
    if result is not None:
        for package in result.packages:
            assert package.name and package.version


@FUZZ
@given(st.integers(min_value=0), mutations, st.none() | st.integers(min_value=0, max_value=100_000))
def test_mutated_headers(real_headers: list[bytes], which: int, changes: Mutation, cut: int | None) -> None:
    blob = real_headers[which % len(real_headers)]
    il = struct.unpack_from(">I", blob, 0)[0]
    mutated = _mutate(blob, changes, cut, limit=8 + 16 * il + 64 if changes[0][1] % 2 else None)
    try:
        record = record_from_header(RpmHeader.parse(mutated))
    except CatalogError:
        return
    assert record.name and all(isinstance(f, str) for f in record.files)


@settings(max_examples=25, deadline=timedelta(seconds=5))
@given(mutations)
def test_mutated_sqlite_rows(small_dbs: dict[str, bytes], changes: Mutation) -> None:
    """Mutations past the first SQLite page, where the rows live."""
    data = bytearray(small_dbs["sqlite"])
    for pos, value in changes:
        data[4096 + pos % (len(data) - 4096)] = value
    try:
        contents = read_rpmdb(io.BytesIO(bytes(data)), len(data))
    except CatalogError:
        return
    assert len(contents.records) <= 2


def test_sqlite_reader_cleans_up(small_dbs: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    data = small_dbs["sqlite"]
    items = read_sqlite(io.BytesIO(data), len(data))
    assert len(list(tmp_path.iterdir())) == 1
    assert len(list(items)) == 2
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CatalogError):
        read_sqlite(io.BytesIO(b"SQLite format 3\x00" + bytes(100)), 116)
    assert list(tmp_path.iterdir()) == []
