"""Step Functions task ``Resolve``: the pushed image's platforms and distinct layers (plans to S3)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import pipeline
from imagescan.aws.events import ScanRequest
from imagescan.aws.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="image.digest")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ScanRequest)
def handler(event: ScanRequest, context: LambdaContext) -> dict[str, Any]:
    return pipeline.current().resolve(event).model_dump(mode="json")
