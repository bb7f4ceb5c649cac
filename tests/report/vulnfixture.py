"""The ``small`` fixture image matched against a hand-made database: one record per fix state, a multi-CVE
advisory, KEV, EPSS, CVSS and a GIT-only record, so that the reports show every shape a vulnerability finding
takes. Deterministic (fixed build time, fixed image), for golden files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from fixtures import build as fixture_build
from imagescan.checks.base import CheckContext
from imagescan.checks.incomplete import IncompleteCheck
from imagescan.checks.registry import run_checks
from imagescan.findings import Finding
from imagescan.match.check import VulnerabilityCheck
from imagescan.report.json_report import build_report
from imagescan.scan import ImageAnalysis, analyze_image
from imagescan.vulndb.store import VulnDB
from tests.match.records import build_db, fixed_range, record

TIMESTAMP = datetime(2026, 1, 1, tzinfo=UTC)
SERIAL = UUID("00000000-0000-4000-8000-000000000000")
CVSS_75 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
CVSS_98 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"

RECORDS = [
    record("DEBIAN-CVE-2024-2398", "Debian:12", "curl", upstream=["CVE-2024-2398"],
           ranges=[fixed_range(("introduced", "0"), ("fixed", "7.88.1-10+deb12u6"))],
           summary="CVE-2024-2398: HTTP/2 push headers memory-leak"),
    record("DSA-9001-1", "Debian:12", "openssl", upstream=["CVE-2024-1001", "CVE-2024-1002"], severity="high",
           ranges=[fixed_range(("introduced", "0"), ("fixed", "3.0.16-1~deb12u1"))],
           summary="openssl - security update",
           references=["https://security-tracker.debian.org/tracker/DSA-9001-1"]),
    record("DEBIAN-CVE-2024-1003", "Debian:12", "openssl", upstream=["CVE-2024-1003"], status="ignored",
           reason="no-dsa, ignored: Minor issue", cvss=CVSS_75, summary="CVE-2024-1003: timing side channel"),
    record("DEBIAN-CVE-2024-1004", "Debian:12", "zlib", upstream=["CVE-2024-1004"], status="open",
           summary="CVE-2024-1004: inflate overflow"),
    record("DEBIAN-CVE-2024-1005", "Debian:12", "zlib", upstream=["CVE-2024-1005"], status="end-of-life",
           summary="CVE-2024-1005: minizip issue"),
    record("DEBIAN-CVE-2024-1009", "Debian:12", "zlib", upstream=["CVE-2024-1009"], status="not-affected"),
    record("PYSEC-2024-50", "PyPI", "requests", aliases=["CVE-2024-1006", "GHSA-abcd-efgh-ijkl"], cvss=CVSS_98,
           ranges=[fixed_range(("introduced", "0"), ("fixed", "2.31.0"))], summary="Requests leaks headers",
           references=["https://github.com/psf/requests/security/advisories/GHSA-abcd-efgh-ijkl"]),
    record("PYSEC-2024-51", "PyPI", "requests", ranges=[
        {"type": "GIT", "repo": "https://example.invalid/requests", "events": [{"introduced": "0"},
                                                                               {"fixed": "f" * 40}]}]),
    record("GHSA-mnop-qrst-uvwx", "npm", "lodash", aliases=["CVE-2024-1007"], severity="MODERATE", cvss=CVSS_75,
           ranges=[fixed_range(("introduced", "0"), ("fixed", "4.17.21"), kind="SEMVER")],
           summary="Prototype pollution in lodash"),
]
KEV = ["CVE-2024-1003"]
EPSS = {"CVE-2024-1003": 0.91, "CVE-2024-1006": 0.02}


@dataclass
class Scanned:
    analysis: ImageAnalysis
    db: VulnDB
    findings: list[Finding]
    report: dict[str, Any]


def scan_small(tmp: Path) -> Scanned:
    db = build_db(tmp, RECORDS, kev=KEV, epss=EPSS)
    analysis = analyze_image(f"oci:{fixture_build.build('small')}")
    # only the checks whose output this fixture is about (others, such as the image's age, change with the date)
    findings = run_checks(analysis, CheckContext(vulndb=db), checks=[IncompleteCheck(), VulnerabilityCheck()])
    report = build_report(analysis, findings, db.info())
    report["image"]["reference"] = "oci:small"  # the layout's path differs between machines
    return Scanned(analysis, db, findings, report)
