"""Shared fixtures: the end-of-life database built from the shared data, and the analysed fixture images."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures import build as fixture_build
from imagescan.scan import ImageAnalysis, ScanOptions, analyze_image
from imagescan.vulndb.builder import build_database
from imagescan.vulndb.store import VulnDB
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
EOL_JSON = SHARED / "data" / "eol" / "eol.json"


@pytest.fixture(scope="session")
def eol_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VulnDB]:
    if not EOL_JSON.is_file():
        missing(f"shared data not found at {EOL_JSON} (set IMAGESCAN_SHARED)")
    out = tmp_path_factory.mktemp("eol") / "eol.db"
    report = build_database([EOL_JSON], out)
    assert report.ok, report
    with VulnDB(out) as db:
        yield db


def _analysis(name: str) -> ImageAnalysis:
    return analyze_image(f"oci:{fixture_build.build(name)}", ScanOptions(workers=1))


@pytest.fixture(scope="session")
def debian_analysis() -> ImageAnalysis:
    """Real Debian 12 minbase (setuid programs from shadow, util-linux...), curl installed then purged, CMD bash."""
    return _analysis("debian")


@pytest.fixture(scope="session")
def demo_analysis() -> ImageAnalysis:
    """Real Debian 12 + python3 + pip --target packages + an npm app; USER root, CMD python3 /app/app.py."""
    return _analysis("demo")


@pytest.fixture(scope="session")
def small_analysis() -> ImageAnalysis:
    """Hand-made Debian 12.5 dpkg database with curl; no USER; CMD python3 /app/main.py."""
    return _analysis("small")


@pytest.fixture(scope="session")
def apk_analysis() -> ImageAnalysis:
    """Alpine 3.18.4 with apk-tools and curl; CMD /bin/sh."""
    return _analysis("apk")
