"""Images built by the fixture builder (fixtures/), in every transport, for end-to-end tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from fixtures import skopeo


@pytest.fixture(scope="session")
def small_layout() -> Path:
    return fixture_build.build("small")


@pytest.fixture(scope="session")
def small_archives(small_layout: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("small-archives")
    return {
        "oci-archive": skopeo.to_oci_archive(small_layout, out / "small-oci.tar"),
        "docker-archive": skopeo.to_docker_archive(small_layout, out / "small-docker.tar", tag="small:latest"),
    }


def sbom_without_reference(document: str) -> dict[str, Any]:
    """A CycloneDX document with what legitimately differs between transports removed."""
    doc: dict[str, Any] = json.loads(document)
    doc.pop("serialNumber", None)
    meta = doc.get("metadata", {})
    meta.pop("timestamp", None)
    meta.pop("component", None)
    for dep in doc.get("dependencies", []):
        if dep.get("ref") == "image":
            dep.pop("ref")
    return doc
