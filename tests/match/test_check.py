"""The vulnerability image check: runs only with a database, and turns notes into scan-incomplete findings."""

from __future__ import annotations

from pathlib import Path

from fixtures import build as fixture_build
from imagescan.checks.base import CheckContext
from imagescan.checks.registry import default_checks, run_checks
from imagescan.findings import IncompleteFinding, VulnerabilityFinding
from imagescan.match.check import VulnerabilityCheck
from imagescan.scan import analyze_image
from tests.match.records import build_db, fixed_range, record


def test_registered() -> None:
    assert any(isinstance(check, VulnerabilityCheck) for check in default_checks())


def test_without_a_database_the_scan_says_vulnerabilities_were_not_checked() -> None:
    analysis = analyze_image(f"oci:{fixture_build.build('small')}")
    findings = run_checks(analysis, CheckContext())
    assert not any(isinstance(f, VulnerabilityFinding) for f in findings)
    assert any(isinstance(f, IncompleteFinding) and f.code == "vulnerabilities-not-checked" for f in findings)


def test_with_a_database(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("DEBIAN-CVE-2024-0001", "Debian:12", "curl", upstream=["CVE-2024-0001"],
                                    ranges=[fixed_range(("introduced", "0"), ("fixed", "7.88.1-10+deb12u6"))])])
    analysis = analyze_image(f"oci:{fixture_build.build('small')}")
    context = CheckContext(vulndb=db)
    assert context.vulnerabilities_checked
    findings = run_checks(analysis, context)
    codes = {f.code for f in findings if isinstance(f, IncompleteFinding)}
    assert "vulnerabilities-not-checked" not in codes
    [vuln] = [f for f in findings if isinstance(f, VulnerabilityFinding)]
    assert (vuln.vulnerability_id, vuln.package_name, vuln.fixed_version) == ("CVE-2024-0001", "curl",
                                                                             "7.88.1-10+deb12u6")
    assert vuln.layer_diff_id and vuln.path == "var/lib/dpkg/status"
    # the database has nothing for npm or PyPI: the image's lodash and requests were not checked, and it says so
    notes = {f.title: f for f in findings if isinstance(f, IncompleteFinding) and f.code == "no-advisory-data"}
    assert set(notes) == {"Packages not checked for vulnerabilities: npm has no advisory data",
                          "Packages not checked for vulnerabilities: PyPI has no advisory data"}
    assert all(f.reason and "were not checked" in f.reason for f in notes.values())
    again = run_checks(analysis, CheckContext(vulndb=db))
    assert [f.id for f in again] == [f.id for f in findings]
