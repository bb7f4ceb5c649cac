"""Build from all of shared/data and check counts against PROVENANCE.md and records round-tripping."""

from __future__ import annotations

from pathlib import Path

from imagescan.vulndb.models import BuildReport
from imagescan.vulndb.store import VulnDB, database_info


def source(report: BuildReport, name: str) -> dict[str, object]:
    by_name = {s.name: s for s in report.sources}
    assert name in by_name, sorted(by_name)
    return by_name[name].model_dump()


def test_build_is_fast_and_clean(full_build: tuple[BuildReport, Path]) -> None:
    report, out = full_build
    assert report.errors == []
    assert report.duration_seconds < 30
    assert out.is_file()
    assert report.counts["kev"] == 1404
    assert report.counts["eol_cycle"] == 386
    ignored = {Path(p.path).name for p in report.ignored_files}
    assert {"PROVENANCE.md", "known_exploited_vulnerabilities_schema.json", "DSA-list.gz",
            "rubysec-ruby-advisory-db-yaml.zip"} <= ignored


def test_counts_match_provenance(full_build: tuple[BuildReport, Path]) -> None:
    report, _ = full_build
    expected = {
        # name: (records, withdrawn)
        "osv/pypi-pysec-osv.zip": (2661, 10),
        "osv/go-vulndb-osv.zip": (4291, 17),
        "osv/rustsec-osv.zip": (1206, 13),
        "osv/ghsa-selected": (32, 2),
        "debian/debian12-changelog-derived-osv.json.gz": (3645, 0),
        "debian/security-tracker-2023-04/dsa-dla-osv.json.gz": (8863, 0),
        "alpine/alpine-secdb-osv.json": (204, 0),
        "amazon/alas2023-osv.json": (3, 0),
        "amazon/raw-alas/alas2023-compact.json": (3, 0),
        "kev/known_exploited_vulnerabilities.json.gz": (1404, 0),
        "eol/eol.json": (386, 0),
    }
    for name, (records, withdrawn) in expected.items():
        info = source(report, name)
        assert (info["records"], info["withdrawn"], info["skipped"]) == (records, withdrawn, 0), name
    kev = source(report, "kev/known_exploited_vulnerabilities.json.gz")
    assert kev["format"] == "kev" and kev["version"] == "2025.08.25"
    assert source(report, "amazon/raw-alas/alas2023-compact.json")["format"] == "alas"
    assert source(report, "alpine/raw-secdb/v3.18-main-musl.json")["format"] == "alpine-secdb"
    # the raw secdb and the ALAS transcription name the same ids as their OSV conversions: merged, not doubled
    assert source(report, "amazon/raw-alas/alas2023-compact.json")["merged"] == 3


def test_pysec_requests_round_trip(full_db: VulnDB) -> None:
    by_id = {a.vuln_id: a for a in full_db.advisories("PyPI", "Requests")}
    assert set(by_id) == {"PYSEC-2014-13", "PYSEC-2014-14", "PYSEC-2015-17", "PYSEC-2018-28", "PYSEC-2023-74"}
    adv = by_id["PYSEC-2014-13"]
    assert adv.aliases == ["CVE-2014-1829", "GHSA-cfj3-7x9c-4p3h"]
    assert adv.ecosystem == "PyPI" and adv.package == "requests" and adv.purl == "pkg:pypi/requests"
    assert adv.status == "affected" and adv.fixed_versions == ["2.3.0"]
    assert [r.type for r in adv.ranges] == ["ECOSYSTEM"]
    assert adv.ranges[0].events == [{"introduced": "0"}, {"fixed": "2.3.0"}]
    assert "0.2.0" in adv.versions and "2.2.1" in adv.versions and len(adv.versions) == 84
    assert adv.published == "2014-10-15T14:55:00Z" and adv.modified == "2021-07-05T00:01:25Z"
    assert adv.title.startswith("Requests (aka python-requests) before 2.3.0")
    assert adv.data_source == "osv/pypi-pysec-osv.zip" and adv.source_format == "osv"
    assert adv.group_id == "CVE-2014-1829"
    # PEP 503: every spelling finds it
    assert {a.vuln_id for a in full_db.advisories("pypi", "REQUESTS")} == set(by_id)


