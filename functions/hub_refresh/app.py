"""Scheduled (daily): open findings not confirmed by a scan for ``SECURITY_HUB_REFRESH_DAYS`` are sent to Security
Hub again before its 90-day expiry deletes them (:class:`imagescan.aws.securityhub.HubRefresher`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import securityhub
from imagescan.aws.events import ScheduledEvent
from imagescan.aws.observability import logger, metrics, tracer
from imagescan.aws.settings import Settings

SETTINGS = Settings.from_env()


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ScheduledEvent)
def handler(event: ScheduledEvent, context: LambdaContext) -> dict[str, Any]:
    return asdict(securityhub.refresh_from_settings(SETTINGS))
