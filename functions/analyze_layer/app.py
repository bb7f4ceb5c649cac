"""Step Functions task ``AnalyzeLayer`` (one layer of the Map): cache check, else stream and analyse the layer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import pipeline
from imagescan.aws.events import LayerTask
from imagescan.aws.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="image.digest")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=LayerTask)
def handler(event: LayerTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(layer_diff_id=event.layer.diff_id, scan_id=event.scan_id)
    return pipeline.current().analyze(event).model_dump(mode="json")
