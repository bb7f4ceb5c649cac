"""Matching semantics on small databases built from hand-made records through the real builder."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagescan.findings import Severity
from imagescan.match import match_inventory
from imagescan.match.matcher import MatchResult
from imagescan.vulndb.store import VulnDB
from tests.match.records import (
    ALPINE_318,
    AMZN_2023,
    DEBIAN_11,
    build_db,
    deb,
    fixed_range,
    inventory,
    lang,
    record,
)

CVSS_98 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def by_id(result: MatchResult) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in result.findings:
        out.setdefault(f.vulnerability_id, []).append(f.package_name)
    return out


@pytest.fixture()
def db(tmp_path: Path) -> VulnDB:
    zero_fixed = fixed_range(("introduced", "0"), ("fixed", "1.2.3-2"))
    records = [
        # Debian 12, source package "openssl", every status
        record("DEBIAN-CVE-2024-0001", "Debian:12", "openssl", upstream=["CVE-2024-0001"], ranges=[zero_fixed]),
        record("DEBIAN-CVE-2024-0002", "Debian:12", "openssl", upstream=["CVE-2024-0002"], status="not-affected"),
        record("DEBIAN-CVE-2024-0003", "Debian:12", "openssl", upstream=["CVE-2024-0003"], status="open"),
        record("DEBIAN-CVE-2024-0004", "Debian:12", "openssl", upstream=["CVE-2024-0004"], status="ignored",
               reason="no-dsa, ignored: Minor issue"),
        record("DEBIAN-CVE-2024-0005", "Debian:12", "openssl", upstream=["CVE-2024-0005"], status="end-of-life"),
        record("DEBIAN-CVE-2024-0006", "Debian:12", "openssl", upstream=["CVE-2024-0006"], status="postponed"),
        record("DEBIAN-CVE-2024-0007", "Debian:12", "openssl", upstream=["CVE-2024-0007"],
               ranges=[fixed_range(("introduced", "0"), ("fixed", "1.2.0-1"))]),  # already fixed
        record("DEBIAN-CVE-2024-0008", "Debian:12", "openssl", upstream=["CVE-2024-0008"], ranges=[zero_fixed],
               withdrawn="2025-01-01T00:00:00Z"),
        # a DSA fixing two CVEs: split into two vulnerabilities, one of them also known as DEBIAN-CVE-2024-0001
        record("DSA-9000-1", "Debian:12", "openssl", upstream=["CVE-2024-0001", "CVE-2024-0009"],
               ranges=[fixed_range(("introduced", "0"), ("fixed", "1.2.3-1+deb12u1"))]),
        # Debian 11 only: never on a Debian 12 image
        record("DSA-8000-1", "Debian:11", "openssl", upstream=["CVE-2023-0001"], ranges=[zero_fixed]),
        # the same CVE as a PyPI record: never matched against the Debian package
        record("PYSEC-2024-1", "PyPI", "openssl", aliases=["CVE-2024-0001"], ranges=[zero_fixed]),
        # PyPI: a PYSEC and its GHSA for one vulnerability, on the same package: one finding
        record("PYSEC-2024-10", "PyPI", "requests", aliases=["CVE-2024-1000"],
               ranges=[fixed_range(("introduced", "0"), ("fixed", "2.31.0"))], cvss=CVSS_98),
        record("GHSA-aaaa-bbbb-cccc", "PyPI", "requests", aliases=["CVE-2024-1000"], severity="MODERATE",
               ranges=[fixed_range(("introduced", "2.0"), ("fixed", "2.32.0"))]),
        record("PYSEC-2024-11", "PyPI", "requests", ranges=[
            {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "0"}, {"fixed": "a" * 40}]}
        ]),
        record("GHSA-dddd-eeee-ffff", "npm", "@scope/pkg", severity="HIGH",
               ranges=[fixed_range(("introduced", "0"), ("fixed", "1.0.1"), kind="SEMVER")]),
        record("GO-2024-0001", "Go", "stdlib", aliases=["CVE-2024-2000"],
               ranges=[fixed_range(("introduced", "1.21.0-0"), ("fixed", "1.21.5"), kind="SEMVER")]),
        record("ALPINE-CVE-2024-3000", "Alpine:v3.18", "curl", upstream=["CVE-2024-3000"],
               ranges=[fixed_range(("introduced", "0"), ("fixed", "8.4.0-r0"))]),
        record("ALAS2023-2024-100", "Amazon Linux:2023", "openssl-libs", upstream=["CVE-2024-4000", "CVE-2024-4001"],
               severity="Important", ranges=[fixed_range(("introduced", "0"), ("fixed", "1:3.0.8-1.amzn2023.0.5"))]),
    ]
    return build_db(tmp_path, records, kev=["CVE-2024-0003"], epss={"CVE-2024-0001": 0.42})


def test_debian_statuses_and_fix_states(db: VulnDB) -> None:
    result = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl")]), db)
    found = {f.vulnerability_id: f for f in result.findings}
    assert set(found) == {"CVE-2024-0001", "CVE-2024-0003", "CVE-2024-0004", "CVE-2024-0005", "CVE-2024-0006",
                          "CVE-2024-0009"}
    # not-affected, already fixed, withdrawn, Debian 11 and PyPI records give nothing
    one = found["CVE-2024-0001"]
    assert one.fix_state == "fixed" and one.fixed_version == "1.2.3-2"  # both records agree only at 1.2.3-2
    assert one.aliases == ["DEBIAN-CVE-2024-0001", "DSA-9000-1"]
    assert one.package_name == "libssl3" and one.source_package == "openssl" and one.source_version is None
    assert one.epss == 0.42 and not one.known_exploited
    assert one.purl == "pkg:deb/debian/libssl3@1.2.3-1?arch=amd64&distro=debian-12&upstream=openssl"
    assert one.severity == Severity.MEDIUM and one.severity_source == "unrated"
    assert one.data_source == "records.json"
    assert found["CVE-2024-0009"].fixed_version == "1.2.3-1+deb12u1"
    assert found["CVE-2024-0009"].aliases == ["DSA-9000-1"]
    assert (found["CVE-2024-0003"].fix_state, found["CVE-2024-0003"].fixed_version) == ("not-fixed", None)
    assert found["CVE-2024-0003"].known_exploited
    assert found["CVE-2024-0004"].fix_state == "wont-fix"
    assert found["CVE-2024-0004"].fix_state_reason == "no-dsa, ignored: Minor issue"
    assert found["CVE-2024-0005"].fix_state == "end-of-life"
    assert found["CVE-2024-0006"].fix_state == "not-fixed"
    assert result.notes == []


def test_fixed_version_installed_gives_nothing(db: VulnDB) -> None:
    result = match_inventory(inventory([deb("libssl3", "1.2.3-2", "openssl")]), db)
    assert "CVE-2024-0001" not in by_id(result) and "CVE-2024-0009" not in by_id(result)


def test_one_finding_per_binary_package(db: VulnDB) -> None:
    packages = [deb("libssl3", "1.2.3-1", "openssl"), deb("openssl", "1.2.3-1")]
    result = match_inventory(inventory(packages), db)
    assert sorted(by_id(result)["CVE-2024-0001"]) == ["libssl3", "openssl"]
    ids = [f.id for f in result.findings]
    assert len(ids) == len(set(ids))
    again = match_inventory(inventory(packages), db)
    assert [f.id for f in again.findings] == ids  # stable


def test_source_version_is_compared(db: VulnDB) -> None:
    # a binNMU: binary 1.2.3-2+b1 is source 1.2.3-1, which is vulnerable
    result = match_inventory(inventory([deb("libssl3", "1.2.3-2+b1", "openssl", "1.2.3-1")]), db)
    one = next(f for f in result.findings if f.vulnerability_id == "CVE-2024-0001")
    assert one.installed_version == "1.2.3-2+b1" and one.source_version == "1.2.3-1"


def test_debian_11_image_gets_only_debian_11_data(db: VulnDB) -> None:
    result = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl")], os=DEBIAN_11), db)
    assert set(by_id(result)) == {"CVE-2023-0001"}


def test_no_data_for_the_release_is_a_note(db: VulnDB) -> None:
    from imagescan.models import OSRelease

    trixie = OSRelease(id="debian", version_id="13", source="etc/os-release")
    result = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl"), deb("zlib1g", "1:1.3")], os=trixie),
                             db)
    assert result.findings == []
    assert [(n.code, n.subject, n.packages) for n in result.notes] == [("no-advisory-data", "Debian:13", 2)]
    assert "debian 13" in result.notes[0].message


def test_unknown_distro_and_unsupported_distro(db: VulnDB) -> None:
    from imagescan.models import OSRelease

    unknown = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl")], os=None), db)
    assert [n.code for n in unknown.notes] == ["unknown-distro"]
    ubuntu = OSRelease(id="ubuntu", version_id="22.04", source="etc/os-release")
    result = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl")], os=ubuntu), db)
    assert [(n.code, n.subject) for n in result.notes] == [("no-advisory-data", "ubuntu 22.04")]


def test_aliases_merge_into_one_finding_with_vendor_severity(db: VulnDB) -> None:
    result = match_inventory(inventory([lang("pypi", "requests", "2.20.0")]), db)
    assert [f.vulnerability_id for f in result.findings] == ["CVE-2024-1000"]
    f = result.findings[0]
    assert f.aliases == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-10"]
    assert f.fixed_version == "2.32.0"  # what both records agree fixes it
    assert f.severity == Severity.MEDIUM and f.severity_source == "database_specific.severity"  # GHSA's, not CVSS
    assert f.cvss is not None and f.cvss.score == 9.8 and f.cvss.version == "3.1"
    assert f.data_source == "records.json"
    # the GIT-only record cannot be evaluated, and says so
    assert [(n.code, n.subject) for n in result.notes] == [("unmatchable-advisory", "pypi/requests@2.20.0")]
    assert "PYSEC-2024-11" in result.notes[0].message and result.notes[0].path == "app/pypi/requests-2.20.0"


def test_cvss_rates_when_no_vendor_does(db: VulnDB) -> None:
    result = match_inventory(inventory([lang("pypi", "requests", "1.0")]), db)
    f = result.findings[0]
    assert (f.severity, f.severity_source) == (Severity.CRITICAL, "cvss_v3")  # PYSEC alone: its CVSS
    assert f.fixed_version == "2.31.0"


def test_language_packages_owned_by_os_packages_are_skipped(db: VulnDB) -> None:
    packages = [lang("pypi", "requests", "1.0", owner="deb/python3-requests"), lang("generic", "python", "3.11.2")]
    result = match_inventory(inventory(packages), db)
    assert result.findings == [] and result.notes == []
    assert result.skipped == {"owned-by-os-package": 1, "generic": 1}


def test_npm_scope_go_stdlib(db: VulnDB) -> None:
    packages = [lang("npm", "pkg", "1.0.0", namespace="@scope"), lang("golang", "stdlib", "go1.21.1")]
    result = match_inventory(inventory(packages), db)
    assert by_id(result) == {"GHSA-dddd-eeee-ffff": ["pkg"], "CVE-2024-2000": ["stdlib"]}
    stdlib = next(f for f in result.findings if f.package_name == "stdlib")
    assert stdlib.fixed_version == "1.21.5" and stdlib.installed_version == "go1.21.1"


def test_ecosystem_without_data_is_a_note(db: VulnDB) -> None:
    result = match_inventory(inventory([lang("gem", "rails", "5.0.0"), lang("gem", "rack", "2.0.0")]), db)
    assert [(n.code, n.subject, n.packages) for n in result.notes] == [("no-advisory-data", "RubyGems", 2)]


def test_invalid_version_is_a_note_not_a_crash(db: VulnDB) -> None:
    result = match_inventory(inventory([lang("npm", "pkg", "not-a-version", namespace="@scope")]), db)
    assert result.findings == []
    assert [(n.code, n.subject) for n in result.notes] == [("invalid-version", "npm/@scope/pkg@not-a-version")]


def test_alpine_origin(db: VulnDB) -> None:
    from imagescan.models import Package

    libcurl = Package(type="apk", name="libcurl", version="8.1.2-r0", source_name="curl", path="lib/apk/db/installed")
    result = match_inventory(inventory([libcurl], os=ALPINE_318), db)
    assert by_id(result) == {"CVE-2024-3000": ["libcurl"]}
    assert result.findings[0].fixed_version == "8.4.0-r0" and result.findings[0].source_package == "curl"


def test_amazon_linux_binary_names_epoch_and_multi_cve_advisory(db: VulnDB) -> None:
    from imagescan.models import Package

    libs = Package(type="rpm", name="openssl-libs", version="3.0.8-1.amzn2023.0.1", epoch=1, source_name="openssl",
                   path="var/lib/rpm/rpmdb.sqlite")
    result = match_inventory(inventory([libs], os=AMZN_2023), db)
    assert by_id(result) == {"CVE-2024-4000": ["openssl-libs"], "CVE-2024-4001": ["openssl-libs"]}
    for f in result.findings:
        assert f.aliases == ["ALAS2023-2024-100"] and f.severity == Severity.HIGH
        assert f.fixed_version == "1:3.0.8-1.amzn2023.0.5" and f.source_version == "1:3.0.8-1.amzn2023.0.1"
        assert f.source_package is None  # ALAS is about the binary rpm itself
    fixed = libs.model_copy(update={"version": "3.0.8-1.amzn2023.0.5"})
    assert match_inventory(inventory([fixed], os=AMZN_2023), db).findings == []
    no_epoch = libs.model_copy(update={"epoch": None, "version": "9.9.9-1"})
    assert match_inventory(inventory([no_epoch], os=AMZN_2023), db).findings != []  # epoch 0 < 1


def test_debian_12_image_with_a_debian_11_only_database(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("DSA-8000-1", "Debian:11", "openssl", upstream=["CVE-2023-0001"],
                                    ranges=[fixed_range(("introduced", "0"), ("fixed", "9.9-1"))])])
    result = match_inventory(inventory([deb("libssl3", "1.2.3-1", "openssl")]), db)
    assert result.findings == []  # not clean by omission:
    assert [(n.code, n.subject, n.packages) for n in result.notes] == [("no-advisory-data", "Debian:12", 1)]
    assert result.notes[0].message.startswith("No advisory data for debian 12.5 (Debian:12)")