def test_pysec_withdrawn_are_hidden_unless_asked(full_db: VulnDB) -> None:
    rows = full_db._query("SELECT id FROM vulnerability WHERE id LIKE 'PYSEC-%' AND withdrawn IS NOT NULL")
    assert len(rows) == 10
    withdrawn_id = rows[0][0]
    package = full_db._query("SELECT ecosystem, package FROM affected WHERE vuln_id = ?", (withdrawn_id,))[0]
    assert withdrawn_id not in {a.vuln_id for a in full_db.advisories(*package)}
    shown = {a.vuln_id: a for a in full_db.advisories(*package, include_withdrawn=True)}
    assert shown[withdrawn_id].withdrawn is not None


def test_go_stdlib_record(full_db: VulnDB) -> None:
    stdlib = {a.vuln_id: a for a in full_db.advisories("Go", "stdlib")}
    assert len(stdlib) > 100
    adv = stdlib["GO-2021-0067"]
    assert adv.aliases == ["CVE-2021-27919"]
    assert adv.ranges[0].type == "SEMVER"
    assert adv.ranges[0].events == [{"introduced": "1.16.0-0"}, {"fixed": "1.16.1"}]
    assert adv.ecosystem_specific == {"imports": [{"path": "archive/zip", "symbols": ["toValidName"]}]}
    assert adv.summary == "Panic when opening archives in archive/zip"
    gin = full_db.advisories("Go", "github.com/gin-gonic/gin")
    assert "GO-2020-0001" in {a.vuln_id for a in gin}


def test_alpine_not_affected_status(full_db: VulnDB) -> None:
    curl = {a.vuln_id: a for a in full_db.advisories("Alpine:3.18.4", "curl")}
    adv = curl["ALPINE-CVE-2021-22897"]
    assert adv.status == "not-affected" and adv.ranges == [] and adv.fixed_versions == []
    fixed = curl["ALPINE-CVE-2014-0138"]
    assert fixed.status == "affected" and fixed.fixed_versions == ["7.36.0-r0"]
    assert fixed.group_id == "CVE-2014-0138"
    musl = {a.vuln_id: a for a in full_db.advisories("Alpine:v3.18", "musl")}
    assert musl["ALPINE-CVE-2025-26519"].fixed_versions == ["1.2.4-r3"]


def test_debian_dsa_fixed_in_bullseye(full_db: VulnDB) -> None:
    xorg = {a.vuln_id: a for a in full_db.advisories("Debian:11", "xorg-server")}
    adv = xorg["DSA-5380-1"]
    assert adv.fixed_versions == ["2:1.20.11-1+deb11u6"]
    assert adv.upstream == ["CVE-2023-1393"] and adv.group_id == "CVE-2023-1393"
    assert adv.summary == "xorg-server - security update"
    rows = full_db._query("SELECT DISTINCT status FROM affected WHERE ecosystem LIKE 'Debian:%'")
    statuses = {row[0] for row in rows}
    assert {"affected", "not-affected", "end-of-life", "unfixed"} <= statuses
    # bookworm changelog-derived records: source package, Debian:12
    openssl = {a.vuln_id for a in full_db.advisories("Debian:bookworm", "openssl")}
    assert any(v.startswith("DEBIAN-CVE-") for v in openssl)


