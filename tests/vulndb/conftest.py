"""Shared fixtures: the database built from all of shared/data (once per test session) and our hand-written
samples of formats that have no real sample in shared/data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.models import BuildReport
from imagescan.vulndb.store import VulnDB
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
DATA = SHARED / "data"
SAMPLES = Path(__file__).resolve().parent / "data"


def need_shared() -> None:
    if not (DATA / "osv" / "pypi-pysec-osv.zip").is_file():
        missing(f"shared data not found at {DATA} (set IMAGESCAN_SHARED)")


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuildReport, Path]:
    need_shared()
    out = tmp_path_factory.mktemp("vulndb") / "all.db"
    report = build_database([DATA], out)
    return report, out


@pytest.fixture(scope="session")
def full_db(full_build: tuple[BuildReport, Path]) -> Iterator[VulnDB]:
    db = VulnDB(full_build[1])
    yield db
    db.close()
