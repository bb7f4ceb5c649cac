"""Powertools in the handlers: EMF metrics, structured logs with the image digest as correlation id."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest

from imagescan.aws import pipeline
from imagescan.aws.pipeline import Pipeline
from imagescan.aws.settings import Settings
from imagescan.catalog.registry import default_catalogers
from imagescan.layer.walker import cache_key_for
from imagescan.models import LayerResult
from localpipeline.lambdas import FakeContext, load_handler

REPO = Path(__file__).resolve().parents[2]
EVENT = json.loads((REPO / "events" / "analyze-layer.json").read_text())


def test_analyze_handler_emits_metrics_and_correlated_logs(moto_aws: None, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="scans")
    current = Pipeline(settings=Settings(bucket="scans"), s3=s3, dynamodb=boto3.client("dynamodb"))
    diff_id = EVENT["layer"]["diff_id"]
    key = cache_key_for(diff_id, default_catalogers())
    current.layer_cache.put(LayerResult(digest=EVENT["layer"]["digest"], diff_id=diff_id, cache_key=key,
                                        analyzers={"walker": 1}))
    pipeline.install(current)
    from imagescan.aws.observability import logger, metrics

    metrics.clear_metrics()  # what earlier in-process runs buffered while metrics were disabled (never flushed)

    logger.setLevel("INFO")
    logged = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", logged)  # the Logger bound stdout when created
    handler = load_handler(REPO / "functions" / "analyze_layer").handler
    assert handler(EVENT, FakeContext("analyze")) == {"cached": True, "failed": False}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emf = [line for line in lines if "_aws" in line]
    assert emf and any(line.get("LayerCacheHits") == [1.0] or line.get("LayerCacheHits") == 1.0 for line in emf)
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "imagescan"
    logs = [json.loads(line) for line in logged.getvalue().splitlines() if "layer cache hit" in line]
    assert logs and logs[0]["correlation_id"] == EVENT["image"]["digest"]
    assert logs[0]["layer_diff_id"] == diff_id and logs[0]["cache_key"] == key
