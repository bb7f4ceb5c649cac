"""Real rpm databases from distribution images (shared/data/real-pkgdbs) against their expected package lists."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

from imagescan.catalog.rpm import RpmCataloger
from imagescan.catalog.rpm.record import GPG_PUBKEY
from imagescan.catalog.rpm.rpmdb import DbFormat, read_rpmdb
from imagescan.models import PackageType

FIELDS = ("name", "epoch", "version", "release", "arch", "source_rpm", "license", "vendor")
FORMATS = {"rpm-bdb": DbFormat.BDB, "rpm-ndb": DbFormat.NDB, "rpm-sqlite": DbFormat.SQLITE}
SOURCE_RPM = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<release>[^-]+)\.(?:no)?src\.rpm$")


def _db_file(case: dict[str, Any]) -> Path:
    return Path(case["_dir"]) / Path(case["file"]).name


def _expected(case: dict[str, Any], with_gpg_pubkey: bool) -> list[dict[str, Any]]:
    return [p for p in case["packages"] if with_gpg_pubkey or p["name"] != GPG_PUBKEY]


def test_reader_matches_expected_list(real_case: dict[str, Any]) -> None:
    """Every header, compared field by field, as a multiset and in database order."""
    db = _db_file(real_case)
    with db.open("rb") as fh:
        contents = read_rpmdb(fh, db.stat().st_size)
    assert contents.format == FORMATS[real_case["format"]]
    assert contents.notes == []
    with_keys = bool(real_case.get("includes_gpg_pubkey"))
    expected = _expected(real_case, with_keys)
    got = [
        {f: getattr(r, f) for f in FIELDS} for r in contents.records if with_keys or r.name != GPG_PUBKEY
    ]
    key = lambda p: tuple(p[f] for f in FIELDS)  # noqa: E731
    assert Counter(map(key, got)) == Counter(map(key, expected))
    assert [(p["name"], p["version"], p["arch"]) for p in got] == [
        (p["name"], p["version"], p["arch"]) for p in expected
    ]
    if not with_keys:
        # the lists that leave gpg-pubkey out say so; make sure that is the only difference
        assert all(r.name == GPG_PUBKEY for r in contents.records if r.name not in {p["name"] for p in expected})


def test_cataloger_packages(real_case: dict[str, Any]) -> None:
    """The cataloger's packages: the expected list minus gpg-pubkey, mapped onto :class:`Package`."""
    db = _db_file(real_case)
    path = "var/lib/rpm/" + db.name
    cataloger = RpmCataloger()
    assert cataloger.wants(path)
    data = db.read_bytes()
    record = cataloger.parse(path, io.BytesIO(data), len(data))
    assert record is not None
    assert record.cataloger == "rpm" and record.path == path and record.notes == []
    expected: Counter[tuple[Any, ...]] = Counter()
    for p in _expected(real_case, with_gpg_pubkey=False):
        source = SOURCE_RPM.match(p["source_rpm"] or "")
        assert source, p
        expected[(
            p["name"], p["epoch"], f"{p['version']}-{p['release']}", p["arch"], source["name"],
            f"{source['version']}-{source['release']}", p["license"], p["vendor"],
        )] += 1
    got = Counter(
        (pkg.name, pkg.epoch, pkg.version, pkg.arch, pkg.source_name, pkg.source_version, pkg.license, pkg.vendor)
        for pkg in record.packages
    )
    assert got == expected
    assert all(pkg.type == PackageType.RPM and pkg.path == path for pkg in record.packages)
    assert all(not f.startswith("/") and f for pkg in record.packages for f in pkg.files)
    assert sum(len(pkg.files) for pkg in record.packages) > 0


def test_spot_checks(real_case: dict[str, Any]) -> None:
    """Records a scanner project asserted on its own (cbl-mariner's curl)."""
    db = _db_file(real_case)
    with db.open("rb") as fh:
        records = read_rpmdb(fh, db.stat().st_size).records
    for spot in real_case.get("spot_check", []):
        matches = [r for r in records if r.name == spot["name"]]
        assert len(matches) == 1
        assert {f: getattr(matches[0], f) for f in FIELDS} == {f: spot[f] for f in FIELDS}
