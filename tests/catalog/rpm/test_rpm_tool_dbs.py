"""Databases written by the real rpm tools (scripts/fixtures/rpmdb.py) against what ``rpm -qa`` / ``rpm -ql``
read from them."""

from __future__ import annotations

import io
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from imagescan.catalog.rpm import RpmCataloger
from imagescan.catalog.rpm.record import GPG_PUBKEY, RpmRecord
from imagescan.catalog.rpm.rpmdb import DbFormat, read_rpmdb

FIELDS = ("name", "epoch", "version", "release", "arch", "source_rpm", "license", "vendor")
BDB_VARIANTS = ("bdb-le", "bdb-be", "bdb-chksum")
Query = Callable[[Sequence[str]], list[dict[str, Any]]]
FileQuery = Callable[[Sequence[str]], dict[str, list[str]]]


def _records(path: Path) -> tuple[DbFormat, list[RpmRecord]]:
    with path.open("rb") as fh:
        contents = read_rpmdb(fh, path.stat().st_size)
    assert contents.notes == []
    return contents.format, contents.records


def _rows(records: list[RpmRecord]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(getattr(r, f) for f in FIELDS) for r in records)


def _tool_rows(rows: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(row[f] for f in FIELDS) for row in rows)


def test_fixture_covers_the_cases(tool_dbs: Any, rpm_query: Query) -> None:
    rows = rpm_query(tool_dbs.rpm_sqlite_args())
    assert len(rows) == tool_dbs.manifest["packages"] >= 5
    assert any(r["epoch"] == 0 for r in rows) and any((r["epoch"] or 0) > 0 for r in rows)
    assert {r["arch"] for r in rows} >= {"noarch", "x86_64", "aarch64"}
    assert any(r["source_rpm"] and not r["source_rpm"].startswith(f"{r['name']}-") for r in rows)
    assert any(r["vendor"] is None and r["name"] != GPG_PUBKEY for r in rows)
    assert any(not (r["license"] or "").isascii() for r in rows)


def test_sqlite_matches_rpm(tool_dbs: Any, rpm_query: Query) -> None:
    fmt, records = _records(tool_dbs.sqlite_file)
    assert fmt == DbFormat.SQLITE
    tool = rpm_query(tool_dbs.rpm_sqlite_args())
    assert _rows(records) == _tool_rows(tool)
    assert [r.name for r in records] == [row["name"] for row in tool]  # both in header-number order


@pytest.mark.parametrize("variant", BDB_VARIANTS)
def test_bdb_matches_rpm(tool_dbs: Any, rpm_query: Query, variant: str) -> None:
    fmt, records = _records(tool_dbs.bdb_file(variant))
    assert fmt == DbFormat.BDB
    if tool_dbs.manifest["bdb"][variant]["rpm_readable"]:
        tool = rpm_query(tool_dbs.rpm_bdb_args(variant))
    else:  # rpm's bdb_ro cannot read checksummed pages: compare with the same headers in the SQLite database
        tool = rpm_query(tool_dbs.rpm_sqlite_args())
    assert _rows(records) == _tool_rows(tool)


def test_bdb_variants_hold_the_same_headers(tool_dbs: Any) -> None:
    _, sqlite_records = _records(tool_dbs.sqlite_file)
    for variant in BDB_VARIANTS:
        _, records = _records(tool_dbs.bdb_file(variant))
        assert sorted(records, key=lambda r: r.name) == sorted(sqlite_records, key=lambda r: r.name)


@pytest.mark.parametrize("db", ["sqlite", "bdb-le", "bdb-be"])
def test_file_lists_match_rpm_ql(tool_dbs: Any, rpm_files: FileQuery, db: str) -> None:
    if db == "sqlite":
        path, args = tool_dbs.sqlite_file, tool_dbs.rpm_sqlite_args()
    else:
        path, args = tool_dbs.bdb_file(db), tool_dbs.rpm_bdb_args(db)
    data = path.read_bytes()
    record = RpmCataloger().parse("var/lib/rpm/" + path.name, io.BytesIO(data), len(data))
    assert record is not None
    by_name = {p.name: p for p in record.packages}
    assert GPG_PUBKEY not in by_name
    tool = rpm_files(args)
    assert set(tool) == set(by_name) | ({GPG_PUBKEY} if tool_dbs.manifest["gpg_pubkey"] else set())
    for name, package in by_name.items():
        assert ["/" + f for f in package.files] == tool[name], name
    assert sum(len(p.files) for p in record.packages) > 300  # the many-files package is among them
    assert by_name["imgscan-delta"].files == []
    assert "usr/bin/imgscan-beta-link" in by_name["imgscan-beta"].files


def test_file_lists_match_rpm_ql_by_name(tool_dbs: Any) -> None:
    data = tool_dbs.sqlite_file.read_bytes()
    record = RpmCataloger().parse("var/lib/rpm/rpmdb.sqlite", io.BytesIO(data), len(data))
    assert record is not None
    by_name = {p.name: p for p in record.packages}
    for name in ("imgscan-alpha", "imgscan-beta", "libgamma"):
        proc = subprocess.run([*tool_dbs.rpm_sqlite_args(), "-ql", name], capture_output=True, text=True, check=True)
        assert ["/" + f for f in by_name[name].files] == proc.stdout.splitlines()


def test_cataloger_fields(tool_dbs: Any) -> None:
    data = tool_dbs.sqlite_file.read_bytes()
    record = RpmCataloger().parse("usr/lib/sysimage/rpm/rpmdb.sqlite", io.BytesIO(data), len(data))
    assert record is not None
    by_name = {p.name: p for p in record.packages}
    alpha = by_name["imgscan-alpha"]
    assert (alpha.version, alpha.epoch, alpha.arch) == ("1.2.3-4.fc99", 2, "noarch")
    assert (alpha.source_name, alpha.source_version) == ("imgscan-alpha", "1.2.3-4.fc99")
    assert alpha.files == [
        "etc/imgscan-alpha.conf", "usr/share/imgscan-alpha", "usr/share/imgscan-alpha/one.txt",
        "usr/share/imgscan-alpha/two.txt",
    ]
    lib = by_name["libgamma"]
    assert (lib.source_name, lib.source_version, lib.arch) == ("imgscan-gamma", "3.0.1-7.el9_2", "x86_64")
    assert lib.license == "Zlib AND Ünicode-DFS-2016" and lib.vendor == "Ïmagescan Tëst Vendor"
    assert by_name["imgscan-delta"].epoch == 0
    assert by_name["imgscan-beta"].vendor is None and by_name["imgscan-beta"].arch == "aarch64"
    assert all(p.path == "usr/lib/sysimage/rpm/rpmdb.sqlite" for p in record.packages)
