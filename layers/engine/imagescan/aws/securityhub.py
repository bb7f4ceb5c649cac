"""Findings into Security Hub (ASFF, ``BatchImportFindings``): the publish sink and the scheduled refresh.

* :class:`SecurityHubSender` sends ASFF findings in batches of at most 100 (and 6 MB; a finding over 240 KB is
  refused locally), through a token bucket (:class:`TokenBucket`, 10 calls a second, no burst, so concurrent
  containers stay near the account's quota of 10 per second), retrying throttling
  (``TooManyRequestsException``, ``ThrottlingException``...) and the per-finding ``FailedFindings`` whose error code
  says the failure is temporary, with exponential backoff. Clock and sleep are injectable.
* :class:`SecurityHubSink` (publish step, after the findings table): every finding of the scan ``ACTIVE``, with
  ``CreatedAt``/``FirstObservedAt`` from the table's ``first_seen``, ``LastObservedAt`` the scan's start and
  ``UpdatedAt`` its completion (Security Hub applies an update only when ``UpdatedAt`` is later); and every
  finding the scan resolved (the table's items with ``resolved_scan_id`` = this scan) again, ``ARCHIVED``. A
  repeated publish of the same scan sends the same findings again, which Security Hub takes as the same state.
* :class:`HubRefresher` (the ``HubRefreshFunction``, daily): Security Hub deletes a finding 90 days after its last
  update, so open findings last seen by a scan more than ``SECURITY_HUB_REFRESH_DAYS`` (30) ago, and not refreshed
  since, are sent again with a new ``UpdatedAt`` (read from the ``open-by-severity`` index, then the items), and
  the refresh is recorded on each item (``hub_refreshed_at``).

The account (``AwsAccountId`` must be the importing account) is ``AWS_ACCOUNT_ID`` when set, else STS
``GetCallerIdentity`` (no permission needed), asked once per container; the Region is the function's.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws import clients, identity
from imagescan.aws.errors import ConfigurationError, PipelineError, TransientError, is_transient
from imagescan.aws.events import ImageTarget
from imagescan.aws.findings_store import OPEN, RESOLVED, FindingsStore, stored_finding
from imagescan.aws.observability import count, logger
from imagescan.findings import Severity
from imagescan.report.asff import AsffTarget, Observation, PlatformContext, RecordState, asff_finding

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from imagescan.aws.documents import ScanResult
    from imagescan.aws.pipeline import Pipeline
    from imagescan.aws.publish import ReportReader
    from imagescan.aws.settings import Settings

BATCH_MAX = 100
BATCH_BYTES_MAX = 6 * 1024 * 1024 - 64 * 1024
"""6 MB per call, less room for the request's envelope."""
FINDING_BYTES_MAX = 240 * 1024
CALLS_PER_SECOND = 10.0
_RETRYABLE = re.compile(r"throttl|toomanyrequests|limitexceeded|rate ?exceeded|internal|unavailable|timeout",
                        re.IGNORECASE)
METRIC_IMPORTED, METRIC_ARCHIVED, METRIC_FAILED = "SecurityHubImported", "SecurityHubArchived", "SecurityHubFailed"
METRIC_REFRESHED = "SecurityHubRefreshed"

Clock = Callable[[], float]
Sleep = Callable[[float], None]


class ImportClient(Protocol):
    """What the sender needs of a Security Hub client."""

    def batch_import_findings(self, *, Findings: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]: ...


class SecurityHubImportError(PipelineError):
    """Security Hub refused findings for a reason a retry does not fix (e.g. ``InvalidAccess``: Security Hub is not
    enabled in this account and Region)."""


class TokenBucket:
    """At most ``rate`` acquisitions a second on average and ``capacity`` at once."""

    def __init__(self, rate: float = CALLS_PER_SECOND, capacity: float = 1.0, *, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate, self.capacity = rate, capacity
        self._clock, self._sleep = clock, sleep
        self._tokens = capacity
        self._last: float | None = None

    def _refill(self) -> None:
        now = self._clock()
        if self._last is not None:
            self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._last) * self.rate)
        self._last = now

    def acquire(self) -> None:
        self._refill()
        while self._tokens < 1 - 1e-9:
            self._sleep((1 - self._tokens) / self.rate)
            self._refill()
        self._tokens = max(0.0, self._tokens - 1)


@dataclass
class ImportOutcome:
    calls: int = 0
    imported: list[str] = field(default_factory=list)
    """Ids Security Hub accepted."""
    failed: list[dict[str, str]] = field(default_factory=list)
    """``{Id, ErrorCode, ErrorMessage}`` of findings refused for good."""
    unsent: list[dict[str, str]] = field(default_factory=list)
    """Findings still failing with a temporary error when the retries ran out."""


