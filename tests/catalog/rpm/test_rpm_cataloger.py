"""The cataloger contract: paths it wants, what parse returns, gpg-pubkey, notes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from imagescan.catalog.base import Cataloger, CatalogError
from imagescan.catalog.rpm import RpmCataloger

WANTED = [
    f"{d}/{f}"
    for d in ("var/lib/rpm", "usr/lib/sysimage/rpm", "usr/share/rpm")
    for f in ("Packages", "Packages.db", "rpmdb.sqlite")
]


def test_is_a_cataloger() -> None:
    cataloger: Cataloger = RpmCataloger()
    assert cataloger.name == "rpm" and cataloger.version >= 1
    assert cataloger.max_file_size >= 256 * 1024 * 1024


@pytest.mark.parametrize("path", WANTED)
def test_wants(path: str) -> None:
    assert RpmCataloger().wants(path)


@pytest.mark.parametrize(
    "path",
    [
        "/var/lib/rpm/Packages", "var/lib/rpm/Name", "var/lib/rpm/Index.db", "var/lib/rpm/rpmdb.sqlite-wal",
        "var/lib/rpm/rpmdb.sqlite-shm", "var/lib/rpm/__db.001", "opt/var/lib/rpm/Packages", "var/lib/rpm",
        "var/lib/dpkg/status", "root/.rpmdb/rpmdb.sqlite", "var/lib/rpm/packages",
    ],
)
def test_does_not_want(path: str) -> None:
    assert not RpmCataloger().wants(path)


def test_empty_file_is_nothing() -> None:
    assert RpmCataloger().parse("var/lib/rpm/Packages", io.BytesIO(b""), 0) is None


def test_garbage_raises() -> None:
    data = b"this is not a database" * 100
    with pytest.raises(CatalogError):
        RpmCataloger().parse("var/lib/rpm/Packages", io.BytesIO(data), len(data))


def test_format_from_content_not_name(real_dir: Path) -> None:
    """An ndb file under the BerkeleyDB name (and so on) is still read by its content."""
    data = (real_dir / "rpm-ndb/sle-15-sp3-three-packages/Packages.db").read_bytes()
    record = RpmCataloger().parse("var/lib/rpm/rpmdb.sqlite", io.BytesIO(data), len(data))
    assert record is not None and len(record.packages) == 3


def test_gpg_pubkey_left_out(real_dir: Path) -> None:
    data = (real_dir / "rpm-bdb/rhel-8.0-container/Packages").read_bytes()
    record = RpmCataloger().parse("var/lib/rpm/Packages", io.BytesIO(data), len(data))
    assert record is not None
    assert len(record.packages) == 99  # 101 headers, 2 of them gpg-pubkey
    assert all(p.name != "gpg-pubkey" and p.arch for p in record.packages)


def test_damage_is_noted(real_dir: Path) -> None:
    data = bytearray((real_dir / "rpm-ndb/sle-15-sp3-three-packages/Packages.db").read_bytes())
    data[32] ^= 0xFF  # first slot's magic
    record = RpmCataloger().parse("var/lib/rpm/Packages.db", io.BytesIO(bytes(data)), len(data))
    assert record is not None
    assert len(record.packages) == 2
    assert record.notes == ["slot 2: bad slot magic"]
    assert record.model_dump()["notes"] == record.notes  # travels with the layer result
