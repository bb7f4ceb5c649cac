"""Shared pytest fixtures. Fixture modules live beside this file and are imported here."""

import os
from collections.abc import Iterator

import pytest

from tests.registry_fixture import auth_registry, registry  # noqa: F401 - pytest fixtures


@pytest.fixture(scope="session", autouse=True)
def private_image_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI scans record every image in the store of scanned images (hygiene base-image matching): keep the test
    suite's scans out of the user's ~/.cache/imagescan/images.db."""
    old = os.environ.get("IMAGESCAN_IMAGES_DB")
    os.environ["IMAGESCAN_IMAGES_DB"] = str(tmp_path_factory.mktemp("image-store") / "images.db")
    yield
    if old is None:
        os.environ.pop("IMAGESCAN_IMAGES_DB", None)
    else:
        os.environ["IMAGESCAN_IMAGES_DB"] = old
