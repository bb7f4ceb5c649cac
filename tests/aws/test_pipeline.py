"""The scan state machine end to end: the real ASL (statemachine/scan.asl.json) executed by moto with the template's
resources, the real handlers, and images served by a real registry standing in for ECR (moto's ECR token as the
registry password)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from fixtures import build as fixture_build
from imagescan.aws import keys
from imagescan.catalog.registry import default_catalogers
from imagescan.layer.walker import cache_key_for
from imagescan.sbom.cyclonedx import validation_errors
from tests.aws.conftest import REGION, AwsPipeline
from tests.aws.images import push_derived, push_layout, push_with_corrupt_layer
from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
MAX_STATE_BYTES = 32 * 1024
"""Every state's input and output stays far below Step Functions' 256 KiB: large data travels by S3 key."""


@pytest.fixture(scope="module")
def small() -> Path:
    return fixture_build.build("small")


@pytest.fixture(scope="module")
def multiarch() -> Path:
    return fixture_build.build("multiarch")


def _sfn() -> Any:
    return boto3.client("stepfunctions", region_name=REGION)


def _s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def wait(execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = _sfn().describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{execution_arn} still RUNNING after {timeout} s")
        time.sleep(0.05)


def history(execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn}
    while True:
        page = _sfn().get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def state_payload_sizes(execution_arn: str) -> list[int]:
    sizes = []
    for event in history(execution_arn):
        for value in event.values():
            if isinstance(value, dict):
                for field in ("input", "output"):
                    if isinstance(value.get(field), str):
                        sizes.append(len(value[field].encode()))
    return sizes


def get_json(bucket: str, key: str) -> Any:
    import gzip

    body = _s3().get_object(Bucket=bucket, Key=key)["Body"].read()
    return json.loads(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)


def scan_item(aws: AwsPipeline, scan_id: str, item: str = "scan") -> dict[str, Any] | None:
    from boto3.dynamodb.types import TypeDeserializer

    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=aws.stack.table("ScanStateTable"), Key={"scan_id": {"S": scan_id}, "item": {"S": item}})
    found = raw.get("Item")
    return None if found is None else {k: TypeDeserializer().deserialize(v) for k, v in found.items()}


def scan(aws: AwsPipeline, repository: str, digest: str, tag: str | None = "latest", **kw: Any) -> dict[str, Any]:
    started = aws.deliver(aws.push_event(repository, digest, tag, **kw))
    assert started.get("execution_arn"), started
    described = wait(started["execution_arn"])
    return {**started, "described": described}


def test_multiarch_push_scans_every_platform(aws_pipeline: AwsPipeline, multiarch: Path) -> None:
    aws = aws_pipeline
    digest = push_layout(aws.registry, multiarch, "team/multiarch", "v1")
    aws.dispatcher.reset()
    run = scan(aws, "team/multiarch", digest, "v1",
               manifest_media_type="application/vnd.oci.image.index.v1+json")
    assert run["described"]["status"] == "SUCCEEDED", run["described"]
    output = json.loads(run["described"]["output"])
    assert output["status"] == "SUCCEEDED"
    resolved = aws.dispatcher.of(aws.function("resolve_image"))[0].result
    platforms = {p["platform"]: p for p in resolved["platforms"]}
    assert set(platforms) == {"linux/amd64", "linux/arm64/v8"}  # attestation manifests skipped
    # The app layer is shared by both platforms: distinct layers are analysed once each.
    diff_ids = [layer["diff_id"] for layer in resolved["layers"]]
    assert len(diff_ids) == len(set(diff_ids)) == 3
    assert aws.calls("analyze_layer") == 3 and aws.calls("assemble") == 2 and aws.calls("publish") == 1
    bucket = aws.stack.bucket
    for diff_id in diff_ids:
        key = keys.layer_key(cache_key_for(diff_id, default_catalogers()))
        assert get_json(bucket, key)["diff_id"] == diff_id
    packages = {}
    for platform in ("linux-amd64", "linux-arm64-v8"):
        sbom = _s3().get_object(Bucket=bucket, Key=f"sboms/{digest}/{platform}.cdx.json")["Body"].read().decode()
        assert validation_errors(sbom) is None
        packages[platform] = {c["name"] for c in json.loads(sbom)["components"]}
    assert "libssl3" in packages["linux-amd64"] and "libatomic1" not in packages["linux-amd64"]
    assert "libatomic1" in packages["linux-arm64-v8"] and "libssl3" not in packages["linux-arm64-v8"]
    result = get_json(bucket, output["result_key"])
    assert result["schema"] == "imagescan/scan-result/v1"
    assert result["layers"] == {"total": 3, "analyzed": 3, "cached": 0, "failed": 0}
    record = scan_item(aws, run["scan_id"])
    assert record is not None and record["status"] == "SUCCEEDED" and record["image_digest"] == digest
    assert max(state_payload_sizes(run["execution_arn"])) < MAX_STATE_BYTES


def test_repeated_push_events_start_one_scan(aws_pipeline: AwsPipeline, small: Path) -> None:
    aws = aws_pipeline
    digest = push_layout(aws.registry, small, "team/repeat", "v1")
    first = scan(aws, "team/repeat", digest, "v1", event_id="11111111-2222-3333-4444-555555555555")
    assert first["described"]["status"] == "SUCCEEDED"
    executions = _sfn().list_executions(stateMachineArn=aws.stack.state_machine_arn)["executions"]
    aws.dispatcher.reset()
    # The same event delivered again, and a new event for the same repository and digest (a re-push).
    again = aws.deliver(aws.push_event("team/repeat", digest, "v1", event_id="11111111-2222-3333-4444-555555555555"))
    repush = aws.deliver(aws.push_event("team/repeat", digest, "v1"))
    assert again == repush == {k: first[k] for k in ("scan_id", "execution_arn", "started", "skipped", "refused")}
    assert _sfn().list_executions(stateMachineArn=aws.stack.state_machine_arn)["executions"] == executions
    assert aws.calls("resolve_image") == 0


def test_events_that_start_no_scan(aws_pipeline: AwsPipeline) -> None:
    aws = aws_pipeline
    digest = "sha256:" + "ab" * 32
    assert aws.deliver({**aws.push_event("team/x", digest), "detail": {
        **aws.push_event("team/x", digest)["detail"], "action-type": "DELETE"}}) == {"matched": False}
    child = aws.deliver(aws.push_event("team/x", digest, tag=None,
                                       manifest_media_type="application/vnd.oci.image.manifest.v1+json"))
    assert child["started"] is False and "untagged" in child["skipped"]
    signature = aws.push_event("team/x", "sha256:" + "cd" * 32)
    signature["detail"]["artifact-media-type"] = "application/vnd.dev.cosign.artifact.sig.v1+json"
    assert "not a container image" in aws.deliver(signature)["skipped"]


def test_shared_base_layers_are_analysed_once(aws_pipeline: AwsPipeline, small: Path) -> None:
    aws = aws_pipeline
    base = push_layout(aws.registry, small, "team/base", "v1")
    first = scan(aws, "team/base", base, "v1")
    assert first["described"]["status"] == "SUCCEEDED"
    derived = push_derived(aws.registry, small, "team/app", "v2", {"app/extra.txt": b"only in the derived image\n"})
    aws.dispatcher.reset()
    second = scan(aws, "team/app", derived, "v2")
    assert second["described"]["status"] == "SUCCEEDED"
    resolved = aws.dispatcher.of(aws.function("resolve_image"))[0].result
    assert [layer["cached"] for layer in resolved["layers"]] == [True, True, True, False]
    analyzed = aws.dispatcher.of(aws.function("analyze_layer"))
    assert [call.event["layer"]["diff_id"] for call in analyzed] == [resolved["layers"][3]["diff_id"]]
    result = get_json(aws.stack.bucket, json.loads(second["described"]["output"])["result_key"])
    assert result["layers"] == {"total": 4, "analyzed": 1, "cached": 3, "failed": 0}
    report = get_json(aws.stack.bucket, result["platforms"][0]["report_key"])
    assert {"libssl3", "curl", "zlib1g"} <= {p["name"] for p in report["packages"]}


def test_corrupt_layer_is_retried_then_recorded(aws_pipeline: AwsPipeline) -> None:
    aws = aws_pipeline
    digest, (good, bad) = push_with_corrupt_layer(aws.registry, "team/broken", "v1", "corrupt")
    aws.dispatcher.reset()
    run = scan(aws, "team/broken", digest, "v1")
    # The scan completes: one layer's failure costs only that layer, and says so.
    assert run["described"]["status"] == "SUCCEEDED", run["described"]
    assert json.loads(run["described"]["output"])["status"] == "INCOMPLETE"
    calls = aws.dispatcher.of(aws.function("analyze_layer"))
    bad_calls = [c for c in calls if c.event["layer"]["diff_id"] == bad]
    assert [c.error for c in bad_calls] == ["LayerIncompleteError", "LayerIncompleteError"]  # retried once
    assert [c.error for c in calls if c.event["layer"]["diff_id"] == good] == [None]
    catalogers = default_catalogers()
    bucket = aws.stack.bucket
    assert get_json(bucket, keys.layer_key(cache_key_for(good, catalogers)))["complete"] is True
    s3 = _s3()
    with pytest.raises(s3.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key=keys.layer_key(cache_key_for(bad, catalogers)))
    partial = get_json(bucket, keys.partial_layer_key(run["scan_id"], cache_key_for(bad, catalogers)))
    assert partial["complete"] is False
    failure = scan_item(aws, run["scan_id"], f"layer#{bad}")
    assert failure is not None and failure["status"] == "FAILED" and failure["error"] == "LayerIncompleteError"
    assert "corrupt gzip data" in failure["cause"] and bad_calls[0].event["layer"]["digest"] in failure["cause"]
    assert scan_item(aws, run["scan_id"])["status"] == "INCOMPLETE"  # type: ignore[index]
    result = get_json(bucket, json.loads(run["described"]["output"])["result_key"])
    assert result["layers"] == {"total": 2, "analyzed": 1, "cached": 0, "failed": 1}
    report = get_json(bucket, result["platforms"][0]["report_key"])
    incomplete = [f for f in report["findings"] if f["kind"] == "scan-incomplete" and f.get("layer_diff_id") == bad]
    assert incomplete and incomplete[0]["code"] == "layer-unreadable"


def test_unreadable_image_ends_in_the_failure_record(aws_pipeline: AwsPipeline) -> None:
    aws = aws_pipeline
    aws.dispatcher.reset()
    run = scan(aws, "team/missing", "sha256:" + "0f" * 32, "gone")
    assert run["described"]["status"] == "FAILED"
    assert [c.error for c in aws.dispatcher.of(aws.function("resolve_image"))] == ["ImageUnavailableError"]
    record = scan_item(aws, run["scan_id"])
    assert record is not None and record["status"] == "FAILED" and record["error"] == "ImageUnavailableError"
    assert "404" in record["cause"] and record["execution_arn"] == run["execution_arn"]
    assert aws.calls("analyze_layer") == 0 and aws.calls("publish") == 0


def test_throttled_registry_is_retried(aws_pipeline: AwsPipeline, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imagescan.aws import pipeline
    from imagescan.errors import RegistryError

    aws = aws_pipeline
    digest = push_layout(aws.registry, small, "team/throttled", "v1")
    current = pipeline.current()
    real_open = current.open_source
    failures = iter([True, True])

    def flaky(ref: Any) -> Any:
        if next(failures, False):
            raise RegistryError("registry returned 429 Too Many Requests", 429)
        return real_open(ref)

    monkeypatch.setattr(current, "open_source", flaky)
    aws.dispatcher.reset()
    run = scan(aws, "team/throttled", digest, "v1")
    assert run["described"]["status"] == "SUCCEEDED"
    assert [c.error for c in aws.dispatcher.of(aws.function("resolve_image"))] == [
        "TransientError", "TransientError", None]


def test_assemble_matches_with_the_database_from_s3(aws_pipeline: AwsPipeline, small: Path,
                                                     tmp_path: Path) -> None:
    from imagescan.aws import pipeline
    from imagescan.vulndb.builder import build_database

    kev = SHARED / "data" / "kev" / "known_exploited_vulnerabilities.json.gz"
    if not kev.is_file():
        missing(f"shared data not found at {kev} (set IMAGESCAN_SHARED)")
    aws = aws_pipeline
    build_database([kev], tmp_path / "imagescan.db")
    settings = pipeline.current().settings
    _s3().upload_file(str(tmp_path / "imagescan.db"), settings.bucket, settings.db_key)
    downloads = pipeline.current().database.downloads
    for repository in ("team/with-db", "team/with-db-again"):
        digest = push_layout(aws.registry, small, repository, "v1")
        run = scan(aws, repository, digest, "v1")
        assert run["described"]["status"] == "SUCCEEDED"
        result = get_json(aws.stack.bucket, json.loads(run["described"]["output"])["result_key"])
        report = get_json(aws.stack.bucket, result["platforms"][0]["report_key"])
        assert report["database"] is not None and report["database"]["built_at"]
        assert result["platforms"][0]["database_built_at"] == report["database"]["built_at"]
        codes = {f.get("code") for f in report["findings"] if f["kind"] == "scan-incomplete"}
        assert "vulnerabilities-not-checked" not in codes
    # Downloaded once for both scans: the /tmp copy is reused while the object's ETag is the same.
    assert pipeline.current().database.downloads == downloads + 1
