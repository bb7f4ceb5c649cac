from __future__ import annotations

import datetime as dt
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
    # Hygiene findings say how old things are ("built 2 years ago"): fix the clock so the file stays golden.
    now = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    report = build_report(analysis, run_checks(analysis, CheckContext(extras={"now": now})))
    report["image"]["reference"] = "oci:small"
    assert_golden(GOLDEN / "small.report.json", report)
    table = render_table(report)
    assert "Packages 7 (4 deb, 2 npm, 1 pypi)" in table and "vulnerability data" in table
