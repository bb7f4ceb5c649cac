"""Matching against the database built from all of shared/data: known findings, and what must never match."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.findings import Severity, VulnerabilityFinding
from imagescan.match import match_inventory
from imagescan.models import OSRelease, Package
from imagescan.vulndb.store import VulnDB
from tests.match.records import ALPINE_318, AMZN_2023, DEBIAN_11, DEBIAN_12, deb, inventory, lang


def found(db: VulnDB, *packages: Package, os: OSRelease | None = DEBIAN_12) -> dict[tuple[str, str],
                                                                                   VulnerabilityFinding]:
    result = match_inventory(inventory(list(packages), os=os), db)
    return {(f.package_name, f.vulnerability_id): f for f in result.findings}


def test_pypi_requests(shared_db: VulnDB) -> None:
    f = found(shared_db, lang("pypi", "requests", "2.20.0"))
    assert set(f) == {("requests", "CVE-2023-32681")}  # PYSEC-2018-28 is fixed in 2.20.0 itself
    one = f[("requests", "CVE-2023-32681")]
    assert one.fixed_version == "2.31.0" and one.fix_state == "fixed"
    assert one.aliases == ["GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"]
    assert one.data_source == "osv/pypi-pysec-osv.zip"
    older = found(shared_db, lang("pypi", "Requests", "2.19.1"))
    assert older[("Requests", "CVE-2018-18074")].fixed_version == "2.20.0"


def test_demo_python_and_npm_versions(shared_db: VulnDB) -> None:
    f = found(shared_db, lang("pypi", "pyyaml", "5.3.1"), lang("pypi", "jinja2", "2.10"),
              lang("pypi", "urllib3", "1.24.1"), lang("npm", "lodash", "4.17.15"), lang("npm", "minimist", "1.2.0"))
    assert f[("pyyaml", "CVE-2020-14343")].fixed_version == "5.4"
    assert f[("jinja2", "CVE-2019-10906")].fixed_version == "2.10.1"
    assert f[("urllib3", "CVE-2019-11324")].fixed_version == "1.24.2"
    assert f[("lodash", "CVE-2020-8203")].fixed_version == "4.17.19"
    assert f[("lodash", "CVE-2021-23337")].severity == Severity.HIGH
    assert f[("minimist", "CVE-2021-44906")].severity == Severity.CRITICAL
    # GHSA-7fhm-mqm4-2wp7 (minimist < 1.2.2) is withdrawn: no finding carries it
    assert all("GHSA-7fhm-mqm4-2wp7" not in finding.aliases for finding in f.values())
    # a PyPI finding does not list another distribution's record of the same CVE
    assert f[("pyyaml", "CVE-2020-14343")].aliases == [
        "GHSA-8q59-q68h-6hv4", "PYSEC-2021-142"]


def test_kev_and_maven_multi_entry_records(shared_db: VulnDB) -> None:
    f = found(shared_db, lang("maven", "log4j-core", "2.14.1", namespace="org.apache.logging.log4j"))
    log4shell = f[("log4j-core", "CVE-2021-44228")]
    assert log4shell.known_exploited and log4shell.severity == Severity.CRITICAL
    # GHSA-7rjr-3q55-vv33 has two entries for the package; 2.14.1 is in the second, fixed in 2.16.0
    assert f[("log4j-core", "CVE-2021-45046")].fixed_version == "2.16.0"
    assert not found(shared_db, lang("maven", "log4j-core", "2.17.1", namespace="org.apache.logging.log4j"))


def test_debian_12_source_packages(shared_db: VulnDB) -> None:
    f = found(shared_db, deb("libssl3", "3.0.15-1~deb12u1", "openssl"), deb("curl", "7.88.1-10+deb12u5"))
    ssl = f[("libssl3", "CVE-2024-13176")]
    assert ssl.fixed_version == "3.0.16-1~deb12u1" and ssl.source_package == "openssl"
    assert ssl.aliases == ["DEBIAN-CVE-2024-13176"]
    assert ssl.data_source == "debian/debian12-changelog-derived-osv.json.gz"
    assert f[("curl", "CVE-2024-2398")].fixed_version == "7.88.1-10+deb12u6"
    assert all(not a.startswith("ALPINE-") for finding in f.values() for a in finding.aliases)
    # the versions the data was derived from are clean: every fix is at or below them
    assert not found(shared_db, deb("libssl3", "3.0.19-1~deb12u2", "openssl"), deb("curl", "7.88.1-10+deb12u14"))


def test_debian_11_advisories_never_reach_debian_12(shared_db: VulnDB) -> None:
    old_xorg = deb("xserver-xorg-core", "2:1.20.11-1+deb11u1", "xorg-server")
    assert not found(shared_db, old_xorg, os=DEBIAN_12)  # the DSAs name bullseye only
    on_11 = found(shared_db, old_xorg, os=DEBIAN_11)
    assert on_11[("xserver-xorg-core", "CVE-2023-1393")].aliases == ["DSA-5380-1"]


def test_alpine_not_affected_entries(shared_db: VulnDB) -> None:
    curl = Package(type="apk", name="curl", version="8.0.1-r0", source_name="curl", path="lib/apk/db/installed")
    f = found(shared_db, curl, os=ALPINE_318)
    assert f[("curl", "CVE-2023-38545")].fixed_version == "8.4.0-r0"
    ids = {vid for _, vid in f}
    assert "CVE-2021-22897" not in ids  # secdb "0": not affected in 3.18
    assert "CVE-2014-0138" not in ids  # fixed long before 8.0.1


def test_amazon_linux_2023(shared_db: VulnDB) -> None:
    libs = Package(type="rpm", name="openssl-libs", version="3.0.8-1.amzn2023.0.1", epoch=1, source_name="openssl",
                   path="var/lib/rpm/rpmdb.sqlite")
    f = found(shared_db, libs, os=AMZN_2023)
    alas = f[("openssl-libs", "CVE-2026-2673")]
    assert alas.fixed_version == "1:3.5.5-1.amzn2023.0.3" and alas.severity == Severity.LOW
    assert alas.severity_source == "alas severity" and alas.aliases == ["ALAS2023-2026-1522"]


def test_release_missing_from_the_database(shared_db: VulnDB) -> None:
    trixie = OSRelease(id="debian", version_id="13", source="etc/os-release")
    result = match_inventory(inventory([deb("libc6", "2.40-1", "glibc")], os=trixie), shared_db)
    assert result.findings == []
    assert [(n.code, n.subject) for n in result.notes] == [("no-advisory-data", "Debian:13")]
    assert "no advisory data for debian 13" in result.notes[0].message.lower()


def test_matching_is_fast_with_caches(shared_db: VulnDB) -> None:
    packages = [deb(f"lib{i}", "1.0-1", src) for i, src in enumerate(
        ["openssl", "glibc", "curl", "zlib", "perl", "systemd", "tar", "gzip", "ncurses", "xz-utils"] * 10)]
    packages += [lang("pypi", n, "1.0") for n in ("requests", "urllib3", "jinja2", "pyyaml", "django")]
    start = time.perf_counter()
    result = match_inventory(inventory(packages), shared_db)
    assert time.perf_counter() - start < 1.0
    assert result.checked == len(packages) and result.findings


VERSIONS = st.text(alphabet="0123456789.-+~:abcdefrv_ ", min_size=0, max_size=20)
NAMES = st.sampled_from(["requests", "urllib3", "jinja2", "django", "lodash", "openssl", "curl", "stdlib"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(versions=st.lists(st.tuples(NAMES, VERSIONS), min_size=1, max_size=6))
def test_random_installed_versions_never_crash(shared_db: VulnDB, versions: list[tuple[str, str]]) -> None:
    packages: list[Package] = []
    for name, version in versions:
        packages += [lang("pypi", name, version), lang("npm", name, version), lang("golang", name, version),
                     deb(name, version or "1", name)]
    result = match_inventory(inventory(packages), shared_db)
    unchecked = sum(n.packages for n in result.notes if n.code in ("invalid-version", "no-advisory-data"))
    looked_at = result.checked + unchecked + sum(result.skipped.values())
    assert looked_at == len(packages)  # every package is matched, noted or deliberately skipped
