"""The publish step: the scan's outcome document, then every sink in turn.

The step writes ``scans/<scan_id>/result.json`` (:class:`~imagescan.aws.documents.ScanResult`: status, layer
counts, and per platform the keys of its SBOM and of its report, whose ``findings`` carry stable ids) and hands
that document to the sinks. :class:`ScanRecordSink` records the outcome in the scan-state and images tables; it
runs last, so a scan is marked done only once every other sink (the findings table, Security Hub) has taken
the result. Add a sink by implementing :class:`ResultSink` and listing it in :func:`default_sinks`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

from imagescan.aws import keys, s3io
from imagescan.aws.documents import LayerCounts, ScanResult
from imagescan.aws.errors import ImageUnavailableError
from imagescan.aws.events import PublishOutput, PublishTask
from imagescan.aws.findings_store import FindingsTableSink
from imagescan.aws.observability import (
    FINDINGS_PREFIX,
    IMAGES_SCANNED,
    LAYERS_FAILED,
    SCAN_DURATION,
    count,
    logger,
    seconds,
)
from imagescan.aws.scanstate import ImagesTable
from imagescan.aws.securityhub import SecurityHubSink
from imagescan.findings import Severity

if TYPE_CHECKING:
    from imagescan.aws.pipeline import Pipeline


class ReportReader:
    """The platform reports of a scan, read from S3 once each."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._loaded: dict[str, dict[str, Any]] = {}

    def report(self, key: str) -> dict[str, Any]:
        if key not in self._loaded:
            doc = s3io.get_json(self._pipeline.s3, self._pipeline.settings.bucket, key)
            if not isinstance(doc, dict):
                raise ImageUnavailableError(f"report s3://{self._pipeline.settings.bucket}/{key} is missing")
            self._loaded[key] = doc
        return self._loaded[key]

    def findings(self, result: ScanResult) -> list[tuple[str, dict[str, Any]]]:
        """Every finding of the scan as ``(platform, finding)``."""
        return [(p.platform, f) for p in result.platforms for f in self.report(p.report_key).get("findings", [])]


class ResultSink(Protocol):
    name: str

    def publish(self, result: ScanResult, result_key: str, reports: ReportReader) -> None: ...


class ScanRecordSink:
    """The scan's final status in the scan-state table and the image's latest scan in the images table."""

    name = "scan-record"

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def publish(self, result: ScanResult, result_key: str, reports: ReportReader) -> None:
        settings = self._pipeline.settings
        if settings.images_table:
            ImagesTable(self._pipeline.dynamodb, settings.images_table).record(
                result, result_key, settings.image_record_days)
        self._pipeline.scan_state.finished(result, result_key)


def default_sinks(pipeline: Pipeline) -> list[ResultSink]:
    """The sinks, in order; the scan record stays last."""
    sinks: list[ResultSink] = []
    if pipeline.settings.findings_table:
        sinks.append(FindingsTableSink(pipeline))
    if pipeline.settings.security_hub:
        sinks.append(SecurityHubSink(pipeline))
    return [*sinks, ScanRecordSink(pipeline)]


def scan_result(task: PublishTask, completed_at: dt.datetime | None = None) -> ScanResult:
    completed = completed_at or dt.datetime.now(dt.UTC)
    started = task.started_at if task.started_at.tzinfo else task.started_at.replace(tzinfo=dt.UTC)
    cached = sum(o.cached for o in task.layers)
    failed = sum(o.failed for o in task.layers)
    incomplete = failed > 0 or any(p.incomplete_layers for p in task.platforms)
    totals: Counter[str] = Counter()
    for platform in task.platforms:
        totals.update(platform.findings)
    return ScanResult(
        scan_id=task.scan_id, status="INCOMPLETE" if incomplete else "SUCCEEDED", image=task.image,
        execution_arn=task.execution_arn, started_at=started, completed_at=completed,
        duration_seconds=round(max(0.0, (completed - started).total_seconds()), 3),
        layers=LayerCounts(total=len(task.layers), analyzed=len(task.layers) - cached - failed, cached=cached,
                           failed=failed),
        platforms=task.platforms, findings={s.value: totals[s.value] for s in Severity if totals[s.value]},
    )


def publish(task: PublishTask, pipeline: Pipeline, sinks: list[ResultSink] | None = None) -> PublishOutput:
    result = scan_result(task)
    key = keys.result_key(task.scan_id)
    s3io.put_json(pipeline.s3, pipeline.settings.bucket, key, result.model_dump_json(by_alias=True, indent=1))
    reports = ReportReader(pipeline)
    for sink in default_sinks(pipeline) if sinks is None else sinks:
        sink.publish(result, key, reports)
    count(IMAGES_SCANNED)
    count(LAYERS_FAILED, result.layers.failed)
    seconds(SCAN_DURATION, result.duration_seconds)
    for severity, n in result.findings.items():
        count(FINDINGS_PREFIX + severity.title().replace("Informational", "Info"), n)
    logger.info("scan published", extra={"scan_id": task.scan_id, "status": result.status,
                                         "layers": result.layers.model_dump(), "findings": result.findings})
    return PublishOutput(scan_id=task.scan_id, status=result.status, result_key=key)
