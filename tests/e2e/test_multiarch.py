"""An image index with two platforms and attestation manifests, from a layout and from a registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import build as fixture_build
from fixtures import skopeo
from imagescan.cli import run
from imagescan.image.manifest import Platform
from imagescan.scan import ScanOptions, analyze_image
from tests.registry_fixture import RegistryServer


@pytest.fixture(scope="module")
def multiarch() -> Path:
    return fixture_build.build("multiarch")


def _names(reference: str, platform: str | None = None) -> tuple[str, set[str]]:
    options = ScanOptions(platform=Platform.parse(platform) if platform else None)
    analysis = analyze_image(reference, options)
    return str(analysis.image.platform), {p.name for p in analysis.merged.packages}


def _check(reference: str) -> None:
    platform, names = _names(reference)
    assert platform == "linux/amd64" and "libssl3" in names and "libatomic1" not in names
    platform, names = _names(reference, "linux/arm64")
    assert platform.startswith("linux/arm64") and "libatomic1" in names and "libssl3" not in names


def test_layout_index_platform_selection(multiarch: Path) -> None:
    _check(f"oci:{multiarch}")


@pytest.mark.parametrize("fmt", ["oci", "v2s2"])
def test_registry_index_platform_selection(multiarch: Path, registry: RegistryServer, fmt: str) -> None:
    reference = f"{registry.address}/e2e/multiarch-{fmt}:v1"
    skopeo.push(multiarch, reference, fmt)  # type: ignore[arg-type]
    _check(reference)


def test_missing_platform_is_exit_2_with_the_choices(multiarch: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["sbom", f"oci:{multiarch}", "--platform", "linux/s390x"]) == 2
    err = capsys.readouterr().err
    assert "linux/s390x" in err and "linux/amd64" in err and "unknown" not in err
