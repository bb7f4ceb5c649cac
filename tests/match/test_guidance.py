"""Fix guidance from vulnerability findings."""

from __future__ import annotations

from typing import Literal

from imagescan.findings import IncompleteFinding, Severity, VulnerabilityFinding
from imagescan.match.guidance import fix_guidance, highest_version
from imagescan.versions import comparator_for


def vuln(vid: str, name: str, installed: str, fixed: str | None, *, severity: Severity = Severity.MEDIUM,
         kev: bool = False, purl_type: str = "deb", source: str | None = None, source_version: str | None = None,
         state: Literal["not-fixed", "wont-fix", "end-of-life"] | None = None,
         path: str = "var/lib/dpkg/status") -> VulnerabilityFinding:
    return VulnerabilityFinding(
        id=f"{vid}-{name}", severity=severity, title=f"{vid} in {name}", vulnerability_id=vid,
        purl=f"pkg:{purl_type}/{name}@{installed}", package_name=name, installed_version=installed,
        fixed_version=fixed, fix_state="fixed" if fixed else state or "not-fixed", known_exploited=kev,
        data_source="test", path=path, source_package=source, source_version=source_version,
    )


def test_one_line_per_source_package_with_the_version_that_fixes_all() -> None:
    findings = [
        vuln("CVE-1", "libssl3", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1", source="openssl"),
        vuln("CVE-2", "libssl3", "3.0.15-1~deb12u1", "3.0.19-1~deb12u2", source="openssl", severity=Severity.HIGH),
        vuln("CVE-2", "openssl", "3.0.15-1~deb12u1", "3.0.19-1~deb12u2"),
        vuln("CVE-3", "openssl", "3.0.15-1~deb12u1", "3.0.9-1", kev=True),  # dpkg order: 3.0.9 < 3.0.19
        vuln("CVE-4", "openssl", "3.0.15-1~deb12u1", None, state="wont-fix"),
        IncompleteFinding(id="x", severity=Severity.LOW, title="t", code="c"),
    ]
    [entry] = fix_guidance(findings)
    assert entry.package == "openssl" and entry.packages == ["libssl3", "openssl"]
    assert (entry.installed_version, entry.fixed_version) == ("3.0.15-1~deb12u1", "3.0.19-1~deb12u2")
    assert (entry.fixes, entry.known_exploited, entry.unfixed) == (3, 1, 1)
    assert entry.highest_severity == Severity.HIGH
    assert entry.vulnerabilities == ["CVE-2", "CVE-3", "CVE-1"]
    assert entry.text == ("upgrade libssl3, openssl (source openssl) from 3.0.15-1~deb12u1 to 3.0.19-1~deb12u2 "
                          "fixes 3 vulnerabilities (1 known exploited, highest HIGH, 1 vulnerability left without "
                          "a fix)")


def test_language_copies_are_separate_and_ordered_by_urgency() -> None:
    findings = [
        vuln("CVE-10", "lodash", "4.17.15", "4.17.19", purl_type="npm", path="a/node_modules/lodash/package.json"),
        vuln("CVE-11", "lodash", "4.17.15", "4.17.21", purl_type="npm", path="a/node_modules/lodash/package.json"),
        vuln("CVE-10", "lodash", "4.17.15", "4.17.19", purl_type="npm", path="b/node_modules/lodash/package.json"),
        vuln("CVE-12", "requests", "2.20.0", "2.31.0", purl_type="pypi", severity=Severity.CRITICAL, path="r"),
        vuln("CVE-13", "minimist", "1.2.0", "1.2.6", purl_type="npm", kev=True, severity=Severity.LOW, path="m"),
    ]
    guidance = fix_guidance(findings)
    assert [(g.package, g.path, g.fixed_version, g.fixes) for g in guidance] == [
        ("minimist", "m", "1.2.6", 1),  # known exploited first
        ("requests", "r", "2.31.0", 1),  # then the most severe
        ("lodash", "a/node_modules/lodash/package.json", "4.17.21", 2),
        ("lodash", "b/node_modules/lodash/package.json", "4.17.19", 1),
    ]
    assert guidance[0].text == "upgrade minimist from 1.2.0 to 1.2.6 fixes 1 vulnerability (1 known exploited, " \
                               "highest LOW)"


def test_source_versions_are_used_for_debian_binaries() -> None:
    findings = [vuln("CVE-1", "bsdutils", "1:2.38.1-5+deb12u3", "2.38.1-5+deb12u4", source="util-linux",
                     source_version="2.38.1-5+deb12u3")]
    [entry] = fix_guidance(findings)
    assert (entry.installed_version, entry.fixed_version) == ("2.38.1-5+deb12u3", "2.38.1-5+deb12u4")


def test_nothing_fixable_no_guidance() -> None:
    assert fix_guidance([vuln("CVE-1", "bash", "5.2-1", None)]) == []
    assert fix_guidance([]) == []


def test_highest_version_falls_back_to_text_order() -> None:
    assert highest_version(["1.10", "1.9"], comparator_for("pypi")) == "1.10"
    assert highest_version(["1.10", "1.9"], None) == "1.9"
    assert highest_version(["latest", "1.0.0"], comparator_for("npm")) == "latest"
