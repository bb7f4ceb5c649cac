"""Real Debian Java packages and application archives built from them (fixtures/recipes/java.py), against the
ground truth the recipe read from the real files: every Maven component, nested ones included, and nothing else."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from fixtures.recipes.java import EXPECTED_FILE
from imagescan.models import Package, PackageType
from imagescan.sbom.cyclonedx import PROP_PATH, sbom_json, validation_errors
from imagescan.scan import ImageAnalysis, analyze_image

Row = tuple[str | None, str, str, str, str | None, str, str | None, str | None]


@pytest.fixture(scope="module")
def java() -> Path:
    return fixture_build.build("java")


@pytest.fixture(scope="module")
def analysis(java: Path) -> ImageAnalysis:
    return analyze_image(f"oci:{java}")


@pytest.fixture(scope="module")
def expected(java: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((java.parent / EXPECTED_FILE).read_text())
    return rows


def _maven(analysis: ImageAnalysis) -> list[Package]:
    return [p for p in analysis.merged.packages if p.type == PackageType.MAVEN]


def _row(p: Package) -> Row:
    return (p.namespace, p.name, p.version, p.path, p.digests.get("sha1"), p.properties["java:identified_by"],
            p.owner, p.qualifiers.get("type"))


def test_exactly_the_maven_components_of_the_files(analysis: ImageAnalysis, expected: list[dict[str, Any]]) -> None:
    want = Counter((e["group"], e["artifact"], e["version"], e["path"], e["sha1"], e["identified_by"], e["owner"],
                    e["type"]) for e in expected)  # fmt: skip
    got = Counter(_row(p) for p in _maven(analysis))
    assert got - want == Counter(), "reported but not in the image"
    assert want - got == Counter(), "in the image but not reported"
    assert len(expected) > 100


def test_what_the_image_holds(analysis: ImageAnalysis) -> None:
    by_path: dict[str, list[Package]] = {}
    for p in _maven(analysis):
        by_path.setdefault(p.path, []).append(p)
    # Debian: real files only (log4j-api-2.19.0.jar is a symlink to log4j-api.jar), owned by their package
    assert [p.name for p in by_path["usr/share/java/log4j-api.jar"]] == ["log4j-api"]
    assert "usr/share/java/log4j-api-2.19.0.jar" not in by_path
    assert {p.owner for p in by_path["usr/share/java/log4j-core.jar"]} == {"deb/liblog4j2-java"}
    assert {p.owner for p in by_path["usr/share/java/commons-text.jar"]} == {"deb/libcommons-text-java"}
    # a Spring Boot fat jar with STORED and DEFLATED nested jars, a WAR inside an EAR, a shaded jar
    assert {p.version for p in by_path["app/app.jar!/BOOT-INF/lib/log4j-core-2.19.0.jar"]} == {"2.19.0"}
    assert "srv/portal-1.0.ear!/shop.war!/WEB-INF/lib/log4j-core-2.19.0.jar" in by_path
    shaded = sorted(by_path["opt/tools/shaded-tool-2.3.jar"], key=lambda p: p.name)
    assert [(p.name, bool(p.digests), p.properties.get("java:shaded")) for p in shaded] == [
        ("commons-lang3", False, "true"), ("shaded-tool", True, None)]
    assert not any(path.startswith("opt/tools/old-tool") for path in by_path)  # deleted by the last layer


def test_layers_and_no_warnings(analysis: ImageAnalysis) -> None:
    _, installed, application, _ = analysis.image.diff_ids
    for p in _maven(analysis):
        assert p.layer_diff_id == (installed if p.path.startswith("usr/") else application), p.path
    warnings = [w for layer in analysis.layers for w in layer.warnings]
    assert not [w for w in warnings if "java-archive" in w.message], warnings


def test_purls_and_properties_in_the_sbom(analysis: ImageAnalysis) -> None:
    document = sbom_json(analysis)
    assert validation_errors(document) is None
    components = [c for c in json.loads(document)["components"] if c.get("purl", "").startswith("pkg:maven/")]
    purls = {c["purl"] for c in components}
    assert "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0" in purls
    assert "pkg:maven/com.example/shop@3.1.0?type=war" in purls
    assert "pkg:maven/portal@1.0?type=ear" in purls  # no groupId known: no namespace
    nested = [c for c in components
              if {"name": PROP_PATH, "value": "app/app.jar!/BOOT-INF/lib/xz-1.9.jar"} in c["properties"]]
    assert len(nested) == 1
    assert {"name": "imagescan:java:identified_by", "value": "MANIFEST.MF"} in nested[0]["properties"]
