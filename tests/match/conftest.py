"""The database built from all of shared/data (:mod:`tests.match.shareddb`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from imagescan.vulndb.store import VulnDB
from tests.match.shareddb import shared_db_file


@pytest.fixture(scope="session")
def shared_db_path() -> Path:
    return shared_db_file()


@pytest.fixture(scope="session")
def shared_db(shared_db_path: Path) -> Iterator[VulnDB]:
    db = VulnDB(shared_db_path)
    yield db
    db.close()
