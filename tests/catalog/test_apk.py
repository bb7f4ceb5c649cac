"""The apk cataloger against real ``lib/apk/db/installed`` files (shared data) and bad input."""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.apk import INSTALLED_PATH, ApkCataloger, parse_installed
from imagescan.catalog.base import CatalogError
from imagescan.models import Package, PackageType, PathRecord

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
APK = SHARED / "data" / "real-pkgdbs" / "apk"
CATALOGER = ApkCataloger()
CASES = sorted(p.name for p in APK.iterdir() if (p / "expected.json").is_file()) if APK.is_dir() else []


def run(data: bytes) -> PathRecord:
    record = CATALOGER.parse(INSTALLED_PATH, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "apk" and record.path == INSTALLED_PATH
    return record


def ours(pkg: Package, field: str) -> str | None:
    return {
        "name": pkg.name, "version": pkg.version, "arch": pkg.arch, "origin": pkg.source_name,
        "license": pkg.license, "license_raw": pkg.license, "maintainer": pkg.maintainer,
    }[field]


def test_shared_data_is_present() -> None:
    assert CASES, f"real apk databases not found under {APK}"


@pytest.mark.parametrize("case", CASES)
def test_real_installed_files(case: str) -> None:
    exp: dict[str, Any] = json.loads((APK / case / "expected.json").read_text())
    entries: list[dict[str, Any]] = exp["packages"]
    packages = run((APK / case / "installed").read_bytes()).packages
    assert len(packages) == exp["package_count"]
    assert all(p.type == PackageType.APK and p.path == INSTALLED_PATH for p in packages)
    # every field the expectation asserts for all of its entries (alpine-2.6.6 has only name, version, origin)
    fields = [f for f in ("name", "version", "arch", "origin", "license", "license_raw", "maintainer")
              if all(f in e for e in entries)]
    assert {"name", "version", "origin"} <= set(fields)
    assert Counter(tuple(ours(p, f) for f in fields) for p in packages) == Counter(
        tuple(e[f] for f in fields) for e in entries)
    by_name = {p.name: p for p in packages}
    for entry in entries:
        if "installed_files" in entry:
            assert by_name[entry["name"]].files == entry["installed_files"], entry["name"]


def test_record_without_version_is_skipped() -> None:
    data = (APK / "alpine-3.4-edited" / "installed").read_bytes()
    assert b"P:invalidPackageWithoutAVersion" in data
    assert "invalidPackageWithoutAVersion" not in {p.name for p in parse_installed(data)}


def test_files_and_fields() -> None:
    data = (
        b"C:Q1abc=\nP:busybox\nV:1.36.1-r2\nA:aarch64\nL:GPL-2.0-only\nm:Someone <s@x>\n"
        b"R:at-root\nF:bin\nR:busybox\na:0:0:755\nZ:Q1x=\nF:\nR:top\nF:/etc/\nR:motd\nF:usr/share\n\n"
        b"P:ssl_client\nV:1.36.1-r2\no:busybox\n"
    )
    first, second = parse_installed(data)
    assert (first.name, first.version, first.arch, first.license, first.maintainer, first.source_name) == (
        "busybox", "1.36.1-r2", "aarch64", "GPL-2.0-only", "Someone <s@x>", "busybox")
    assert first.files == ["at-root", "bin/busybox", "top", "etc/motd"]
    assert (second.name, second.source_name, second.arch, second.license, second.files) == (
        "ssl_client", "busybox", None, None, [])


def test_crlf_missing_blank_line_and_no_trailing_newline() -> None:
    data = b"P:a\r\nV:1\r\n\r\nP:b\r\nV:2\r\nP:c\r\nV:3"
    assert [(p.name, p.version) for p in parse_installed(data)] == [("a", "1"), ("b", "2"), ("c", "3")]
    assert parse_installed(b"") == [] and parse_installed(b"\n\n\n") == []


def test_first_value_wins_and_latin1() -> None:
    (pkg,) = parse_installed(b"P:a\nV:1\nV:2\nm:Timo Ter\xe4s <t@x>\n")
    assert pkg.version == "1" and pkg.maintainer == "Timo Teräs <t@x>"


@pytest.mark.parametrize("data", [b"P:a\nV:1\nnot a field\n", b"P:a\nx\n", b"P:a\x00\nV:1\n"])
def test_malformed_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError):
        run(data)


def test_wants() -> None:
    assert CATALOGER.wants("lib/apk/db/installed")
    for path in ("/lib/apk/db/installed", "lib/apk/db/installed.old", "usr/lib/apk/db/installed",
                 "lib/apk/db/scripts.tar"):
        assert not CATALOGER.wants(path)
    assert CATALOGER.parse("etc/passwd", io.BytesIO(b""), 0) is None


def _parse_or_error(data: bytes) -> None:
    try:
        record = run(data)
    except CatalogError:
        return
    for pkg in record.packages:
        assert pkg.name and pkg.version and pkg.source_name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _parse_or_error(data)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.sampled_from(["P:a", "V:1", "A:x86_64", "o:", "F:d", "R:f", "R:", "F:", "", "\r", "x",
                                       "::", "P:", "V:"]), max_size=30))
def test_random_record_shaped_text(lines: list[str]) -> None:
    _parse_or_error("\n".join(lines).encode())


_REAL = (APK / "alpine-3.18.0" / "installed").read_bytes()[:5000] if CASES else b""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(st.tuples(st.integers(0, 5000), st.binary(max_size=6), st.integers(0, 8)), max_size=8))
def test_mutated_real_file(edits: list[tuple[int, bytes, int]]) -> None:
    data = _REAL
    for pos, insert, delete in edits:
        pos %= len(data) + 1
        data = data[:pos] + insert + data[pos + delete:]
    _parse_or_error(data)
