"""``scripts/local-pipeline`` end to end, as a user runs it: a separate process, images from the fixtures, one JSON
document on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fixtures import build as fixture_build
from fixtures import skopeo
from imagescan.image.reference import parse_reference
from localpipeline.ecr import repository_name
from localpipeline.run import PRICES
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))


def local_pipeline(*args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "scripts.local_pipeline", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    document: dict[str, Any] = json.loads(proc.stdout)  # stdout is the document and nothing else
    return document


@pytest.fixture(scope="module")
def two_rounds() -> dict[str, Any]:
    small, multiarch = fixture_build.build("small"), fixture_build.build("multiarch")
    return local_pipeline(f"oci:{small}", f"oci:{multiarch}", "--repeat", "2")


def test_every_push_is_scanned_into_s3_dynamodb_and_security_hub(two_rounds: dict[str, Any]) -> None:
    runs = two_rounds["runs"]
    assert [(r["round"], r["image"]["repository"].split("-")[0]) for r in runs] == [
        (1, "small"), (1, "multiarch"), (2, "small"), (2, "multiarch")]
    for run in runs:
        assert run["execution"]["status"] == "SUCCEEDED" and run["execution"]["scan_status"] == "SUCCEEDED"
        assert run["image"]["digest"].startswith("sha256:")
        assert run["sbom"]["s3_key"] == f"sboms/{run['image']['digest']}/linux-amd64.cdx.json"
        assert run["sbom"]["components"] > 0
        findings = run["findings"]
        assert findings["dynamodb"] > 0 and findings["dynamodb"] == findings["securityhub_active"]
        assert findings["securityhub_archived"] == 0
        assert sum(findings["by_kind"].values()) == findings["dynamodb"]
        layers = run["layers"]
        assert layers["total"] == layers["analyzed"] + layers["cached"] + layers["failed"] == 3
    multiarch = runs[1]
    assert {p["platform"] for p in multiarch["sbom"]["platforms"]} == {"linux/amd64", "linux/arm64/v8"}


def test_second_delivery_analyses_no_layer_and_changes_no_finding(two_rounds: dict[str, Any]) -> None:
    first, second = two_rounds["runs"][:2], two_rounds["runs"][2:]
    for before, after in zip(first, second, strict=True):
        assert before["image"] == after["image"]
        assert before["execution"]["arn"] != after["execution"]["arn"]  # a new scan, not a deduplicated event
        assert before["layers"]["analyzed"] == 3 and after["layers"] == {
            "total": 3, "analyzed": 0, "cached": 3, "failed": 0}
        assert after["findings"] == before["findings"]  # fingerprint included: no item changed
        assert after["cost"]["by_function"].get("analyze_layer") is None


def test_cost_is_measured_per_scan(two_rounds: dict[str, Any]) -> None:
    cost = two_rounds["cost"]
    assert cost["prices"] == PRICES
    first, rescan = cost["first_scan"], cost["rescan"]
    assert first["scans"] == rescan["scans"] == 2
    assert first["lambda_gb_seconds"] > rescan["lambda_gb_seconds"] > 0
    assert first["state_transitions"] >= 10 and first["usd_per_1000_scans"] > 0
    run = two_rounds["runs"][0]["cost"]
    assert set(run["by_function"]) == {"on_push", "resolve_image", "analyze_layer", "assemble", "publish"}
    assert run["by_function"]["analyze_layer"]["invocations"] == 3
    assert run["lambda_invocations"] == sum(f["invocations"] for f in run["by_function"].values())


def test_database_and_another_transport(tmp_path: Path, two_rounds: dict[str, Any]) -> None:
    from imagescan.vulndb.builder import build_database

    kev = SHARED / "data" / "kev" / "known_exploited_vulnerabilities.json.gz"
    if not kev.is_file():
        missing(f"shared data not found at {kev} (set IMAGESCAN_SHARED)")
    build_database([kev], tmp_path / "imagescan.db")
    archive = skopeo.to_docker_archive(fixture_build.build("small"), tmp_path / "small.tar", tag="small:latest")
    document = local_pipeline(f"docker-archive:{archive}", "--db", str(tmp_path / "imagescan.db"))
    (run,) = document["runs"]
    assert run["image"]["repository"] == "small" and run["execution"]["status"] == "SUCCEEDED"
    assert run["findings"]["dynamodb"] == run["findings"]["securityhub_active"] > 0
    assert "rescan" not in document["cost"]
    # The assemble step matched with the database from the bucket; without --db there was none.
    assert len(run["database_built_at"]) == 1
    assert all(r["database_built_at"] == [] for r in two_rounds["runs"])


def test_repository_names() -> None:
    assert repository_name(parse_reference("oci:/x/small-abc/oci")) == "small-abc"
    assert repository_name(parse_reference("oci-archive:/x/My Image.tar")) == "my-image"
    assert repository_name(parse_reference("registry.example/team/app:1")) == "team/app"
    assert repository_name(parse_reference("docker-archive:/x/___.tar")) == "image"


def test_images_in_a_registry_account() -> None:
    """``--registry-account``: the image is pushed into that account, forwarded to the scanner, read as its role."""
    account = "210987654321"
    document = local_pipeline(f"oci:{fixture_build.build('small')}", "--registry-account", account)
    (run,) = document["runs"]
    assert run["image"]["account"] == account and run["execution"]["status"] == "SUCCEEDED"
    assert run["layers"]["analyzed"] == 3 and run["findings"]["dynamodb"] == run["findings"]["securityhub_active"] > 0
    (decision,) = document["access"]["assume_role"]
    assert decision["role_arn"] == f"arn:aws:iam::{account}:role/imagescan-registry-read"
    assert decision["refusal"] is None and ":role/imagescan/imagescan-local-" in decision["principal"]
    assert set(document["access"]["ecr_tokens"]) == {f"{account} -> {account}"}


def test_registry_account_must_be_another_account(capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.local_pipeline import parse_args

    for wrong in ("12345", "123456789012"):
        with pytest.raises(SystemExit):
            parse_args(["oci:x", "--registry-account", wrong])
        assert "--registry-account" in capsys.readouterr().err
    assert parse_args(["oci:x", "--registry-account", "210987654321"]).registry_account == "210987654321"
