"""Scheduled: ``db update`` (live feeds, or ``FEEDS_MIRROR``), then the database published to S3 if it changed."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import clients, dbrefresh
from imagescan.aws.events import ScheduledEvent
from imagescan.aws.observability import logger, metrics, tracer
from imagescan.aws.settings import Settings

SETTINGS = Settings.from_env()
UPDATER = dbrefresh.online_updater(os.environ.get("FEEDS_MIRROR"))


@logger.inject_lambda_context(correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_parser(model=ScheduledEvent)
def handler(event: ScheduledEvent, context: LambdaContext) -> dict[str, Any]:
    result = dbrefresh.refresh_database(clients.s3(), SETTINGS.bucket, SETTINGS.db_key, UPDATER)
    return result.model_dump(mode="json")
