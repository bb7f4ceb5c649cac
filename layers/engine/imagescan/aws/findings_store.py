"""The findings table: one item per finding of each scanned image, kept in step with the image's latest scan.

Key ``image`` (``REGISTRY/REPOSITORY@DIGEST``, the digest as pushed) + ``finding_id`` (the report's stable id, which
already differs per platform, package and file). The queries users need:

* all findings of an image: a Query on ``image`` (:meth:`FindingsStore.items`);
* all images affected by a vulnerability: GSI ``by-vulnerability`` (``vulnerability_id``, ``image``;
  :meth:`FindingsStore.images_affected_by`);
* open findings of a severity across the fleet: the sparse GSI ``open-by-severity`` (``open_severity``,
  ``last_seen``): only open findings carry ``open_severity`` (:meth:`FindingsStore.open_findings`).

A scan is applied by :meth:`FindingsStore.sync`, which reads the image's items once (a consistent Query), compares,
and writes only what differs (BatchWriteItem, 25 puts a call, unprocessed items and throttling retried with
backoff):

* a new finding is put ``open`` with ``first_seen`` = ``last_seen`` = ``changed_at`` = the scan's start;
* a finding whose content changed (a new fixed version, another severity) or that comes back after being resolved
  is rewritten; ``first_seen`` is kept and ``changed_at`` / ``changed_scan_id`` name this scan;
* an unchanged finding gets only ``last_seen`` and ``last_scan_id`` bumped: it was observed again (this keeps the
  ``open-by-severity`` index ordered by when each open finding was last confirmed, which the Security Hub refresh
  reads);
* a finding present before and absent now is ``resolved``: ``resolved_at``, ``resolved_scan_id``, ``expires_at``
  (TTL: ``FINDING_RETENTION_DAYS`` later) set, ``open_severity`` removed, so it leaves the open index. Only a
  complete scan resolves, and only findings of the platforms it scanned; vulnerabilities are not resolved by a
  platform scanned without a vulnerability database (that would be clean by omission);
* the "seen" bookkeeping is keyed on the scan id, and the observation time is the scan's start (the same on every
  retry of the publish step): an item already written by this scan is left alone, so a repeated publish of one scan
  writes nothing and leaves the table byte for byte as it was. An item written by a later scan (a publish that
  arrives late) is left alone too.

The finding itself is kept as JSON (``finding``, long texts cut, see :func:`compact_finding`) with the fields the
queries and the indexes project as top-level attributes; every item stays far below DynamoDB's 400 KB.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws.errors import TransientError, error_code, from_aws_error, is_transient
from imagescan.aws.events import ImageTarget
from imagescan.aws.observability import count, logger
from imagescan.report.asff import rule_of, timestamp, truncate

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from imagescan.aws.documents import ScanResult
    from imagescan.aws.pipeline import Pipeline
    from imagescan.aws.publish import ReportReader

OPEN, RESOLVED = "open", "resolved"
BY_VULNERABILITY = "by-vulnerability"
OPEN_BY_SEVERITY = "open-by-severity"
BATCH_WRITE_MAX = 25
BATCH_GET_MAX = 100
ITEM_BUDGET = 300_000
"""Bytes an item may take (DynamoDB's limit is 400 KB): the stored finding is shrunk further above it."""
TEXT_KEEP = 4000
"""Characters kept of each text of a stored finding (ASFF shows at most 1024 of the description)."""
LIST_KEEP = 50
BOOKKEEPING = frozenset({
    "status", "open_severity", "first_seen", "first_scan_id", "last_seen", "last_scan_id", "changed_at",
    "changed_scan_id", "resolved_at", "resolved_scan_id", "expires_at", "hub_refreshed_at", "content_hash",
})
"""Attributes that record the finding's history rather than its content."""
NOT_CHECKED = "vulnerabilities-not-checked"
METRIC_NEW, METRIC_RESOLVED = "FindingsNew", "FindingsResolved"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Sleep = Callable[[float], None]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def deserialize(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in raw.items()}


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def item_size(item: Mapping[str, Any]) -> int:
    """Roughly DynamoDB's size of an item: attribute names plus UTF-8 values."""
    return sum(len(k.encode()) + len(json.dumps(v, ensure_ascii=False).encode()) for k, v in item.items())


def compact_finding(finding: Mapping[str, Any], text_keep: int = TEXT_KEEP, list_keep: int = LIST_KEEP
                    ) -> dict[str, Any]:
    """The finding with every text cut to ``text_keep`` characters and every list to ``list_keep`` entries."""

    def cut(value: Any) -> Any:
        if isinstance(value, str):
            return truncate(value, text_keep) if len(value) > text_keep else value
        if isinstance(value, list):
            return [cut(v) for v in value[:list_keep]]
        if isinstance(value, dict):
            return {k: cut(v) for k, v in value.items()}
        return value

    return {k: cut(v) for k, v in finding.items()}


def stored_finding(item: Mapping[str, Any]) -> dict[str, Any]:
    """The report finding kept in an item."""
    loaded = json.loads(str(item["finding"]))
    if not isinstance(loaded, dict):
        raise ValueError(f"item {item.get('image')} {item.get('finding_id')}: the stored finding is not an object")
    return loaded


@dataclass(frozen=True)
class PlatformFindings:
    """The findings of one platform image of a scan."""

    platform: str
    digest: str
    findings: Sequence[Mapping[str, Any]]
    layers: Mapping[str, str] = field(default_factory=dict)
    """Layer diff_id → layer digest."""
    vulnerabilities_checked: bool = True

    @classmethod
    def of_report(cls, report: Mapping[str, Any], platform: str | None = None,
                  digest: str | None = None) -> PlatformFindings:
        image = report.get("image") or {}
        findings = [f for f in report.get("findings") or [] if isinstance(f, dict) and f.get("id")]
        not_checked = any(f.get("kind") == "scan-incomplete" and f.get("code") == NOT_CHECKED for f in findings)
        no_database = "database" in report and report["database"] is None
        layers = {str(layer["diff_id"]): str(layer["digest"]) for layer in image.get("layers") or []
                  if isinstance(layer, dict) and layer.get("diff_id") and layer.get("digest")}
        return cls(platform=platform or str(image.get("platform") or "unknown"),
                   digest=digest or str(image.get("digest") or ""), findings=findings, layers=layers,
                   vulnerabilities_checked=not (not_checked or no_database))


@dataclass
class SyncSummary:
    """What one scan changed in the table (finding ids)."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    """Unchanged, observed again: only ``last_seen`` bumped."""
    resolved: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    """Already written by this scan (a repeated publish) or by a later one: left alone."""
    kept: list[str] = field(default_factory=list)
    """Absent from this scan but not resolved by it (incomplete scan, vulnerabilities not checked)."""
    writes: int = 0


def _content(image: ImageTarget, platform: PlatformFindings, finding: Mapping[str, Any]) -> dict[str, Any]:
    """The item's content attributes (everything but the bookkeeping)."""
    kind = str(finding.get("kind") or "unknown")
    severity = str(finding.get("severity") or "INFORMATIONAL")
    item: dict[str, Any] = {
        "image": image.key, "finding_id": str(finding["id"]), "registry": image.registry,
        "repository": image.repository, "image_digest": image.digest, "platform": platform.platform,
        "platform_digest": platform.digest, "kind": kind, "severity": severity,
        "title": truncate(str(finding.get("title") or kind), 1024), "rule": rule_of(finding),
    }
    if kind == "vulnerability" and finding.get("vulnerability_id"):
        item["vulnerability_id"] = str(finding["vulnerability_id"])
    for key in ("purl", "package_name", "installed_version", "fixed_version", "fix_state", "path", "layer_diff_id"):
        value = finding.get(key)
        if isinstance(value, str) and value.strip():
            item[key] = truncate(value, 2048)
    if finding.get("known_exploited"):
        item["known_exploited"] = True
    layer = platform.layers.get(str(finding.get("layer_diff_id") or ""))
    if layer:
        item["layer_digest"] = layer
    stored = compact_finding(finding)
    item["finding"] = json.dumps(stored, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if item_size(item) > ITEM_BUDGET:
        smaller = {k: v for k, v in compact_finding(finding, 1024, 10).items() if k not in ("references", "aliases")}
        item["finding"] = json.dumps(smaller, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if item_size(item) > ITEM_BUDGET:
            minimal = {k: finding[k] for k in ("id", "kind", "severity") if k in finding}
            minimal["title"] = item["title"]
            item["finding"] = json.dumps(minimal, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return item


def _hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _written_at(item: Mapping[str, Any]) -> str:
    return max(str(item.get("last_seen") or ""), str(item.get("resolved_at") or ""))


class FindingsStore:
    def __init__(self, client: DynamoDBClient, table: str, retention_days: int = 90, *, sleep: Sleep = time.sleep,
                 max_attempts: int = 8, base_delay: float = 0.05, max_delay: float = 5.0) -> None:
        self._client = client
        self.table = table
        self.retention_days = retention_days
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay

    # -- reading

    def _pages(self, **query: Any) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {"TableName": self.table, **query}
        while True:
            page = self._call(partial(self._client.query, **args), "Query")
            for raw in page.get("Items", []):
                yield deserialize(raw)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            args["ExclusiveStartKey"] = last

    def items(self, image_key: str) -> list[dict[str, Any]]:
        """Every item of an image (open and resolved), read consistently."""
        return list(self._pages(KeyConditionExpression="#image = :image", ExpressionAttributeNames={"#image": "image"},
                                ExpressionAttributeValues={":image": {"S": image_key}}, ConsistentRead=True))

    def images_affected_by(self, vulnerability_id: str, *, open_only: bool = True) -> list[dict[str, Any]]:
        """Items of every image affected by a vulnerability (``by-vulnerability``), open ones by default."""
        query: dict[str, Any] = {
            "IndexName": BY_VULNERABILITY, "KeyConditionExpression": "vulnerability_id = :v",
            "ExpressionAttributeValues": {":v": {"S": vulnerability_id}},
        }
        if open_only:
            query["FilterExpression"] = "#status = :open"
            query["ExpressionAttributeNames"] = {"#status": "status"}
            query["ExpressionAttributeValues"][":open"] = {"S": OPEN}
        return list(self._pages(**query))

    def open_findings(self, severity: str, *, seen_before: dt.datetime | None = None,
                      seen_since: dt.datetime | None = None, newest_first: bool = True) -> list[dict[str, Any]]:
        """Open findings of one severity across every image (``open-by-severity``), optionally only those last
        seen before or since a time; the index's projection (keys, kind, title, vulnerability, purl, platform)."""
        return list(self.iter_open_findings(severity, seen_before=seen_before, seen_since=seen_since,
                                            newest_first=newest_first))

    def iter_open_findings(self, severity: str, *, seen_before: dt.datetime | None = None,
                           seen_since: dt.datetime | None = None, newest_first: bool = True
                           ) -> Iterator[dict[str, Any]]:
        """:meth:`open_findings`, page by page."""
        condition = "open_severity = :s"
        values: dict[str, Any] = {":s": {"S": severity}}
        if seen_before is not None and seen_since is not None:
            condition += " AND last_seen BETWEEN :since AND :before"
            values[":since"], values[":before"] = {"S": timestamp(seen_since)}, {"S": timestamp(seen_before)}
        elif seen_before is not None:
            condition += " AND last_seen < :before"
            values[":before"] = {"S": timestamp(seen_before)}
        elif seen_since is not None:
            condition += " AND last_seen >= :since"
            values[":since"] = {"S": timestamp(seen_since)}
        return self._pages(IndexName=OPEN_BY_SEVERITY, KeyConditionExpression=condition,
                           ExpressionAttributeValues=values, ScanIndexForward=not newest_first)

    def get_items(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        """Full items by (image, finding_id), BatchGetItem 100 keys a call, unprocessed keys retried."""
        wanted = list(dict.fromkeys(keys))
        out: list[dict[str, Any]] = []
        for start in range(0, len(wanted), BATCH_GET_MAX):
            pending: dict[str, Any] = {self.table: {
                "Keys": [{"image": {"S": i}, "finding_id": {"S": f}} for i, f in wanted[start:start + BATCH_GET_MAX]],
                "ConsistentRead": True}}
            attempt = 0
            while pending:
                request = pending
                response = self._call(partial(self._client.batch_get_item, RequestItems=request), "BatchGetItem")
                out += [deserialize(raw) for raw in response.get("Responses", {}).get(self.table, [])]
                pending = {k: v for k, v in (response.get("UnprocessedKeys") or {}).items() if v.get("Keys")}
                if pending:
                    attempt += 1
                    if attempt >= self._max_attempts:
                        raise TransientError(f"BatchGetItem {self.table}: keys still unprocessed after {attempt} "
                                             "attempts")
                    self._backoff(attempt)
        return out

    # -- writing

    def _backoff(self, attempt: int) -> None:
        delay = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        self._sleep(delay * (0.5 + random.random() / 2))

    def _call(self, operation: Callable[[], Any], what: str) -> Any:
        """``operation`` with throttling and 5xx failures retried with backoff (beyond botocore's own retries)."""
        attempt = 0
        while True:
            try:
                return operation()
            except (BotoCoreError, ClientError) as exc:
                attempt += 1
                if not is_transient(exc):
                    raise
                if attempt >= self._max_attempts:
                    raise from_aws_error(exc, f"{what} {self.table}") from exc
                self._backoff(attempt)

    def write(self, items: Sequence[Mapping[str, Any]]) -> int:
        """Put the items, 25 a BatchWriteItem; unprocessed items are sent again with backoff. Returns the calls."""
        calls = 0
        for start in range(0, len(items), BATCH_WRITE_MAX):
            pending: list[Any] = [{"PutRequest": {"Item": serialize(item)}}
                                             for item in items[start:start + BATCH_WRITE_MAX]]
            attempt = 0
            while pending:
                request: dict[str, Any] = {self.table: pending}
                response = self._call(partial(self._client.batch_write_item, RequestItems=request), "BatchWriteItem")
                calls += 1
                pending = list((response.get("UnprocessedItems") or {}).get(self.table, []))
                if pending:
                    attempt += 1
                    if attempt >= self._max_attempts:
                        raise TransientError(f"BatchWriteItem {self.table}: {len(pending)} items still unprocessed "
                                             f"after {attempt} attempts")
                    self._backoff(attempt)
        return calls

    def mark_refreshed(self, image_key: str, finding_id: str, at: dt.datetime) -> bool:
        """Record that an open finding was re-sent to Security Hub; False when it is no longer open."""
        try:
            self._call(partial(
                self._client.update_item, TableName=self.table,
                Key={"image": {"S": image_key}, "finding_id": {"S": finding_id}},
                UpdateExpression="SET hub_refreshed_at = :at", ConditionExpression="#status = :open",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":at": {"S": timestamp(at)}, ":open": {"S": OPEN}}), "UpdateItem")
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # -- one scan

    def sync(self, image: ImageTarget, scan_id: str, observed_at: dt.datetime, platforms: Sequence[PlatformFindings],
             *, complete: bool) -> SyncSummary:
        """Apply one scan's findings to the image's items (see the module's documentation)."""
        observed = timestamp(observed_at)
        existing = {str(item["finding_id"]): item for item in self.items(image.key)}
        summary = SyncSummary()
        puts: list[dict[str, Any]] = []
        current: set[str] = set()
        for platform in platforms:
            for finding in platform.findings:
                fid = str(finding["id"])
                if fid in current:
                    continue
                current.add(fid)
                put = self._upsert(image, platform, finding, existing.get(fid), scan_id, observed, summary)
                if put is not None:
                    puts.append(put)
        scanned = {p.platform: p for p in platforms}
        for fid, item in existing.items():
            if fid in current or item.get("status") != OPEN:
                continue
            if item.get("last_scan_id") == scan_id or _written_at(item) > observed:
                summary.already.append(fid)
                continue
            scan_of = scanned.get(str(item.get("platform")))
            resolvable = complete and scan_of is not None and (
                item.get("kind") != "vulnerability" or scan_of.vulnerabilities_checked)
            if not resolvable:
                summary.kept.append(fid)
                continue
            resolved = {k: v for k, v in item.items() if k != "open_severity"}
            resolved.update(status=RESOLVED, resolved_at=observed, resolved_scan_id=scan_id, last_scan_id=scan_id,
                            expires_at=int((observed_at + dt.timedelta(days=self.retention_days)).timestamp()))
            puts.append(resolved)
            summary.resolved.append(fid)
        summary.writes = self.write(puts)
        count(METRIC_NEW, len(summary.new))
        count(METRIC_RESOLVED, len(summary.resolved))
        logger.info("findings table synced", extra={
            "image": image.key, "scan_id": scan_id, "new": len(summary.new), "changed": len(summary.changed),
            "reopened": len(summary.reopened), "seen": len(summary.seen), "resolved": len(summary.resolved),
            "already": len(summary.already), "kept": len(summary.kept), "batch_writes": summary.writes})
        return summary

    def _upsert(self, image: ImageTarget, platform: PlatformFindings, finding: Mapping[str, Any],
                old: dict[str, Any] | None, scan_id: str, observed: str, summary: SyncSummary) -> dict[str, Any] | None:
        fid = str(finding["id"])
        if old is not None and (old.get("last_scan_id") == scan_id or _written_at(old) > observed):
            summary.already.append(fid)
            return None
        content = _content(image, platform, finding)
        digest = _hash(content)
        if old is not None and old.get("status") == OPEN and old.get("content_hash") == digest:
            summary.seen.append(fid)
            return {**old, "last_seen": observed, "last_scan_id": scan_id}
        item = {**content, "content_hash": digest, "status": OPEN, "open_severity": content["severity"],
                "first_seen": observed, "first_scan_id": scan_id, "last_seen": observed, "last_scan_id": scan_id,
                "changed_at": observed, "changed_scan_id": scan_id}
        if old is None:
            summary.new.append(fid)
        else:
            item["first_seen"] = old.get("first_seen") or observed
            item["first_scan_id"] = old.get("first_scan_id") or scan_id
            (summary.reopened if old.get("status") == RESOLVED else summary.changed).append(fid)
        return item


class FindingsTableSink:
    """Publish sink: the scan's findings into the findings table (:meth:`FindingsStore.sync`)."""

    name = "findings-table"

    def __init__(self, pipeline: Pipeline, store: FindingsStore | None = None) -> None:
        settings = pipeline.settings
        settings.require("findings_table")
        self.store = store or FindingsStore(pipeline.dynamodb, settings.findings_table,
                                            settings.finding_retention_days)
        self.last: SyncSummary | None = None

    def publish(self, result: ScanResult, result_key: str, reports: ReportReader) -> None:
        platforms = [PlatformFindings.of_report(reports.report(p.report_key), p.platform, p.manifest_digest)
                     for p in result.platforms]
        self.last = self.store.sync(result.image, result.scan_id, result.started_at, platforms,
                                    complete=result.status == "SUCCEEDED")
