"""Each feed format read on its own: our hand-written samples (Debian tracker, updateinfo.xml, EPSS) and real
samples from shared/data (format detection)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.feeds.detect import UnknownFormat, detect_file
from imagescan.vulndb.records import Skip, Vuln
from imagescan.vulndb.store import VulnDB
from tests.vulndb.conftest import DATA, SAMPLES, need_shared


def build(tmp_path: Path, *inputs: Path) -> VulnDB:
    out = tmp_path / "db.sqlite"
    report = build_database(list(inputs), out)
    assert report.errors == [], report.errors
    return VulnDB(out)


@pytest.mark.parametrize(
    ("relpath", "fmt"),
    [
        ("osv/pypi-pysec-osv.zip", "osv"),
        ("osv/go-vulndb-osv.zip", "osv"),
        ("osv/rustsec-osv.zip", "osv"),
        ("osv/ghsa-selected/GHSA-7fhm-mqm4-2wp7.json", "osv"),
        ("osv/osv-dev-testdata-examples/DSA-3029-1.json", "osv"),
        ("debian/debian12-changelog-derived-osv.json.gz", "osv"),
        ("debian/security-tracker-2023-04/dsa-dla-osv.json.gz", "osv"),
        ("alpine/alpine-secdb-osv.json", "osv"),
        ("alpine/raw-secdb/v3.18-main-openssl.json", "alpine-secdb"),
        ("amazon/alas2023-osv.json", "osv"),
        ("amazon/raw-alas/alas2023-compact.json", "alas"),
        ("kev/known_exploited_vulnerabilities.json.gz", "kev"),
        ("eol/eol.json", "eol"),
    ],
)
def test_detects_shared_samples(relpath: str, fmt: str) -> None:
    need_shared()
    detected = detect_file(DATA / relpath)
    assert detected.format == fmt
    first = next(item for item in detected.items if not isinstance(item, Skip))
    assert first is not None


@pytest.mark.parametrize(("name", "fmt"), [("debian-tracker.json", "debian-tracker"), ("updateinfo.xml", "alas"),
                                           ("epss.csv", "epss")])
def test_detects_our_samples_plain_and_gzipped(tmp_path: Path, name: str, fmt: str) -> None:
    assert detect_file(SAMPLES / name).format == fmt
    gz = tmp_path / f"{name}.gz"
    gz.write_bytes(gzip.compress((SAMPLES / name).read_bytes()))
    assert detect_file(gz).format == fmt
    renamed = tmp_path / "feed.bin"
    shutil.copy(SAMPLES / name, renamed)
    assert detect_file(renamed).format == fmt, "content decides, not the name"


def test_unknown_file_lists_what_was_tried(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps({"releases": {"9": {"eol": "2020-07-18"}}}))
    with pytest.raises(UnknownFormat) as info:
        detect_file(path)
    message = str(info.value)
    assert str(path) in message and "'releases'" in message
    for tried in ("zip of OSV", "gzip", "osv (", "debian-tracker", "alpine-secdb", "kev", "eol", "alas",
                  "updateinfo.xml", "EPSS"):
        assert tried in message
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(UnknownFormat, match="text starting 'hello'"):
        detect_file(text)


def test_debian_tracker_statuses(tmp_path: Path) -> None:
    db = build(tmp_path, SAMPLES / "debian-tracker.json")
    openssl12 = {a.vuln_id: a for a in db.advisories("Debian:12", "openssl")}
    fixed = openssl12["DEBIAN-CVE-2023-0464"]
    assert fixed.status == "affected" and fixed.fixed_versions == ["3.0.8-3"]
    assert fixed.upstream == ["CVE-2023-0464"] and fixed.group_id == "CVE-2023-0464"
    assert fixed.purl == "pkg:deb/debian/openssl?arch=source" and fixed.source_format == "debian-tracker"
    assert fixed.summary == "Excessive Resource Usage Verifying X.509 Policy Constraints"
    unimportant = openssl12["DEBIAN-CVE-2010-0928"]
    assert unimportant.status == "unfixed" and unimportant.severity == "INFORMATIONAL"
    openssl11 = {a.vuln_id: a for a in db.advisories("Debian:11", "openssl")}
    assert openssl11["DEBIAN-CVE-2023-0464"].fixed_versions == ["1.1.1n-0+deb11u5"]
    nodsa = openssl11["DEBIAN-CVE-2024-2511"]
    assert nodsa.status == "fix-deferred" and nodsa.status_reason == "no-dsa: Minor issue"
    postponed = {a.vuln_id: a for a in db.advisories("Debian:10", "openssl")}["DEBIAN-CVE-2024-2511"]
    assert postponed.status == "fix-deferred" and "postponed" in (postponed.status_reason or "")
    tiff = {a.ecosystem: a for a in [*db.advisories("Debian:12", "tiff"), *db.advisories("Debian:unstable", "tiff")]}
    assert tiff["Debian:12"].status == "wont-fix" and tiff["Debian:12"].severity == "LOW"
    assert tiff["Debian:12"].status_reason == "no-dsa, ignored: Minor issue"
    assert tiff["Debian:unstable"].status == "under-investigation"
    curl11 = {a.vuln_id: a for a in db.advisories("Debian:11", "curl")}
    assert curl11["DEBIAN-CVE-2023-38545"].status == "not-affected"
    curl12 = {a.vuln_id: a for a in db.advisories("Debian:12", "curl")}
    assert curl12["DEBIAN-CVE-2023-38545"].severity == "HIGH"
    assert curl12["DEBIAN-CVE-2023-38545"].fixed_versions == ["7.88.1-10+deb12u4"]
    assert [a.vuln_id for a in db.advisories("Debian:14", "curl")] == ["DEBIAN-CVE-2024-2379"]
    eol = db.advisories("Debian:11", "mysql-8.0")[0]
    assert eol.status == "end-of-life"
    linux = {a.vuln_id: a for a in db.advisories("Debian:12", "linux")}
    assert linux["DEBIAN-TEMP-0000000-A5FC0D"].severity == "MEDIUM"
    assert linux["DEBIAN-TEMP-0000000-A5FC0D"].upstream == []
    # one CVE under two source packages is one record with both packages
    assert linux["DEBIAN-CVE-2023-0464"].status == "not-affected"
    rows = db._query("SELECT COUNT(DISTINCT package) FROM affected WHERE vuln_id = 'DEBIAN-CVE-2023-0464'")
    assert rows[0][0] == 2


def test_updateinfo_xml(tmp_path: Path) -> None:
    db = build(tmp_path, SAMPLES / "updateinfo.xml")
    rsync = {a.package: a for a in db.advisories("Amazon Linux:2023", "rsync")}
    adv = rsync["rsync"]
    assert adv.vuln_id == "ALAS2023-2023-002" and adv.fixed_versions == ["3.2.6-1.amzn2023.0.3"]
    assert adv.upstream == ["CVE-2018-25032", "CVE-2022-29154", "CVE-2022-37434"]
    assert adv.severity == "HIGH" and adv.severity_source == "alas severity"
    assert adv.published == "2023-02-17T20:41:00Z" and adv.modified == "2023-02-23T00:01:00Z"
    assert adv.references[0].url == "https://alas.aws.amazon.com/AL2023/ALAS2023-2023-002.html"
    assert adv.details is not None and "CVE-2022-37434" in adv.details
    libs = db.advisories("Amazon Linux:2023", "openssl-libs")[0]
    assert libs.fixed_versions == ["1:3.5.5-1.amzn2023.0.3"] and libs.severity == "LOW"
    assert db.advisories("Amazon Linux:2023", "tzdata") == [], "bugfix updates are not advisories"
    al2 = db.advisories("Amazon Linux:2", "libcurl")[0]
    assert al2.vuln_id == "ALAS2-2023-2020" and al2.fixed_versions == ["8.0.1-1.amzn2.0.3"]
    packages = {row[0] for row in db._query("SELECT package FROM affected WHERE vuln_id = 'ALAS2023-2023-002'")}
    assert packages == {"rsync", "rsync-daemon"}


def test_alas_release_from_file_name(tmp_path: Path) -> None:
    xml = (SAMPLES / "updateinfo.xml").read_text().replace("ALAS2023-2026-1522", "ALASOPENSSL-2026-1")
    path = tmp_path / "al2023-updateinfo.xml"
    path.write_text(xml)
    db = build(tmp_path, path)
    assert db.advisories("Amazon Linux:2023", "openssl")[0].vuln_id == "ALASOPENSSL-2026-1"
    other = tmp_path / "other" / "updateinfo.xml"
    other.parent.mkdir()
    other.write_text(xml)
    report = build_database([other], tmp_path / "b.db")
    info = report.sources[0]
    assert info.skipped == 1 and "Amazon Linux release" in info.notes[0]


def test_epss(tmp_path: Path) -> None:
    csv_text = (SAMPLES / "epss.csv").read_text() + "CVE-2099-1,not-a-number,0.1\nbad-row\n"
    path = tmp_path / "epss_scores.csv.gz"
    path.write_bytes(gzip.compress(csv_text.encode()))
    out = tmp_path / "db.sqlite"
    report = build_database([path], out)
    assert report.sources[0].records == 4 and report.sources[0].skipped == 2
    assert report.sources[0].version == "v2025.03.14,2025-08-25"
    db = VulnDB(out)
    score = db.epss("CVE-2021-44228")
    assert score is not None and score.score == pytest.approx(0.94358) and score.percentile == pytest.approx(0.99961)
    assert str(score.date) == "2025-08-25" and score.model_version == "v2025.03.14"
    assert db.epss("CVE-2099-1") is None


def test_alpine_official_secdb_shape(tmp_path: Path) -> None:
    secdb = {
        "apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
        "archs": ["x86_64"], "reponame": "main", "urlprefix": "https://dl-cdn.alpinelinux.org/alpine",
        "distroversion": "v3.19",
        "packages": [
            {"pkg": {"name": "openssl", "secfixes": {"3.1.4-r1": ["CVE-2023-5363"], "0": ["CVE-2022-1292"],
                                                      "3.1.4-r3": ["CVE-2023-6129 CVE-2023-6237"]}}},
            {"pkg": {"name": "zlib", "secfixes": {"1.2.12-r2": ["CVE-2022-37434"]}}},
            {"pkg": {"secfixes": {}}},
        ],
    }
    path = tmp_path / "main.json"
    path.write_text(json.dumps(secdb))
    out = tmp_path / "db.sqlite"
    report = build_database([path], out)
    assert report.sources[0].skipped == 1
    db = VulnDB(out)
    openssl = {a.vuln_id: a for a in db.advisories("Alpine:v3.19", "openssl")}
    assert set(openssl) == {"ALPINE-CVE-2023-5363", "ALPINE-CVE-2022-1292", "ALPINE-CVE-2023-6129",
                            "ALPINE-CVE-2023-6237"}
    assert openssl["ALPINE-CVE-2022-1292"].status == "not-affected"
    assert openssl["ALPINE-CVE-2023-6237"].fixed_versions == ["3.1.4-r3"]


def test_osv_container_forms(tmp_path: Path) -> None:
    record = {"id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2024-0001"],
              "affected": [{"package": {"ecosystem": "PyPI", "name": "Foo_Bar"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"},
                                                                         {"last_affected": "1.4"}]}]}]}
    array = tmp_path / "array.json"
    array.write_text(json.dumps([record, {"id": "TEST-2", "modified": 5, "affected": []}]))
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"vulnerabilities": [dict(record, id="TEST-3")]}))
    out = tmp_path / "db.sqlite"
    report = build_database([array, wrapped], out)
    assert [(s.records, s.skipped) for s in report.sources] == [(1, 1), (1, 0)]
    assert "TEST-2" in report.sources[0].notes[0] and "modified" in report.sources[0].notes[0]
    db = VulnDB(out)
    found = db.advisories("PyPI", "foo.bar")
    assert [a.vuln_id for a in found] == ["TEST-1", "TEST-3"]
    assert found[0].last_affected == ["1.4"] and found[0].fixed_versions == []
    assert db.alias_group("TEST-1") == ["CVE-2024-0001", "TEST-1", "TEST-3"]


def test_single_records_in_a_directory_form_one_source(tmp_path: Path) -> None:
    need_shared()
    db = build(tmp_path, DATA / "osv" / "ghsa-selected")
    info = db.info()
    assert [(s.name, s.records, s.withdrawn) for s in info.sources] == [("ghsa-selected", 32, 2)]


def test_vuln_items_are_normalised() -> None:
    need_shared()
    items = list(detect_file(DATA / "osv" / "osv-dev-testdata-examples" / "UBUNTU-CVE-2025-38094.json").items)
    assert len(items) == 1 and isinstance(items[0], Vuln)
    vuln = items[0]
    assert vuln.severity == "MEDIUM" and vuln.severity_source == "severity.Ubuntu"
    assert vuln.upstream == ["CVE-2025-38094"]
    assert vuln.affected[0].ecosystem == "Ubuntu:Pro:14.04:LTS"
