"""rpm and apk images end to end: the database inside a layer, read through the walker and the merge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fixtures import build as fixture_build
from imagescan.sbom.cyclonedx import sbom_json, validation_errors
from imagescan.scan import analyze_image
from tests.catalog.rpm.conftest import ToolDbs, _build_tool_dbs, _rpm_query


@pytest.fixture(scope="module")
def tool_dbs() -> ToolDbs:
    if shutil.which("rpm") is None:
        pytest.fail("the rpm tool is missing: scripts/setup installs it")
    root = _build_tool_dbs()
    return ToolDbs(root, json.loads((root / "manifest.json").read_text()))


@pytest.mark.parametrize(("variant", "os_name"), [("sqlite", "amzn-2023"), ("bdb-le", "rhel-8"), ("bdb-be", "amzn-2")])
def test_rpm_image_lists_what_rpm_qa_lists(tool_dbs: ToolDbs, variant: str, os_name: str) -> None:
    if variant == "sqlite":
        db, args = tool_dbs.sqlite_file, tool_dbs.rpm_sqlite_args()
    else:
        db, args = tool_dbs.bdb_file(variant), tool_dbs.rpm_bdb_args(variant)
    layout = fixture_build.build("rpm", rpmdb=str(db), os=os_name)
    analysis = analyze_image(f"oci:{layout}")
    expected = {(r["name"], f"{r['version']}-{r['release']}", r["arch"], r["epoch"])
                for r in _rpm_query(args) if r["name"] != "gpg-pubkey"}
    found = {(p.name, p.version, p.arch, p.epoch) for p in analysis.merged.packages}
    assert found == expected
    qualifier = analysis.os.distro_qualifier() if analysis.os else None
    assert qualifier is not None and qualifier.startswith(os_name)
    document = sbom_json(analysis)
    assert validation_errors(document) is None
    purls = [c["purl"] for c in json.loads(document)["components"] if c["type"] == "library"]
    namespace = os_name.split("-")[0]
    assert all(p.startswith(f"pkg:rpm/{namespace}/") and f"distro={qualifier}" in p for p in purls)
    assert any("epoch=" in p for p in purls)


def test_apk_image_with_origins_and_layers() -> None:
    layout: Path = fixture_build.build("apk")
    analysis = analyze_image(f"oci:{layout}")
    base, added = analysis.image.diff_ids
    packages = {p.name: p for p in analysis.merged.packages}
    assert {"musl", "busybox", "curl", "libcurl", "nghttp2-libs"} <= set(packages)
    assert packages["curl"].layer_diff_id == added and packages["musl"].layer_diff_id == base
    assert packages["libssl3"].source_name == "openssl"
    assert "usr/bin/curl" in packages["curl"].files
    assert analysis.os is not None and analysis.os.distro_qualifier() == "alpine-3.18"
    document = sbom_json(analysis)
    assert validation_errors(document) is None
    purls = {c["name"]: c["purl"] for c in json.loads(document)["components"] if c["type"] == "library"}
    assert purls["libssl3"].startswith("pkg:apk/alpine/libssl3@3.1.2-r0?")
    assert "distro=alpine-3.18" in purls["libssl3"] and "upstream=openssl" in purls["libssl3"]
