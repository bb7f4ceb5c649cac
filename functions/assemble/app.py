"""Step Functions task ``Assemble`` (one platform): merge the layer results, SBOM, checks, report."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import pipeline
from imagescan.aws.events import AssembleTask
from imagescan.aws.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="image.digest")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=AssembleTask)
def handler(event: AssembleTask, context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(platform=event.platform.platform, scan_id=event.scan_id)
    return pipeline.current().assemble(event).model_dump(mode="json")