def _retryable_code(code: str) -> bool:
    return bool(_RETRYABLE.search(code))


class SecurityHubSender:
    def __init__(self, client: ImportClient, *, bucket: TokenBucket | None = None, sleep: Sleep = time.sleep,
                 max_attempts: int = 6, base_delay: float = 0.5, max_delay: float = 20.0,
                 batch_max: int = BATCH_MAX, batch_bytes_max: int = BATCH_BYTES_MAX) -> None:
        self._client = client
        self._sleep = sleep
        self.bucket = bucket or TokenBucket(sleep=sleep)
        self._max_attempts, self._base_delay, self._max_delay = max_attempts, base_delay, max_delay
        self._batch_max, self._batch_bytes_max = batch_max, batch_bytes_max

    def batches(self, findings: Sequence[Mapping[str, Any]], outcome: ImportOutcome) -> list[list[Mapping[str, Any]]]:
        """Batches within the count and size limits; a finding over 240 KB goes to ``outcome.failed``."""
        out: list[list[Mapping[str, Any]]] = []
        batch: list[Mapping[str, Any]] = []
        size = 0
        for finding in findings:
            length = len(json.dumps(finding, separators=(",", ":")).encode())
            if length > FINDING_BYTES_MAX:
                outcome.failed.append({"Id": str(finding.get("Id")), "ErrorCode": "FindingTooLarge",
                                       "ErrorMessage": f"{length} bytes (Security Hub takes 240 KB per finding)"})
                continue
            if batch and (len(batch) >= self._batch_max or size + length > self._batch_bytes_max):
                out.append(batch)
                batch, size = [], 0
            batch.append(finding)
            size += length
        if batch:
            out.append(batch)
        return out

    def _backoff(self, attempt: int) -> None:
        delay = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        self._sleep(delay * (0.5 + random.random() / 2))

    def send(self, findings: Sequence[Mapping[str, Any]]) -> ImportOutcome:
        outcome = ImportOutcome()
        for batch in self.batches(findings, outcome):
            self._send_batch(batch, outcome)
        return outcome

    def _send_batch(self, batch: list[Mapping[str, Any]], outcome: ImportOutcome) -> None:
        pending = batch
        attempt = 0
        while pending:
            self.bucket.acquire()
            outcome.calls += 1
            try:
                response = self._client.batch_import_findings(Findings=pending)
            except (BotoCoreError, ClientError) as exc:
                if not is_transient(exc):
                    raise
                attempt += 1
                if attempt >= self._max_attempts:
                    raise TransientError(f"BatchImportFindings: still throttled after {attempt} attempts: {exc}") \
                        from exc
                self._backoff(attempt)
                continue
            failures = {str(f.get("Id")): f for f in response.get("FailedFindings") or []}
            retry: list[Mapping[str, Any]] = []
            for finding in pending:
                failure = failures.get(str(finding.get("Id")))
                if failure is None:
                    outcome.imported.append(str(finding.get("Id")))
                elif _retryable_code(str(failure.get("ErrorCode", ""))):
                    retry.append(finding)
                else:
                    outcome.failed.append({k: str(failure.get(k, "")) for k in ("Id", "ErrorCode", "ErrorMessage")})
            pending = retry
            if pending:
                attempt += 1
                if attempt >= self._max_attempts:
                    outcome.unsent += [{k: str(failures[str(f.get("Id"))].get(k, ""))
                                        for k in ("Id", "ErrorCode", "ErrorMessage")} for f in pending]
                    return
                self._backoff(attempt)


def raise_for(outcome: ImportOutcome) -> None:
    """Refused findings end the step: ``SecurityHubImportError`` for permanent refusals, ``TransientError`` (the
    state machine retries the step) when only temporary failures remain."""
    if outcome.failed:
        first = "; ".join(f"{f['Id']}: {f['ErrorCode']} {f['ErrorMessage']}" for f in outcome.failed[:3])
        raise SecurityHubImportError(f"Security Hub refused {len(outcome.failed)} finding(s): {first}")
    if outcome.unsent:
        raise TransientError(f"Security Hub still failing for {len(outcome.unsent)} finding(s) after retries: "
                             f"{outcome.unsent[0]['ErrorCode']}")


# -- account and Region --------------------------------------------------------------------------------------------

