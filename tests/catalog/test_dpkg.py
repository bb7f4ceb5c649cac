"""The dpkg cataloger against real status files (shared data), the real dpkg (fixture script) and bad input."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.dpkg import (
    PRESENT_STATES,
    DpkgCataloger,
    owned_file_keys,
    parse_file_list,
    parse_md5sums,
    parse_stanzas,
    parse_status,
)
from imagescan.models import Package, PackageType, PathRecord
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
PKGDBS = SHARED / "data" / "real-pkgdbs"
FIXTURE_SCRIPT = REPO_ROOT / "scripts" / "fixtures" / "dpkg.sh"
CATALOGER = DpkgCataloger()


def run(path: str, data: bytes) -> PathRecord:
    assert CATALOGER.wants(path), path
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "dpkg" and record.path == path
    return record


def cases(fmt: str) -> list[str]:
    base = PKGDBS / fmt
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "expected.json").is_file())


def expected(fmt: str, case: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((PKGDBS / fmt / case / "expected.json").read_text())
    return result


def keyed(packages: list[Package]) -> Counter[tuple[str, str, str | None, str | None, str | None]]:
    return Counter((p.name, p.version, p.arch, p.source_name, p.source_version) for p in packages)


def expected_keyed(entries: list[dict[str, Any]]) -> Counter[tuple[str, str, str | None, str | None, str | None]]:
    return Counter((e["name"], e["version"], e["arch"], e["source"], e["source_version"]) for e in entries)


def test_shared_data_is_present() -> None:
    assert cases("dpkg") and cases("dpkg-status.d"), f"real package databases not found under {PKGDBS}"


@pytest.mark.parametrize("case", cases("dpkg"))
def test_real_status_files(case: str) -> None:
    exp = expected("dpkg", case)
    record = run("var/lib/dpkg/status", (PKGDBS / "dpkg" / case / "status").read_bytes())
    assert len(record.packages) == exp["package_count"]
    assert keyed(record.packages) == expected_keyed(exp["packages"])
    assert all(p.type == PackageType.DEB and p.path == "var/lib/dpkg/status" for p in record.packages)
    assert all(p.license is None and p.files == [] for p in record.packages)
    by_name = {p.name: p for p in record.packages}
    for entry in exp["packages"]:
        if "maintainer" in entry:
            assert by_name[entry["name"]].maintainer == entry["maintainer"]


def test_deinstalled_stanza_is_skipped() -> None:
    data = (PKGDBS / "dpkg" / "ubuntu-18.04" / "status").read_bytes()
    stanzas = {s["package"]: s for s in parse_stanzas(data)}
    assert stanzas["git"]["status"] == "deinstall ok config-files"
    assert "git" not in {p.name for p in parse_status(data)}


def test_epoch_and_source_version_are_kept() -> None:
    packages = parse_status((PKGDBS / "dpkg" / "ubuntu-18.04" / "status").read_bytes())
    epoch = [p for p in packages if ":" in p.version]
    assert epoch, "the Ubuntu 18.04 database has packages with an epoch"
    assert any(p.source_version != p.version for p in packages)


@pytest.mark.parametrize("case", cases("dpkg-status.d"))
def test_real_distroless_status_d(case: str) -> None:
    exp = expected("dpkg-status.d", case)
    folder = PKGDBS / "dpkg-status.d" / case / "status.d"
    packages: list[Package] = []
    owned: dict[str, list[str]] = {}
    for file in sorted(folder.iterdir()):
        record = run(f"var/lib/dpkg/status.d/{file.name}", file.read_bytes())
        packages += record.packages
        owned.update(record.owned_files)
    assert keyed(packages) == expected_keyed(exp["packages"])
    for entry in exp["packages"]:
        pkg = next(p for p in packages if p.name == entry["name"])
        if "status_d_file" in entry:
            assert pkg.path == "var/lib/dpkg/status.d/" + Path(entry["status_d_file"]).name
        if "maintainer" in entry:
            assert pkg.maintainer == entry["maintainer"]
        if "files_from_md5sums" in entry:
            key = next(k for k in owned_file_keys(pkg) if k in owned)
            assert owned[key] == [f["path"].lstrip("/") for f in entry["files_from_md5sums"]]


def test_base_files_in_a_file_named_base() -> None:
    data = (PKGDBS / "dpkg-status.d" / "distroless-static-debian11" / "status.d" / "base").read_bytes()
    record = run("var/lib/dpkg/status.d/base", data)
    assert [p.name for p in record.packages] == ["base-files"]
    assert owned_file_keys(record.packages[0]) == ["base-files:amd64", "base-files", "base"]


# --- the real dpkg ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_dpkg() -> Path:
    """The output of scripts/fixtures/dpkg.sh, built once and cached under .fixtures/dpkg/<script hash>."""
    digest = hashlib.sha256(FIXTURE_SCRIPT.read_bytes()).hexdigest()[:16]
    target = REPO_ROOT / ".fixtures" / "dpkg" / digest
    if target.is_dir():
        return target
    absent = [t for t in ("bash", "dpkg", "dpkg-deb", "dpkg-query", "apt-get") if shutil.which(t) is None]
    if absent:
        missing(f"building the dpkg fixture needs {', '.join(absent)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        proc = subprocess.run(["bash", str(FIXTURE_SCRIPT), str(build)], capture_output=True, text=True,
                              timeout=300, check=False)
        if proc.returncode != 0:
            pytest.fail(f"{FIXTURE_SCRIPT} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        try:
            build.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent build that finished first
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return target


def query_rows(fixture: Path) -> list[list[str]]:
    return [line.split("\t") for line in (fixture / "query.tsv").read_text().splitlines()]


def test_fixture_covers_the_states_it_should(real_dpkg: Path) -> None:
    statuses = {row[7] for row in query_rows(real_dpkg)}
    assert {"install ok installed", "hold ok installed", "deinstall ok installed", "install ok unpacked",
            "deinstall ok config-files"} <= statuses


def test_status_written_by_real_dpkg(real_dpkg: Path) -> None:
    rows = query_rows(real_dpkg)
    record = run("var/lib/dpkg/status", (real_dpkg / "status").read_bytes())
    want = Counter((r[1], r[2], r[3], r[4], r[5]) for r in rows if r[6] in PRESENT_STATES)
    assert keyed(record.packages) == want
    assert len(record.packages) < len(rows)  # the config-files package is left out
    fixture = next(p for p in record.packages if p.name == "imagescan-fixture")
    assert (fixture.version, fixture.source_name, fixture.source_version) == (
        "1:1.0-1+b1", "imagescan-fixture-src", "0.9-1")
    assert fixture.maintainer == "Timo Teräs <nobody@example.invalid>"


def test_file_lists_written_by_real_dpkg(real_dpkg: Path) -> None:
    owned: dict[str, list[str]] = {}
    for file in sorted((real_dpkg / "info").iterdir()):
        owned.update(run(f"var/lib/dpkg/info/{file.name}", file.read_bytes()).owned_files)
    lists = {f.name.removesuffix(".txt"): f for f in (real_dpkg / "lists").iterdir()}
    assert set(owned) == set(lists)
    assert any(":" in key for key in owned)  # Multi-Arch: same packages use name:arch.list
    for key, file in lists.items():
        listed = [line.lstrip("/") for line in file.read_text().splitlines() if line not in ("/.", "")]
        assert owned[key] == listed, key
    assert "usr/share/doc/imagescan-fixture/read me.txt" in owned["imagescan-fixture"]
    assert "usr/lib/imagescan-fixture/café.conf" in owned["imagescan-fixture"]
    packages = run("var/lib/dpkg/status", (real_dpkg / "status").read_bytes()).packages
    for pkg in packages:
        assert any(k in owned for k in owned_file_keys(pkg)), pkg.name


def test_status_d_built_from_real_debs(real_dpkg: Path) -> None:
    debs = [line.split("\t") for line in (real_dpkg / "debs.tsv").read_text().splitlines()]
    packages: list[Package] = []
    owned: dict[str, list[str]] = {}
    for file in sorted((real_dpkg / "status.d").iterdir()):
        record = run(f"var/lib/dpkg/status.d/{file.name}", file.read_bytes())
        packages += record.packages
        owned.update(record.owned_files)
    assert keyed(packages) == Counter(tuple(d) for d in debs)
    # every file an md5sums lists is in the file list the real dpkg wrote for the same package
    lists = {f.name.removesuffix(".txt"): f for f in (real_dpkg / "lists").iterdir()}
    checked = 0
    for pkg in packages:
        key = next((k for k in owned_file_keys(pkg) if k in owned), None)
        list_key = next((k for k in owned_file_keys(pkg) if k in lists), None)
        if key is None or list_key is None:
            continue
        listed = {line.lstrip("/") for line in lists[list_key].read_text().splitlines()}
        assert set(owned[key]) <= listed, pkg.name
        checked += 1
    assert checked >= 3


# --- parser details --------------------------------------------------------------------------------------------


def status(*stanzas: str) -> bytes:
    return "\n\n".join(stanzas).encode()


def test_installed_states() -> None:
    states = {
        "install ok installed": True, "hold ok installed": True, "deinstall ok installed": True,
        "purge ok installed": True, "install reinstreq half-installed": True, "install ok unpacked": True,
        "install ok half-configured": True, "install ok triggers-pending": True,
        "install ok triggers-awaited": True, "deinstall ok config-files": False, "purge ok not-installed": False,
        "unknown ok not-installed": False, "": False,
    }
    data = status(*(f"Package: p{i}\nStatus: {s}\nVersion: 1" for i, s in enumerate(states)))
    got = {p.name for p in parse_status(data)}
    assert got == {f"p{i}" for i, keep in enumerate(states.values()) if keep}


def test_status_line_required_only_in_the_main_status_file() -> None:
    data = b"Package: a\nVersion: 1.0\nArchitecture: amd64\n"
    assert parse_status(data) == []
    assert [p.name for p in run("var/lib/dpkg/status.d/a", data).packages] == ["a"]
    assert run("var/lib/dpkg/status", data).packages == []


def test_fields_continuations_crlf_and_case() -> None:
    data = (
        b"package: libfoo1\r\nSTATUS: install ok installed\r\nVersion:   1:2.0-1  \r\n"
        b"Source: foo (1:2.0-0.1)\r\nDescription: short\r\n long line\r\n .\r\n\tmore\r\n"
        b"Architecture: arm64\r\nMaintainer: A <a@b>\r\n\r\n"
        b"Package: bar\nStatus: install ok installed\nVersion: 3\nSource: barsrc\n"
        b"Package-Without-Version: x\n \n"
        b"Package: noversion\nStatus: install ok installed\n\n"
        b"Status: install ok installed\nVersion: 1\n"
    )
    packages = parse_status(data)
    assert [(p.name, p.version, p.arch, p.source_name, p.source_version, p.maintainer) for p in packages] == [
        ("libfoo1", "1:2.0-1", "arm64", "foo", "1:2.0-0.1", "A <a@b>"),
        ("bar", "3", None, "barsrc", "3", None),
    ]
    stanza = parse_stanzas(data)[0]
    assert stanza["description"] == "short\nlong line\n.\nmore"


def test_non_utf8_bytes_are_read_as_latin1() -> None:
    data = b"Package: a\nStatus: install ok installed\nVersion: 1\nMaintainer: Jos\xe9 <j@x>\n"
    assert parse_status(data)[0].maintainer == "José <j@x>"


def test_no_trailing_newline_and_extra_blank_lines() -> None:
    data = (b"\n\n\nPackage: a\nStatus: install ok installed\nVersion: 1\n\n\n\n"
            b"Package: b\nStatus: install ok installed\nVersion: 2")
    assert [p.name for p in parse_status(data)] == ["a", "b"]
    assert parse_status(b"") == []


@pytest.mark.parametrize(
    "data",
    [
        b"Package: a\nthis line has no colon\n",
        b" continuation first\nPackage: a\n",
        b"Package: a\n: empty field name\n",
        b"Package: a\x00\nVersion: 1\n",
    ],
)
def test_malformed_status_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError):
        CATALOGER.parse("var/lib/dpkg/status", io.BytesIO(data), len(data))


def test_file_list_and_md5sums() -> None:
    assert parse_file_list(b"/.\n/usr\r\n/usr/bin\n/usr/bin/a b\n\n") == ["usr", "usr/bin", "usr/bin/a b"]
    assert parse_file_list(b"/etc/caf\xe9\n") == ["etc/café"]
    md5sums = b"d41d8cd98f00b204e9800998ecf8427e  usr/a\n\nD41D8CD98F00B204E9800998ECF8427E  /usr/b c\n"
    assert parse_md5sums(md5sums) == ["usr/a", "usr/b c"]
    for bad in (b"nothex  usr/a\n", b"d41d8cd98f00b204e9800998ecf8427e\n", b"x\x00y\n"):
        with pytest.raises(CatalogError):
            parse_md5sums(bad)


def test_list_record_keys() -> None:
    record = run("var/lib/dpkg/info/libssl3:amd64.list", b"/.\n/usr\n/usr/lib/libssl.so.3\n")
    assert record.owned_files == {"libssl3:amd64": ["usr", "usr/lib/libssl.so.3"]}
    assert record.packages == []
    md5 = run("var/lib/dpkg/status.d/libssl3.md5sums", b"d41d8cd98f00b204e9800998ecf8427e  usr/lib/x\n")
    assert md5.owned_files == {"libssl3": ["usr/lib/x"]} and md5.packages == []


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/dpkg/status", True),
        ("var/lib/dpkg/status-old", False),
        ("var/lib/dpkg/status.d/libc6", True),
        ("var/lib/dpkg/status.d/libc6.md5sums", True),
        ("var/lib/dpkg/status.d/python3.11", True),
        ("var/lib/dpkg/status.d/libc6.preinst", False),
        ("var/lib/dpkg/status.d/sub/libc6", False),
        ("var/lib/dpkg/info/libc6:amd64.list", True),
        ("var/lib/dpkg/info/.list", False),
        ("var/lib/dpkg/info/libc6.md5sums", False),
        ("var/lib/dpkg/info/libc6.postinst", False),
        ("var/lib/dpkg/info/sub/libc6.list", False),
        ("usr/var/lib/dpkg/status", False),
        ("/var/lib/dpkg/status", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


def test_parse_ignores_paths_it_does_not_want() -> None:
    assert CATALOGER.parse("etc/passwd", io.BytesIO(b"root:x:0:0\n"), 11) is None


# --- property tests --------------------------------------------------------------------------------------------

PATHS = ["var/lib/dpkg/status", "var/lib/dpkg/status.d/pkg", "var/lib/dpkg/status.d/pkg.md5sums",
         "var/lib/dpkg/info/pkg:amd64.list"]


def _parse_or_error(path: str, data: bytes) -> None:
    try:
        record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    except CatalogError:
        return
    assert record is not None
    for pkg in record.packages:
        assert pkg.name and pkg.version and pkg.source_name and pkg.source_version


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), data=st.binary(max_size=600))
def test_random_bytes(path: str, data: bytes) -> None:
    _parse_or_error(path, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS),
    text=st.lists(st.sampled_from(["Package: a", "Version: 1", "Status: install ok installed", " cont", "\t.",
                                   "Source: s (2)", "", "\r", "junk", "Source:", "Package:", "#c", "x:y"]),
                  max_size=30),
)
def test_random_stanza_shaped_text(path: str, text: list[str]) -> None:
    _parse_or_error(path, "\n".join(text).encode())


_REAL_STATUS = (PKGDBS / "dpkg" / "ubuntu-18.04" / "status").read_bytes()[:6000] if cases("dpkg") else b""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(PATHS[:2]),
    edits=st.lists(st.tuples(st.integers(0, 6000), st.binary(max_size=6), st.integers(0, 8)), max_size=8),
)
def test_mutated_real_status(path: str, edits: list[tuple[int, bytes, int]]) -> None:
    data = _REAL_STATUS
    for pos, insert, delete in edits:
        pos %= len(data) + 1
        data = data[:pos] + insert + data[pos + delete:]
    _parse_or_error(path, data)
