"""The findings table under moto, created from template.yaml: one item per finding, a rescan changes only what
changed, resolved findings leave the open index, a repeated event changes nothing (byte for byte), the indexes
answer the users' queries, batches of 25 with unprocessed items and throttling retried, items under 400 KB."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from imagescan.aws.events import ImageTarget
from imagescan.aws.findings_store import (
    OPEN,
    RESOLVED,
    FindingsStore,
    PlatformFindings,
    item_size,
    stored_finding,
)
from imagescan.findings import Finding
from imagescan.report.json_report import finding_dict
from tests.aws.tables import REGION, create_tables, table_contents
from tests.report.asff_fixture import ARM_DIGEST, DIGEST, handmade_findings, handmade_report, vulnerability

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
IMAGE = ImageTarget(registry=REGISTRY, repository="team/web", digest="sha256:" + "e0" * 32, tag="1.4.2")
OTHER = ImageTarget(registry=REGISTRY, repository="team/api", digest="sha256:" + "e1" * 32, tag="2.0")
T1 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 3, 8, 10, 0, tzinfo=dt.UTC)
T3 = dt.datetime(2026, 3, 15, 10, 0, tzinfo=dt.UTC)
CHANGE_MARKS = {"last_seen", "last_scan_id"}


@pytest.fixture
def table(moto_aws: None) -> Iterator[str]:
    yield create_tables("FindingsTable")["FindingsTable"]


@pytest.fixture
def store(table: str) -> FindingsStore:
    return FindingsStore(boto3.client("dynamodb", region_name=REGION), table, retention_days=90,
                         sleep=lambda s: None)


def _platforms(findings: Sequence[Finding] | None = None, arm: Sequence[Finding] | None = None,
               database: bool = True) -> list[PlatformFindings]:
    amd = handmade_report(DIGEST, "linux/amd64", findings, database=database)
    arm64 = handmade_report(ARM_DIGEST, "linux/arm64", arm if arm is not None else handmade_findings(ARM_DIGEST),
                            database=database)
    return [PlatformFindings.of_report(amd), PlatformFindings.of_report(arm64)]


def _by_id(table: str) -> dict[str, dict[str, Any]]:
    return {i["finding_id"]["S"]: i for i in table_contents(table)}


def _without(item: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in keys}


def test_first_scan_puts_one_open_item_per_finding(store: FindingsStore, table: str) -> None:
    platforms = _platforms()
    summary = store.sync(IMAGE, "scan-1", T1, platforms, complete=True)
    total = sum(len(p.findings) for p in platforms)
    assert len(summary.new) == total == 16 and not summary.resolved and summary.writes == 1
    items = store.items(IMAGE.key)
    assert len(items) == total
    for item in items:
        assert item["status"] == OPEN and item["open_severity"] == item["severity"]
        assert item["first_seen"] == item["last_seen"] == item["changed_at"] == "2026-03-01T10:00:00.000Z"
        assert item["first_scan_id"] == item["last_scan_id"] == "scan-1" and "expires_at" not in item
        assert (item["image_digest"], item["repository"], item["registry"]) == (IMAGE.digest, "team/web", REGISTRY)
        assert ("vulnerability_id" in item) == (item["kind"] == "vulnerability")
    report_findings = {f["id"]: f for p in platforms for f in p.findings}
    for item in items:
        assert stored_finding(item) == report_findings[item["finding_id"]]
    libssl = next(i for i in items if i.get("package_name") == "libssl3" and i["platform"] == "linux/amd64")
    assert libssl["vulnerability_id"] == "CVE-2024-1001" and libssl["fixed_version"] == "3.0.16-1~deb12u1"
    assert libssl["layer_digest"] == "sha256:" + "c2" * 32 and libssl["platform_digest"] == DIGEST
    assert libssl["known_exploited"] is True


def test_a_repeated_event_changes_nothing_byte_for_byte(store: FindingsStore, table: str) -> None:
    store.sync(IMAGE, "scan-1", T1, _platforms(), complete=True)
    before = json.dumps(table_contents(table), sort_keys=True)
    again = store.sync(IMAGE, "scan-1", T1, _platforms(), complete=True)
    assert again.writes == 0 and not (again.new or again.changed or again.seen or again.resolved)
    assert json.dumps(table_contents(table), sort_keys=True) == before
    later_retry = store.sync(IMAGE, "scan-1", T1 + dt.timedelta(minutes=3), _platforms(), complete=True)
    assert later_retry.writes == 0 and json.dumps(table_contents(table), sort_keys=True) == before


def test_rescan_resolves_the_fixed_finding_and_changes_only_what_changed(store: FindingsStore, table: str) -> None:
    store.sync(IMAGE, "scan-1", T1, _platforms(), complete=True)
    before = _by_id(table)
    findings = handmade_findings(DIGEST)
    fixed = findings.pop(1)  # openssl upgraded: CVE-2024-1001 gone from that package only
    lodash = findings[1]
    assert lodash.model_dump()["package_name"] == "lodash"
    findings[1] = lodash.model_copy(update={"fixed_version": "4.17.21", "fix_state": "fixed"})
    summary = store.sync(IMAGE, "scan-2", T2, _platforms(findings), complete=True)
    assert summary.resolved == [fixed.id] and summary.changed == [lodash.id] and not summary.new
    assert len(summary.seen) == 14
    after = _by_id(table)
    assert set(after) == set(before)
    gone = after[fixed.id]
    assert gone["status"] == {"S": RESOLVED} and "open_severity" not in gone
    assert gone["resolved_at"] == {"S": "2026-03-08T10:00:00.000Z"} and gone["resolved_scan_id"] == {"S": "scan-2"}
    assert int(gone["expires_at"]["N"]) == int((T2 + dt.timedelta(days=90)).timestamp())
    assert gone["last_seen"] == before[fixed.id]["last_seen"]
    changed = after[lodash.id]
    assert json.loads(changed["finding"]["S"])["fixed_version"] == "4.17.21"
    assert changed["first_seen"] == before[lodash.id]["first_seen"] and changed["changed_scan_id"] == {"S": "scan-2"}
    for fid in summary.seen:  # unchanged: only the "seen" bookkeeping moved
        assert _without(after[fid], CHANGE_MARKS) == _without(before[fid], CHANGE_MARKS)
        assert after[fid]["last_seen"] == {"S": "2026-03-08T10:00:00.000Z"}
    snapshot = json.dumps(table_contents(table), sort_keys=True)
    assert store.sync(IMAGE, "scan-2", T2, _platforms(findings), complete=True).writes == 0
    assert json.dumps(table_contents(table), sort_keys=True) == snapshot
    back = store.sync(IMAGE, "scan-3", T3, _platforms(), complete=True)  # the package went back to the old version
    assert back.reopened == [fixed.id] and back.changed == [lodash.id]
    reopened = store.items(IMAGE.key)
    item = next(i for i in reopened if i["finding_id"] == fixed.id)
    assert item["status"] == OPEN and item["open_severity"] == "HIGH" and "expires_at" not in item
    assert "resolved_at" not in item and item["first_seen"] == "2026-03-01T10:00:00.000Z"


def test_incomplete_scans_and_unchecked_vulnerabilities_resolve_nothing_they_did_not_see(
        store: FindingsStore) -> None:
    store.sync(IMAGE, "scan-1", T1, _platforms(), complete=True)
    only_config = [f for f in handmade_findings(DIGEST) if f.kind == "misconfiguration"]
    incomplete = store.sync(IMAGE, "scan-2", T2, _platforms(only_config), complete=False)
    assert not incomplete.resolved and len(incomplete.kept) == 7
    no_db = store.sync(IMAGE, "scan-3", T3, _platforms(only_config, database=False), complete=True)
    vulns = {f.id for f in handmade_findings(DIGEST) if f.kind == "vulnerability"}
    assert set(no_db.kept) == vulns  # not matched this time: not fixed either
    assert len(no_db.resolved) == 4  # the secret, unwanted software, EOL and incomplete findings are gone


def test_a_late_publish_of_an_older_scan_changes_nothing(store: FindingsStore, table: str) -> None:
    store.sync(IMAGE, "scan-2", T2, _platforms(), complete=True)
    snapshot = json.dumps(table_contents(table), sort_keys=True)
    late = store.sync(IMAGE, "scan-1", T1, _platforms(handmade_findings(DIGEST)[:2]), complete=True)
    assert late.writes == 0 and not late.resolved
    assert json.dumps(table_contents(table), sort_keys=True) == snapshot


def test_the_indexes_answer_the_users_queries(store: FindingsStore) -> None:
    store.sync(IMAGE, "scan-1", T1, _platforms(), complete=True)
    other = [vulnerability(OTHER.digest, "libssl3", "3.0.9-1", "pkg:deb/debian/libssl3@3.0.9-1?arch=arm64")]
    store.sync(OTHER, "scan-9", T2, [PlatformFindings.of_report(handmade_report(OTHER.digest, "linux/arm64", other))],
               complete=True)
    affected = store.images_affected_by("CVE-2024-1001")
    assert sorted({i["image"] for i in affected}) == sorted([IMAGE.key, OTHER.key])
    assert len(affected) == 5  # two packages on two platforms of IMAGE, one of OTHER
    assert {"severity", "status", "purl", "installed_version", "platform"} <= set(affected[0])
    criticals = store.open_findings("CRITICAL")
    assert {i["kind"] for i in criticals} == {"secret"} and len(criticals) == 2
    assert [i["last_seen"] for i in store.open_findings("HIGH")] == sorted(
        (i["last_seen"] for i in store.open_findings("HIGH")), reverse=True)
    assert {i["image"] for i in store.open_findings("HIGH", seen_before=T2)} == {IMAGE.key}
    assert {i["image"] for i in store.open_findings("HIGH", seen_since=T2)} == {OTHER.key}
    store.sync(OTHER, "scan-10", T3, [PlatformFindings.of_report(handmade_report(OTHER.digest, "linux/arm64", []))],
               complete=True)
    assert {i["image"] for i in store.images_affected_by("CVE-2024-1001")} == {IMAGE.key}
    assert len(store.images_affected_by("CVE-2024-1001", open_only=False)) == 5
    assert OTHER.key not in {i["image"] for i in store.open_findings("HIGH")}


def test_items_stay_under_400kb(store: FindingsStore, table: str) -> None:
    big = vulnerability(DIGEST, "libssl3", "3.0.9-1", "pkg:deb/debian/libssl3@3.0.9-1", description="A" * 1_000_000,
                        references=[f"https://example.com/{i}/" + "r" * 200 for i in range(3000)])
    huge_evidence = handmade_findings(DIGEST)[4].model_copy(update={"evidence": "e " * 600_000})
    store.sync(IMAGE, "scan-1", T1, _platforms([big, huge_evidence], arm=[]), complete=True)
    items = store.items(IMAGE.key)
    assert len(items) == 2
    for item in items:
        assert item_size(item) < 400_000
    stored = stored_finding(next(i for i in items if i["kind"] == "vulnerability"))
    assert stored["description"].endswith("...") and len(stored["description"]) <= 4000
    assert len(stored["references"]) == 50


class _Flaky:
    """The moto client, with BatchWriteItem leaving items unprocessed and throttling now and then."""

    def __init__(self, client: Any, throttle: int = 1, unprocessed: int = 2) -> None:
        self._client, self.throttle, self.unprocessed = client, throttle, unprocessed
        self.batch_sizes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        if self.throttle:
            self.throttle -= 1
            error: Any = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"},
                          "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(error, "BatchWriteItem")
        (table, requests), = RequestItems.items()
        assert len(requests) <= 25
        self.batch_sizes.append(len(requests))
        if self.unprocessed and len(requests) > 3:
            self.unprocessed -= 1
            self._client.batch_write_item(RequestItems={table: requests[:-3]})
            return {"UnprocessedItems": {table: requests[-3:]}}
        return dict(self._client.batch_write_item(RequestItems=RequestItems))


def test_batches_of_25_with_unprocessed_items_and_throttling_retried(table: str) -> None:
    flaky = _Flaky(boto3.client("dynamodb", region_name=REGION))
    sleeps: list[float] = []
    store = FindingsStore(flaky, table, sleep=sleeps.append)  # type: ignore[arg-type]
    many = [vulnerability(DIGEST, f"pkg{i}", "1.0-1", f"pkg:deb/debian/pkg{i}@1.0-1") for i in range(60)]
    summary = store.sync(IMAGE, "scan-1", T1, _platforms(many, arm=[]), complete=True)
    assert len(summary.new) == 60 and len(store.items(IMAGE.key)) == 60
    assert flaky.batch_sizes[:2] == [25, 3] and sorted(flaky.batch_sizes) == sorted([25, 3, 25, 3, 10])
    assert len(sleeps) == 3 and all(s > 0 for s in sleeps)


def test_throttling_that_never_ends_is_a_transient_error(table: str) -> None:
    from imagescan.aws.errors import TransientError

    flaky = _Flaky(boto3.client("dynamodb", region_name=REGION), throttle=100, unprocessed=0)
    store = FindingsStore(flaky, table, sleep=lambda s: None, max_attempts=4)  # type: ignore[arg-type]
    with pytest.raises(TransientError, match="BatchWriteItem"):
        store.sync(IMAGE, "scan-1", T1, _platforms(arm=[]), complete=True)
    assert flaky.throttle == 96


def test_a_report_finding_round_trips_through_its_item(store: FindingsStore) -> None:
    finding = handmade_findings(DIGEST)[3]
    store.sync(IMAGE, "scan-1", T1, _platforms([finding], arm=[]), complete=True)
    (item,) = store.items(IMAGE.key)
    assert stored_finding(item) == finding_dict(finding)
    assert item["rule"] == "aws-access-key" and item["path"] == "etc/app.env"