def caller_account(settings: Settings) -> str:
    """``AWS_ACCOUNT_ID``, else STS ``GetCallerIdentity`` once per container (:mod:`imagescan.aws.identity`)."""
    return identity.caller_account(settings)


def forget_account() -> None:
    identity.forget()


def image_target(account_id: str, region: str, image: ImageTarget, tags: Iterable[str] = ()) -> AsffTarget:
    all_tags = sorted({t for t in (*tags, image.tag) if t})
    return AsffTarget.for_registry_image(account_id, region, image.registry, image.repository, image.digest, all_tags)


def _when(value: Any, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return default
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def item_platform(item: Mapping[str, Any]) -> PlatformContext:
    layers = {str(item["layer_diff_id"]): str(item["layer_digest"])} if item.get("layer_digest") else {}
    return PlatformContext(platform=str(item.get("platform") or "unknown"),
                           digest=str(item.get("platform_digest") or ""), layers=layers)


def item_asff(item: Mapping[str, Any], target: AsffTarget, updated_at: dt.datetime,
              record_state: RecordState) -> dict[str, Any]:
    """The ASFF finding of a findings-table item (resolved findings, the refresh)."""
    first = _when(item.get("first_seen"), updated_at)
    times = Observation(first_seen=first, last_seen=_when(item.get("last_seen"), first), updated_at=updated_at)
    return asff_finding(stored_finding(item), target, item_platform(item), times, record_state)


# -- the publish sink --------------------------------------------------------------------------------------------


class SecurityHubSink:
    name = "security-hub"

    def __init__(self, pipeline: Pipeline, *, client: ImportClient | None = None,
                 sender: SecurityHubSender | None = None, store: FindingsStore | None = None) -> None:
        self._settings = pipeline.settings
        self.sender = sender or SecurityHubSender(client or clients.securityhub())
        if store is None and self._settings.findings_table:
            store = FindingsStore(pipeline.dynamodb, self._settings.findings_table,
                                  self._settings.finding_retention_days)
        self._store = store
        self.last: ImportOutcome | None = None

    def findings(self, result: ScanResult, reports: ReportReader) -> list[dict[str, Any]]:
        """The ASFF findings one scan sends: its findings ACTIVE, the ones it resolved ARCHIVED."""
        if not self._settings.region:
            raise ConfigurationError("AWS_REGION is not set: Security Hub's Region is unknown")
        target = image_target(caller_account(self._settings), self._settings.region, result.image)
        items = {str(i["finding_id"]): i for i in self._store.items(result.image.key)} if self._store else {}
        observed = result.started_at
        out: list[dict[str, Any]] = []
        sent: set[str] = set()
        for platform in result.platforms:
            report = reports.report(platform.report_key)
            base = PlatformContext.of_report(report.get("image") or {})
            context = PlatformContext(platform.platform, platform.manifest_digest, base.layers)
            for finding in report.get("findings") or []:
                fid = str(finding.get("id") or "")
                if not fid or fid in sent:
                    continue
                sent.add(fid)
                item = items.get(fid)
                if item is not None and item.get("last_scan_id") != result.scan_id \
                        and _when(item.get("last_seen"), observed) > observed:
                    continue  # a later scan of this image has published this finding
                first = _when(item.get("first_seen"), observed) if item else observed
                last = _when(item.get("last_seen"), observed) if item else observed
                out.append(asff_finding(finding, target, context,
                                        Observation(first, max(first, last), result.completed_at)))
        for fid, item in items.items():
            if fid not in sent and item.get("status") == RESOLVED and item.get("resolved_scan_id") == result.scan_id:
                out.append(item_asff(item, target, result.completed_at, "ARCHIVED"))
        return out

    def publish(self, result: ScanResult, result_key: str, reports: ReportReader) -> None:
        findings = self.findings(result, reports)
        archived = sum(f["RecordState"] == "ARCHIVED" for f in findings)
        outcome = self.sender.send(findings)
        self.last = outcome
        count(METRIC_IMPORTED, len(outcome.imported))
        count(METRIC_ARCHIVED, archived)
        count(METRIC_FAILED, len(outcome.failed) + len(outcome.unsent))
        logger.info("findings sent to Security Hub", extra={
            "image": result.image.key, "findings": len(findings), "archived": archived, "calls": outcome.calls,
            "imported": len(outcome.imported), "failed": len(outcome.failed), "unsent": len(outcome.unsent)})
        raise_for(outcome)


# -- the scheduled refresh ---------------------------------------------------------------------------------------


def images_table_tags(client: DynamoDBClient, table: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """The tags the images table records for a finding item's image (cached per image)."""
    known: dict[tuple[str, str], list[str]] = {}

    def tags(item: Mapping[str, Any]) -> list[str]:
        key = (f"{item.get('registry')}/{item.get('repository')}", str(item.get("image_digest")))
        if key not in known:
            try:
                found = client.get_item(TableName=table, Key={"repository": {"S": key[0]}, "digest": {"S": key[1]}},
                                        ProjectionExpression="tags")
            except (BotoCoreError, ClientError) as exc:
                logger.warning("image tags unavailable", extra={"image": key, "error": str(exc)})
                return []
            known[key] = sorted(found.get("Item", {}).get("tags", {}).get("SS", []))
        return known[key]

    return tags


@dataclass
class RefreshSummary:
    candidates: int = 0
    """Open findings last seen before the cutoff."""
    sent: int = 0
    refreshed: int = 0
    """Items marked refreshed (imported and still open)."""
    failed: int = 0
    truncated: bool = False
    """More were due than one run sends (``max_findings``): the next run continues."""


class HubRefresher:
    """Re-sends open findings before Security Hub's 90-day expiry."""

    def __init__(self, store: FindingsStore, sender: SecurityHubSender, account_id: str, region: str,
                 tags: Callable[[Mapping[str, Any]], list[str]] | None = None) -> None:
        self._store, self._sender = store, sender
        self._account, self._region = account_id, region
        self._tags = tags or (lambda item: [])

    def _due_items(self, keys: list[tuple[str, str]], cutoff: dt.datetime) -> list[dict[str, Any]]:
        never = cutoff - dt.timedelta(days=1)
        return [item for item in self._store.get_items(keys)
                if item.get("status") == OPEN and _when(item.get("hub_refreshed_at"), never) < cutoff]

    def due(self, now: dt.datetime, older_than_days: int, max_findings: int) -> tuple[list[dict[str, Any]], bool]:
        """Open findings last seen and last refreshed before the cutoff, most severe and oldest first, read page by
        page until ``max_findings`` are found; and whether more are due."""
        cutoff = now - dt.timedelta(days=older_than_days)
        due: list[dict[str, Any]] = []
        for severity in Severity:
            keys: list[tuple[str, str]] = []
            for entry in self._store.iter_open_findings(severity.value, seen_before=cutoff, newest_first=False):
                keys.append((str(entry["image"]), str(entry["finding_id"])))
                if len(keys) == 100:
                    due += self._due_items(keys, cutoff)
                    keys = []
                    if len(due) > max_findings:
                        return due[:max_findings], True
            due += self._due_items(keys, cutoff)
            if len(due) > max_findings:
                return due[:max_findings], True
        return due, False

    def refresh(self, now: dt.datetime, older_than_days: int = 30, max_findings: int = 20_000) -> RefreshSummary:
        items, truncated = self.due(now, older_than_days, max_findings)
        summary = RefreshSummary(candidates=len(items), truncated=truncated)
        findings: list[dict[str, Any]] = []
        keys: dict[str, tuple[str, str]] = {}
        for item in items:
            image = ImageTarget(registry=str(item["registry"]), repository=str(item["repository"]),
                                digest=str(item["image_digest"]))
            finding = item_asff(item, image_target(self._account, self._region, image, self._tags(item)), now,
                                "ACTIVE")
            findings.append(finding)
            keys[finding["Id"]] = (str(item["image"]), str(item["finding_id"]))
        outcome = self._sender.send(findings)
        summary.sent = len(outcome.imported)
        summary.failed = len(outcome.failed) + len(outcome.unsent)
        for fid in outcome.imported:
            if fid in keys and self._store.mark_refreshed(*keys[fid], now):
                summary.refreshed += 1
        count(METRIC_REFRESHED, summary.refreshed)
        logger.info("open findings refreshed in Security Hub", extra=vars(summary))
        if outcome.failed:
            logger.error("Security Hub refused refreshed findings", extra={"failed": outcome.failed[:10]})
        return summary


def refresh_from_settings(settings: Settings, now: dt.datetime | None = None) -> RefreshSummary:
    """The scheduled refresh with the function's settings and clients."""
    settings.require("findings_table", "region")
    dynamodb = clients.dynamodb()
    store = FindingsStore(dynamodb, settings.findings_table, settings.finding_retention_days)
    tags = images_table_tags(dynamodb, settings.images_table) if settings.images_table else None
    refresher = HubRefresher(store, SecurityHubSender(clients.securityhub()), caller_account(settings),
                             settings.region, tags)
    return refresher.refresh(now or dt.datetime.now(dt.UTC), settings.hub_refresh_days)
