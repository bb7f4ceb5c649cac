"""The hand-made three-layer image: every transport, layer attribution, whiteouts, SBOM validity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures import skopeo
from imagescan.cli import run
from imagescan.sbom.cyclonedx import PROP_LAYER, PROP_PATH, sbom_json, validation_errors
from imagescan.scan import analyze_image
from tests.e2e.conftest import sbom_without_reference
from tests.registry_fixture import RegistryServer

EXPECTED = {
    ("base-files", "12.4+deb12u5"): 0,
    ("zlib1g", "1:1.2.13.dfsg-1"): 0,
    ("libssl3", "3.0.15-1~deb12u1"): 1,
    ("curl", "7.88.1-10+deb12u5"): 1,
    ("requests", "2.20.0"): 2,
    ("lodash", "4.17.15"): 2,
    ("small-app", "1.0.0"): 2,
}


def test_packages_versions_and_layers(small_layout: Path) -> None:
    analysis = analyze_image(f"oci:{small_layout}")
    diff_ids = analysis.image.diff_ids
    found = {(p.name, p.version): p.layer_diff_id for p in analysis.merged.packages}
    assert found == {key: diff_ids[layer] for key, layer in EXPECTED.items()}
    assert analysis.os is not None and analysis.os.id == "debian" and analysis.os.distro_qualifier() == "debian-12"
    assert all(not layer.warnings for layer in analysis.layers)
    curl = next(p for p in analysis.merged.packages if p.name == "curl")
    assert "usr/bin/curl" in curl.files


def test_whiteouts_and_opaque_dirs_apply(small_layout: Path) -> None:
    files = analyze_image(f"oci:{small_layout}").merged.files
    assert "etc/motd" not in files and "root/.aws/credentials" not in files
    assert "var/lib/app/state.json" in files and "var/lib/app/state.db" not in files
    assert "var/lib/app/cache/old.bin" not in files


def test_same_sbom_from_every_local_transport(small_layout: Path, small_archives: dict[str, Path]) -> None:
    documents = {"oci": sbom_json(analyze_image(f"oci:{small_layout}"))}
    for transport, path in small_archives.items():
        documents[transport] = sbom_json(analyze_image(f"{transport}:{path}"))
    for document in documents.values():
        assert validation_errors(document) is None
    normalized = {t: sbom_without_reference(d) for t, d in documents.items()}
    assert normalized["oci-archive"] == normalized["oci"]
    assert normalized["docker-archive"] == normalized["oci"]


def test_sbom_components_carry_purls_and_properties(small_layout: Path) -> None:
    doc = json.loads(sbom_json(analyze_image(f"oci:{small_layout}")))
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["type"] == "container"
    assert doc["metadata"]["component"]["purl"].startswith("pkg:oci/oci@sha256:")
    libs = {c["name"]: c for c in doc["components"] if c["type"] == "library"}
    assert libs["curl"]["purl"] == "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"
    props = {p["name"]: p["value"] for p in libs["curl"]["properties"]}
    assert props[PROP_PATH] == "var/lib/dpkg/status" and props[PROP_LAYER].startswith("sha256:")
    os_component = next(c for c in doc["components"] if c["type"] == "operating-system")
    assert (os_component["name"], os_component["version"]) == ("debian", "12.5")


def test_cli_json_report_and_exit_codes(small_layout: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.json"
    assert run(["scan", f"oci:{small_layout}", "--format", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["schema"] == "imagescan/report/v1"
    assert {p["name"] for p in report["packages"]} == {name for name, _ in EXPECTED}
    kinds = {(f["kind"], f.get("code")) for f in report["findings"]}
    assert ("scan-incomplete", "vulnerabilities-not-checked") in kinds
    assert run(["scan", f"oci:{small_layout}", "--fail-on", "informational"]) == 1
    assert run(["scan", f"oci:{small_layout}", "--fail-on", "critical"]) == 0
    assert run(["scan", f"oci:{tmp_path}/missing"]) == 2
    assert "imagescan:" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["v2s2", "oci"])
def test_registry_gives_the_same_sbom(small_layout: Path, registry: RegistryServer, fmt: str) -> None:
    reference = f"{registry.address}/e2e/small-{fmt}:v1"
    pushed = skopeo.push(small_layout, reference, fmt)  # type: ignore[arg-type]
    analysis = analyze_image(reference)
    assert analysis.digest == pushed
    from_registry = sbom_json(analysis)
    assert validation_errors(from_registry) is None
    local = sbom_json(analyze_image(f"oci:{small_layout}"))
    assert sbom_without_reference(from_registry) == sbom_without_reference(local)
    by_digest = analyze_image(f"docker://{registry.address}/e2e/small-{fmt}@{pushed}")
    assert by_digest.digest == pushed


def test_registry_errors_are_clear_exit_2(registry: RegistryServer, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["sbom", f"{registry.address}/e2e/does-not-exist:v1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("imagescan: ") and "404" in err and len(err.splitlines()) == 1


def test_offline_refuses_registry_references_only(small_layout: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["scan", "--offline", "127.0.0.1:1/some/image:v1"]) == 2
    assert "--offline" in capsys.readouterr().err
    assert run(["scan", "--offline", f"oci:{small_layout}", "--format", "json", "-o", "/dev/null"]) == 0
