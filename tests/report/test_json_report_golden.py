from __future__ import annotations

from pathlib import Path

from fixtures import build as fixture_build
from imagescan.checks.base import CheckContext
from imagescan.checks.registry import run_checks
from imagescan.report.json_report import build_report
from imagescan.report.table import render_table
from imagescan.scan import analyze_image
from tests.golden import assert_golden

GOLDEN = Path(__file__).parent / "golden"


def test_small_image_report_matches_golden() -> None:
    analysis = analyze_image(f"oci:{fixture_build.build('small')}")
    report = build_report(analysis, run_checks(analysis, CheckContext()))
    report["image"]["reference"] = "oci:small"
    assert_golden(GOLDEN / "small.report.json", report)
    table = render_table(report)
    assert "Packages 4 (4 deb)" in table and "vulnerability data" in table
