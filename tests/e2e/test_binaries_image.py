"""The ``binaries`` image (fixtures/recipes/binaries.py): Go build info, cargo-auditable data and runtimes without
package metadata, compared exactly with what the tools themselves report (``expected-binaries.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from imagescan.catalog.golang import PROP_DEVEL, PROP_REPLACED_BY, PROP_REPLACES, go_semver, split_module
from imagescan.models import Package, PackageType
from imagescan.sbom.cyclonedx import sbom_json, validation_errors
from imagescan.scan import ImageAnalysis, analyze_image


@pytest.fixture(scope="module")
def layout() -> Path:
    return fixture_build.build("binaries")


@pytest.fixture(scope="module")
def expected(layout: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((layout.parent / "expected-binaries.json").read_text())
    return data


@pytest.fixture(scope="module")
def analysis(layout: Path) -> ImageAnalysis:
    return analyze_image(f"oci:{layout}")


def packages(analysis: ImageAnalysis, kind: PackageType, path: str | None = None) -> list[Package]:
    return [p for p in analysis.merged.packages if p.type == kind and (path is None or p.path == path)]


def go_expected(version_m: str) -> set[tuple[str | None, str, str, str]]:
    """(namespace, name, version, component type) that ``go version -m`` output calls for, by the documented
    rules: replacements report the replacing module, a local directory one the original path at (devel)."""
    lines = version_m.splitlines()
    toolchain = lines[0].rsplit(": ", 1)[1]
    out: set[tuple[str | None, str, str, str]] = {(None, "stdlib", go_semver(toolchain) or "", "library")}
    rows = [line.split("\t")[1:] for line in lines[1:]]
    for i, cols in enumerate(rows):
        if not cols or cols[0] not in ("mod", "dep"):
            continue
        path, version = cols[1], cols[2]
        ctype = "application" if cols[0] == "mod" else "library"
        rep = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][:1] == ["=>"] else None
        if rep is not None and not rep[1].startswith((".", "/")):
            path, version = rep[1], rep[2]
        elif rep is not None:
            version = "(devel)"
        out.add((*split_module(path), version, ctype))
    return out


def test_no_warnings_and_large_binary(analysis: ImageAnalysis) -> None:
    assert all(layer.complete and not layer.warnings for layer in analysis.layers)
    node, _ = analysis.merged.files["usr/local/bin/node"]
    assert node.size > 50 * 1024 * 1024  # the ~100 MB binary was read by seeking, and identified


def test_go_binaries_match_go_version_m(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    assert {p.path for p in packages(analysis, PackageType.GOLANG)} == {g["path"] for g in expected["go"]}
    for binary in expected["go"]:
        found = {(p.namespace, p.name, p.version, p.component_type)
                 for p in packages(analysis, PackageType.GOLANG, binary["path"])}
        assert found == go_expected(binary["version_m"]), binary["path"]
    hello = {f"{p.namespace}/{p.name}": p for p in packages(analysis, PackageType.GOLANG, "usr/local/bin/hello-go")}
    assert hello["example.com/forks/text"].properties[PROP_REPLACES] == "golang.org/x/text@v0.7.0"
    assert hello["golang.org/x/sys"].properties[PROP_REPLACED_BY] == "./third_party/sys"
    assert hello["example.com/imagescan/hello"].properties[PROP_DEVEL] == "true"


def test_rust_binary_matches_cargo_tree(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    rust = expected["rust"]
    tree = {tuple(line.split()[:2]) for line in rust["cargo_tree"].splitlines() if line}
    found = packages(analysis, PackageType.CARGO)
    assert {(p.name, "v" + p.version) for p in found} == tree
    assert {p.path for p in found} == {rust["path"]}
    assert [p.name for p in found if p.component_type == "application"] == ["imagescan-rust-hello"]


def test_runtimes_match_the_programs_themselves(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    found = {(p.name, p.version, p.path, p.component_type, p.owner) for p in packages(analysis, PackageType.GENERIC)}
    truth = {(r["name"], r["version"], r["path"], r["component_type"], f"deb/{r['owner']}" if r["owner"] else None)
             for r in expected["runtimes"]}
    # One component per runtime version and kind: node's header is evidence on the node binary's component.
    header = next(t for t in truth if t[2].endswith("include/node/node_version.h"))
    assert found == truth - {header}
    node = next(p for p in packages(analysis, PackageType.GENERIC) if p.name == "node")
    assert node.properties["runtime:also_at"] == header[2]
    owned = {r["path"] for r in expected["runtimes"] if r["owner"]}
    assert {"usr/bin/python3.11", "usr/lib/x86_64-linux-gnu/libcrypto.so.3", "usr/sbin/nginx"} <= owned


def test_sbom(analysis: ImageAnalysis, expected: dict[str, Any]) -> None:
    doc = json.loads(sbom_json(analysis))
    assert validation_errors(json.dumps(doc)) is None
    purls = {c["purl"] for c in doc["components"] if "purl" in c}
    python = next(r["version"] for r in expected["runtimes"] if r["name"] == "python")
    assert {"pkg:golang/golang.org/x/net@v0.7.0", "pkg:cargo/semver@1.0.14", f"pkg:generic/python@{python}",
            "pkg:golang/example.com/forks/text@v0.7.1-imagescan"} <= purls
    assert any(p.startswith("pkg:golang/stdlib@v1.") for p in purls)
    props = {(p["name"], p["value"]) for c in doc["components"] for p in c.get("properties", [])}
    assert ("imagescan:go:replaces", "golang.org/x/text@v0.7.0") in props
