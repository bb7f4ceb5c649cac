"""Step Functions task ``Publish``: the scan's result document, then every sink (scan state and images tables)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import pipeline
from imagescan.aws.events import PublishTask
from imagescan.aws.observability import logger, metrics, tracer
from imagescan.aws.publish import publish


@logger.inject_lambda_context(correlation_id_path="image.digest")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=PublishTask)
def handler(event: PublishTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(scan_id=event.scan_id)
    return publish(event, pipeline.current()).model_dump(mode="json")
