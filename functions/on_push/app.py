"""EventBridge ``ECR Image Action`` (push) → one scan execution per image, idempotent per registry, repository and
digest; pushes from accounts that are neither this one nor listed in ``REGISTRY_ACCOUNTS`` are refused."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.idempotency import idempotent
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from imagescan.aws import clients, trigger
from imagescan.aws.events import EcrImageActionEvent
from imagescan.aws.observability import logger, metrics, tracer
from imagescan.aws.settings import Settings

SETTINGS = Settings.from_env()
IDEMPOTENCY = trigger.idempotency_config(int(os.environ.get("IDEMPOTENCY_TTL_SECONDS", "86400")))
STORE = trigger.idempotency_store(os.environ["IDEMPOTENCY_TABLE"], clients.dynamodb())


@logger.inject_lambda_context(correlation_id_path='detail."image-digest"')
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@idempotent(config=IDEMPOTENCY, persistence_store=STORE)
@event_parser(model=EcrImageActionEvent)
def handler(event: EcrImageActionEvent, context: LambdaContext) -> dict[str, Any]:
    result = trigger.start_scan(event, SETTINGS, clients.stepfunctions(), clients.dynamodb())
    return result.model_dump(mode="json")
