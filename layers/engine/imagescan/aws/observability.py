"""Powertools Logger, Tracer and Metrics shared by the pipeline's functions and modules.

Service name and metrics namespace come from ``POWERTOOLS_SERVICE_NAME`` / ``POWERTOOLS_METRICS_NAMESPACE``
(``template.yaml`` sets both; ``imagescan`` when unset). Every handler sets the image digest as the correlation
id, so all log lines of one image's scan, over every function, can be found with one query.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "imagescan"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "imagescan"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

IMAGES_SCANNED = "ImagesScanned"
SCANS_STARTED = "ScansStarted"
PUSH_EVENTS_SKIPPED = "PushEventsSkipped"
PUSH_EVENTS_REFUSED = "PushEventsRefused"
LAYERS_ANALYZED = "LayersAnalyzed"
LAYER_CACHE_HITS = "LayerCacheHits"
LAYERS_FAILED = "LayersFailed"
SCAN_DURATION = "ScanDuration"
FINDINGS_PREFIX = "Findings"
DATABASE_PUBLISHED = "DatabasePublished"


def count(name: str, value: float = 1) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def seconds(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
