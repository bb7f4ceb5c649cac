"""Real Debian 12 content (debootstrap minbase, apt install, dpkg --purge) against dpkg-query of the final root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures import build as fixture_build
from fixtures import skopeo
from imagescan.models import OS_PACKAGE_TYPES
from imagescan.sbom.cyclonedx import PROP_LAYER, sbom_json, validation_errors
from imagescan.scan import ImageAnalysis, analyze_image
from tests.e2e.conftest import sbom_without_reference


@pytest.fixture(scope="module")
def debian() -> Path:
    return fixture_build.build("debian")


@pytest.fixture(scope="module")
def analysis(debian: Path) -> ImageAnalysis:
    return analyze_image(f"oci:{debian}")


def _expected(debian: Path) -> set[tuple[str, str, str]]:
    rows = (debian.parent / "expected-dpkg.tsv").read_text().splitlines()
    return {tuple(row.split("\t")) for row in rows if row}  # type: ignore[misc]


def test_exactly_what_dpkg_query_lists(debian: Path, analysis: ImageAnalysis) -> None:
    found = [(p.name, p.version, p.arch or "") for p in analysis.merged.packages if p.type in OS_PACKAGE_TYPES]
    assert len(found) == len(set(found))
    assert set(found) == _expected(debian)
    assert analysis.os is not None and (analysis.os.id, analysis.os.distro_qualifier()) == ("debian", "debian-12")


def test_layers_and_purge(analysis: ImageAnalysis) -> None:
    base, installed, purged = analysis.image.diff_ids
    layer = {p.name: p.layer_diff_id for p in analysis.merged.packages if p.type in OS_PACKAGE_TYPES}
    assert "curl" not in layer  # purged in the third layer
    assert layer["ca-certificates"] == installed and layer["libcurl4"] == installed
    assert layer["dpkg"] == base and layer["base-files"] == base
    assert "usr/bin/curl" not in analysis.merged.files
    assert not any(p.layer_diff_id == purged for p in analysis.merged.packages)
    dpkg = next(p for p in analysis.merged.packages if p.name == "dpkg")
    assert "usr/bin/dpkg" in dpkg.files
    assert all(layer.complete and not layer.warnings for layer in analysis.layers)


def test_source_packages_and_epochs_in_purls(analysis: ImageAnalysis) -> None:
    doc = json.loads(sbom_json(analysis))
    assert validation_errors(json.dumps(doc)) is None
    purls = {c["name"]: c["purl"] for c in doc["components"] if c["type"] == "library"}
    assert "upstream=openssl" in purls["libssl3"]
    assert purls["zlib1g"].startswith("pkg:deb/debian/zlib1g@1:1.2.13")
    assert all(
        any(p["name"] == PROP_LAYER and p["value"].startswith("sha256:") for p in c["properties"])
        for c in doc["components"] if c["type"] == "library"
    )


def test_docker_archive_of_real_image_matches(debian: Path, analysis: ImageAnalysis, tmp_path: Path) -> None:
    archive = skopeo.to_docker_archive(debian, tmp_path / "debian.tar", tag="debian:fixture")
    other = analyze_image(f"docker-archive:{archive}")
    assert sbom_without_reference(sbom_json(other)) == sbom_without_reference(sbom_json(analysis))
