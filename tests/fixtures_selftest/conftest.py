"""The small hand-made fixture images, built once per session into a temp dir (milliseconds; no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.build import build


@pytest.fixture(scope="session")
def images_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fixture-images")


@pytest.fixture(scope="session")
def small(images_dir: Path) -> Path:
    return build("small", images_dir)


@pytest.fixture(scope="session")
def multiarch(images_dir: Path) -> Path:
    return build("multiarch", images_dir)


@pytest.fixture(scope="session")
def apk(images_dir: Path) -> Path:
    return build("apk", images_dir)