def test_amazon_linux_2023(full_db: VulnDB) -> None:
    libs = {a.vuln_id: a for a in full_db.advisories("Amazon Linux:2023", "openssl-libs")}
    adv = libs["ALAS2023-2026-1522"]
    assert adv.fixed_versions == ["1:3.5.5-1.amzn2023.0.3"]
    assert adv.upstream == ["CVE-2026-2673"] and adv.severity == "LOW"
    rsync = {a.vuln_id: a for a in full_db.advisories("Amazon Linux:2023", "rsync")}
    multi = rsync["ALAS2023-2023-002"]
    assert multi.upstream == ["CVE-2018-25032", "CVE-2022-29154", "CVE-2022-37434"]
    assert multi.severity == "HIGH" and multi.fixed_versions == ["3.2.6-1.amzn2023.0.3"]
    # an advisory fixing three CVEs does not merge them into one vulnerability
    assert multi.group_id == "ALAS2023-2023-002"
    assert full_db.group_id("CVE-2018-25032") != full_db.group_id("CVE-2022-37434")


def test_alias_groups(full_db: VulnDB) -> None:
    group = full_db.alias_group("GHSA-cfj3-7x9c-4p3h")
    assert group == ["CVE-2014-1829", "GHSA-cfj3-7x9c-4p3h", "PYSEC-2014-13"]
    assert full_db.alias_group("PYSEC-2014-13") == group == full_db.alias_group("CVE-2014-1829")
    assert full_db.group_id("GO-2020-0001") == "CVE-2020-36567"
    assert set(full_db.alias_group("GO-2020-0001")) == {"GO-2020-0001", "CVE-2020-36567", "GHSA-6vm3-jj99-7229"}
    assert full_db.alias_group("CVE-9999-0001") == ["CVE-9999-0001"]


def test_ghsa_npm_and_maven(full_db: VulnDB) -> None:
    lodash = {a.vuln_id: a for a in full_db.advisories("npm", "lodash")}
    assert len(lodash) == 7 and all(a.severity for a in lodash.values())
    assert all(a.severity_source == "database_specific.severity" for a in lodash.values())
    log4j = full_db.advisories("Maven", "org.apache.logging.log4j:log4j-core")
    assert len({a.vuln_id for a in log4j}) == 6
    assert all(r.type == "ECOSYSTEM" for a in log4j for r in a.ranges)


def test_rustsec_cvss(full_db: VulnDB) -> None:
    advisories = [a for a in full_db.advisories("crates.io", "wasmtime") if a.cvss]
    assert advisories
    for adv in advisories:
        v3 = [c for c in adv.cvss if c.type == "CVSS_V3"]
        if v3:
            assert v3[0].score is not None and adv.severity_source == "cvss_v3"


def test_kev_eol_and_info(full_db: VulnDB, full_build: tuple[BuildReport, Path]) -> None:
    entry = full_db.kev("CVE-2025-48384")
    assert entry is not None and entry.date_added.isoformat() == "2025-08-25" and entry.ransomware is False
    assert entry.due_date is not None and entry.due_date.isoformat() == "2025-09-15"
    assert full_db.kev("CVE-1999-0001") is None
    ransomware = full_db._query("SELECT COUNT(*) FROM kev WHERE ransomware = 1")[0][0]
    assert 0 < ransomware < 1404
    cycles = full_db.eol("alpine")
    assert cycles and cycles[0].product == "alpine-linux"
    debian = {c.cycle: c for c in full_db.eol("debian")}
    assert debian["12"].codename == "Bookworm" and str(debian["12"].eol) == "2026-07-11"
    assert str(debian["12"].extended_support) == "2028-06-30"
    bool_rows = full_db._query("SELECT product FROM eol_cycle WHERE eol IN ('true', 'false')")
    assert len(bool_rows) == 11
    assert any(isinstance(c.eol, bool) for c in full_db.eol(bool_rows[0][0]))
    assert full_db.eol("amzn") == full_db.eol("amazon-linux") != []
    info = database_info(full_build[1])
    assert info.schema_version == 1 and info.counts["kev"] == 1404
    assert info.ecosystems["PyPI"] == 2661 and "Alpine:v3.18" in info.ecosystems
    assert info.age.total_seconds() >= 0
    assert [s.name for s in info.sources] == [s.name for s in full_build[0].sources]
    assert full_db.has_ecosystem("debian:12") and not full_db.has_ecosystem("Debian:99")
