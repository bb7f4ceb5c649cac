"""Security Hub: the sender's batching, rate limit and retries (a fake client on a fake clock); the publish step
with its sinks in order under moto (the same active findings in DynamoDB and Security Hub, ARCHIVED for a fixed
finding, a repeated publish changing nothing); the scheduled refresh before the 90-day expiry."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from imagescan.aws import clients, keys, s3io, securityhub
from imagescan.aws.errors import TransientError
from imagescan.aws.events import ImageTarget, LayerOutcome, PlatformResult, PublishTask
from imagescan.aws.findings_store import FindingsStore, PlatformFindings
from imagescan.aws.pipeline import Pipeline
from imagescan.aws.publish import default_sinks, publish
from imagescan.aws.scanstate import ScanStateTable
from imagescan.aws.securityhub import (
    HubRefresher,
    SecurityHubImportError,
    SecurityHubSender,
    TokenBucket,
    images_table_tags,
    raise_for,
)
from imagescan.aws.settings import Settings
from localpipeline.lambdas import FakeContext, load_handler
from tests.aws.tables import REGION, create_bucket, create_tables, table_contents
from tests.report.asff_fixture import ARM_DIGEST, DIGEST, assert_valid_asff, handmade_findings, handmade_report

REPO = Path(__file__).resolve().parents[2]
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
IMAGE = ImageTarget(registry=REGISTRY, repository="team/web", digest="sha256:" + "e0" * 32, tag="1.4.2")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeHub:
    """Records each BatchImportFindings call (time, size); scripted errors and per-finding failures."""

    def __init__(self, clock: FakeClock, errors: Sequence[str] = (), failures: Mapping[str, list[str]] | None = None,
                 ) -> None:
        self.clock, self.errors, self.failures = clock, list(errors), dict(failures or {})
        self.calls: list[tuple[float, int]] = []
        self.stored: dict[str, Mapping[str, Any]] = {}

    def batch_import_findings(self, *, Findings: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        self.calls.append((self.clock(), len(Findings)))
        if self.errors:
            code = self.errors.pop(0)
            error: Any = {"Error": {"Code": code, "Message": "Rate exceeded"},
                          "ResponseMetadata": {"HTTPStatusCode": 429}}
            raise ClientError(error, "BatchImportFindings")
        failed = []
        for finding in Findings:
            codes = self.failures.get(finding["Id"])
            if codes:
                failed.append({"Id": finding["Id"], "ErrorCode": codes.pop(0), "ErrorMessage": "no"})
            else:
                self.stored[finding["Id"]] = finding
        return {"SuccessCount": len(Findings) - len(failed), "FailedCount": len(failed), "FailedFindings": failed}


def _findings(n: int, size: int = 0) -> list[dict[str, Any]]:
    return [{"Id": f"finding-{i}", "Description": "x" * size} for i in range(n)]


def _sender(hub: FakeHub, clock: FakeClock, **kw: Any) -> SecurityHubSender:
    return SecurityHubSender(hub, bucket=TokenBucket(clock=clock, sleep=clock.sleep), sleep=clock.sleep, **kw)


def test_1050_findings_are_11_calls_at_most_10_a_second() -> None:
    clock = FakeClock()
    hub = FakeHub(clock)
    outcome = _sender(hub, clock).send(_findings(1050))
    assert outcome.calls == 11 and [n for _, n in hub.calls] == [100] * 10 + [50]
    assert len(outcome.imported) == 1050 and not outcome.failed and not outcome.unsent
    gaps = [b[0] - a[0] for a, b in zip(hub.calls, hub.calls[1:], strict=False)]
    assert all(gap >= 0.1 - 1e-9 for gap in gaps) and hub.calls[-1][0] - hub.calls[0][0] == pytest.approx(1.0)


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, capacity=3, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(6):
        bucket.acquire()
        times.append(clock())
    assert times[:3] == [1000.0] * 3 and times[3:] == pytest.approx([1000.1, 1000.2, 1000.3])
    clock.now += 5  # idle: the bucket refills to its capacity, not beyond
    for _ in range(4):
        bucket.acquire()
    assert clock() == pytest.approx(1005.4)


def test_batches_respect_the_size_limits() -> None:
    clock = FakeClock()
    hub = FakeHub(clock)
    sender = _sender(hub, clock, batch_bytes_max=250_000)
    outcome = sender.send([*_findings(5, 100_000), {"Id": "huge", "Description": "y" * 250_000}])
    assert [n for _, n in hub.calls] == [2, 2, 1]
    assert outcome.failed == [{"Id": "huge", "ErrorCode": "FindingTooLarge",
                               "ErrorMessage": "250030 bytes (Security Hub takes 240 KB per finding)"}]


@pytest.mark.parametrize("code", ["TooManyRequestsException", "ThrottlingException"])
def test_throttling_is_retried_with_backoff(code: str) -> None:
    clock = FakeClock()
    hub = FakeHub(clock, errors=[code, code])
    outcome = _sender(hub, clock).send(_findings(3))
    assert outcome.calls == 3 and len(outcome.imported) == 3 and len(hub.stored) == 3
    backoffs = [s for s in clock.sleeps if s >= 0.25]
    assert len(backoffs) == 2 and backoffs[1] > backoffs[0] * 0.9
    endless = FakeHub(clock, errors=[code] * 10)
    with pytest.raises(TransientError, match="still throttled"):
        _sender(endless, clock, max_attempts=4).send(_findings(3))
    assert len(endless.calls) == 4


def test_failed_findings_retried_when_temporary_and_reported_when_not() -> None:
    clock = FakeClock()
    hub = FakeHub(clock, failures={"finding-1": ["InternalFailure"], "finding-2": ["InvalidInput"],
                                   "finding-3": ["ThrottlingException"] * 10})
    outcome = _sender(hub, clock, max_attempts=3).send(_findings(5))
    assert sorted(outcome.imported) == ["finding-0", "finding-1", "finding-4"]
    assert outcome.failed == [{"Id": "finding-2", "ErrorCode": "InvalidInput", "ErrorMessage": "no"}]
    assert [u["Id"] for u in outcome.unsent] == ["finding-3"]
    assert [n for _, n in hub.calls] == [5, 2, 1]  # only the failed findings are sent again
    with pytest.raises(SecurityHubImportError, match="finding-2: InvalidInput"):
        raise_for(outcome)
    outcome.failed.clear()
    with pytest.raises(TransientError, match="ThrottlingException"):
        raise_for(outcome)


# -- the publish step under moto ---------------------------------------------------------------------------------


@pytest.fixture
def aws(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    tables = create_tables("FindingsTable", "ImagesTable", "ScanStateTable")
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)
    securityhub.forget_account()
    settings = Settings(bucket=create_bucket(), findings_table=tables["FindingsTable"],
                        images_table=tables["ImagesTable"], scan_state_table=tables["ScanStateTable"],
                        security_hub=True, region=REGION)
    return Pipeline(settings=settings, s3=clients.s3(), dynamodb=clients.dynamodb())


def _task(pipeline: Pipeline, scan_id: str, started: dt.datetime, amd_findings: Any = None) -> PublishTask:
    platforms = []
    for platform, digest, slug in (("linux/amd64", DIGEST, "linux-amd64"), ("linux/arm64", ARM_DIGEST, "linux-arm64")):
        findings = amd_findings if amd_findings is not None and platform == "linux/amd64" else None
        report = handmade_report(digest, platform, findings)
        key = keys.report_key(scan_id, slug)
        s3io.put_json(pipeline.s3, pipeline.settings.bucket, key, json.dumps(report), compress=True)
        platforms.append(PlatformResult(platform=platform, manifest_digest=digest, sbom_key=keys.sbom_key(
            IMAGE.digest, slug), report_key=key, packages=0, findings={}, incomplete_layers=0))
    return PublishTask(scan_id=scan_id, image=IMAGE, started_at=started, platforms=platforms,
                       layers=[LayerOutcome(cached=False)])


def _hub_findings() -> dict[str, dict[str, Any]]:
    client = boto3.client("securityhub", region_name=REGION)
    found: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("get_findings").paginate():  # moto ignores filters: all findings
        found.update({f["Id"]: f for f in page["Findings"]})
    return found


def _open_items(pipeline: Pipeline) -> list[dict[str, Any]]:
    store = FindingsStore(pipeline.dynamodb, pipeline.settings.findings_table)
    return [i for i in store.items(IMAGE.key) if i["status"] == "open"]


def test_sinks_run_in_order_with_the_scan_record_last(aws: Pipeline) -> None:
    assert [s.name for s in default_sinks(aws)] == ["findings-table", "security-hub", "scan-record"]
    off = Pipeline(settings=Settings(bucket="b", findings_table="f", scan_state_table="s"), s3=aws.s3,
                   dynamodb=aws.dynamodb)
    assert [s.name for s in default_sinks(off)] == ["findings-table", "scan-record"]
    bare = Pipeline(settings=Settings(bucket="b", scan_state_table="s"), s3=aws.s3, dynamodb=aws.dynamodb)
    assert [s.name for s in default_sinks(bare)] == ["scan-record"]


def test_publish_puts_the_same_active_findings_in_dynamodb_and_security_hub(aws: Pipeline) -> None:
    started = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    out = publish(_task(aws, "scan-1", started), aws)
    assert out.status == "SUCCEEDED"
    hub = _hub_findings()
    open_items = _open_items(aws)
    assert len(hub) == len(open_items) == 16
    assert {f["ProductFields"]["imagescan/finding_id"] for f in hub.values()} == {i["finding_id"] for i in open_items}
    assert all(f["RecordState"] == "ACTIVE" for f in hub.values())
    assert_valid_asff(list(hub.values()))
    first = next(iter(hub.values()))
    assert first["AwsAccountId"] == "123456789012"  # from STS
    assert first["CreatedAt"] == first["FirstObservedAt"] == first["LastObservedAt"] == "2026-03-01T10:00:00.000Z"
    assert first["Resources"][0]["Details"]["AwsEcrContainerImage"]["ImageTags"] == ["1.4.2"]
    record = ScanStateTable(aws.dynamodb, aws.settings.scan_state_table).get("scan-1")
    assert record is not None and record["status"] == "SUCCEEDED"

    # a rescan a week later: openssl upgraded on amd64 (its CVE-2024-1001 finding gone), everything else the same
    findings = handmade_findings(DIGEST)
    fixed = findings.pop(1)
    publish(_task(aws, "scan-2", started + dt.timedelta(days=7), findings), aws)
    hub = _hub_findings()
    archived = [f for f in hub.values() if f["RecordState"] == "ARCHIVED"]
    assert [f["ProductFields"]["imagescan/finding_id"] for f in archived] == [fixed.id]
    assert archived[0]["UpdatedAt"] > archived[0]["LastObservedAt"] == "2026-03-01T10:00:00.000Z"
    active = [f for f in hub.values() if f["RecordState"] == "ACTIVE"]
    assert len(active) == len(_open_items(aws)) == 15
    assert {f["LastObservedAt"] for f in active} == {"2026-03-08T10:00:00.000Z"}
    assert {f["FirstObservedAt"] for f in active} == {"2026-03-01T10:00:00.000Z"}
    assert_valid_asff(list(hub.values()))

    # the same event again: nothing changes in the table, Security Hub holds the same findings in the same states
    table = json.dumps(table_contents(aws.settings.findings_table), sort_keys=True)
    states = {i: f["RecordState"] for i, f in hub.items()}
    publish(_task(aws, "scan-2", started + dt.timedelta(days=7), findings), aws)
    assert json.dumps(table_contents(aws.settings.findings_table), sort_keys=True) == table
    assert {i: f["RecordState"] for i, f in _hub_findings().items()} == states


class _Refusing:
    def batch_import_findings(self, *, Findings: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        return {"FailedFindings": [{"Id": f["Id"], "ErrorCode": "InvalidAccess", "ErrorMessage": "Security Hub is "
                                    "not enabled"} for f in Findings], "FailedCount": len(Findings)}


def test_a_refused_import_fails_the_step_before_the_scan_is_recorded(aws: Pipeline,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "securityhub", functools.cache(_Refusing))  # cached, like the real factory
    with pytest.raises(SecurityHubImportError, match="InvalidAccess"):
        publish(_task(aws, "scan-1", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)), aws)
    assert len(_open_items(aws)) == 16  # the findings table, before it, has the scan
    assert ScanStateTable(aws.dynamodb, aws.settings.scan_state_table).get("scan-1") is None


# -- the refresh before the 90-day expiry -----------------------------------------------------------------------


def test_open_findings_are_refreshed_before_they_expire(aws: Pipeline) -> None:
    now = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
    store = FindingsStore(aws.dynamodb, aws.settings.findings_table)
    recent = ImageTarget(registry=REGISTRY, repository="team/api", digest="sha256:" + "e1" * 32)
    amd = PlatformFindings.of_report(handmade_report(DIGEST, "linux/amd64"))
    store.sync(IMAGE, "old-scan", now - dt.timedelta(days=45), [amd], complete=True)
    store.sync(IMAGE, "old-rescan", now - dt.timedelta(days=40),
               [PlatformFindings.of_report(handmade_report(DIGEST, "linux/amd64", handmade_findings(DIGEST)[1:]))],
               complete=True)  # one finding resolved: never refreshed
    store.sync(recent, "new-scan", now - dt.timedelta(days=5),
               [PlatformFindings.of_report(handmade_report("sha256:" + "f1" * 32, "linux/amd64"))], complete=True)
    aws.dynamodb.put_item(TableName=aws.settings.images_table, Item={
        "repository": {"S": f"{REGISTRY}/team/web"}, "digest": {"S": IMAGE.digest},
        "tags": {"SS": ["1.4.2", "stable"]}})
    hub_client = boto3.client("securityhub", region_name=REGION)
    clock = FakeClock()
    refresher = HubRefresher(store, SecurityHubSender(hub_client, sleep=clock.sleep,
                                                      bucket=TokenBucket(clock=clock, sleep=clock.sleep)),
                             "123456789012", REGION, images_table_tags(aws.dynamodb, aws.settings.images_table))
    summary = refresher.refresh(now)
    assert (summary.candidates, summary.sent, summary.refreshed, summary.failed) == (7, 7, 7, 0)
    hub = _hub_findings()
    assert len(hub) == 7 and all(f["UpdatedAt"] == "2026-06-01T04:00:00.000Z" for f in hub.values())
    assert {f["LastObservedAt"] for f in hub.values()} == {"2026-04-22T04:00:00.000Z"}
    assert all(f["Resources"][0]["Details"]["AwsEcrContainerImage"]["ImageTags"] == ["1.4.2", "stable"]
               for f in hub.values())
    assert all(f["Id"].startswith(IMAGE.key) for f in hub.values())
    assert_valid_asff(list(hub.values()))
    assert all(i.get("hub_refreshed_at") == "2026-06-01T04:00:00.000Z" for i in _open_items(aws))
    assert refresher.refresh(now + dt.timedelta(days=1)).candidates == 0
    again = refresher.refresh(now + dt.timedelta(days=31))
    assert again.candidates == again.refreshed == 15  # now the other image is 36 days unseen too


def test_the_refresh_function_runs_on_its_schedule_event(aws: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"BUCKET": aws.settings.bucket, "FINDINGS_TABLE": aws.settings.findings_table,
                        "IMAGES_TABLE": aws.settings.images_table, "SECURITY_HUB_REFRESH_DAYS": "30"}.items():
        monkeypatch.setenv(name, value)
    store = FindingsStore(aws.dynamodb, aws.settings.findings_table)
    store.sync(IMAGE, "old-scan", dt.datetime.now(dt.UTC) - dt.timedelta(days=60),
               [PlatformFindings.of_report(handmade_report(DIGEST, "linux/amd64"))], complete=True)
    module = load_handler(REPO / "functions" / "hub_refresh")
    event = json.loads((REPO / "events" / "hub-refresh.json").read_text())
    result = module.handler(event, FakeContext("hub-refresh"))
    assert result["sent"] == result["refreshed"] == 8 and not result["truncated"]
    assert len(_hub_findings()) == 8


def test_a_refresh_run_sends_at_most_its_share_and_the_next_run_continues(aws: Pipeline) -> None:
    now = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
    store = FindingsStore(aws.dynamodb, aws.settings.findings_table)
    store.sync(IMAGE, "old-scan", now - dt.timedelta(days=45),
               [PlatformFindings.of_report(handmade_report(DIGEST, "linux/amd64"))], complete=True)
    clock = FakeClock()
    refresher = HubRefresher(store, SecurityHubSender(boto3.client("securityhub", region_name=REGION),
                                                      bucket=TokenBucket(clock=clock, sleep=clock.sleep)),
                             "123456789012", REGION)
    first = refresher.refresh(now, max_findings=3)
    assert (first.candidates, first.refreshed, first.truncated) == (3, 3, True)
    assert {f["Severity"]["Label"] for f in _hub_findings().values()} == {"CRITICAL", "HIGH"}  # most severe first
    second = refresher.refresh(now + dt.timedelta(hours=1), max_findings=100)
    assert (second.candidates, second.truncated) == (5, False) and len(_hub_findings()) == 8
