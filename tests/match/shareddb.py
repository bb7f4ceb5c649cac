"""The database built from all of shared/data, built once per test process whoever asks first (the match and
e2e tests share it: a build takes about 4 s)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

from imagescan.vulndb.builder import build_database
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
DATA = SHARED / "data"


@functools.cache
def _build() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="imagescan-shared-db-"))
    atexit.register(shutil.rmtree, directory, True)
    out = directory / "shared.db"
    report = build_database([DATA], out)
    assert report.errors == [], report.errors
    return out


def shared_db_file() -> Path:
    """The path of the built database; skips the test when shared/data is not there."""
    if not (DATA / "osv" / "pypi-pysec-osv.zip").is_file():
        missing(f"shared data not found at {DATA} (set IMAGESCAN_SHARED)")
    return _build()
