"""The push trigger: an ECR ``ECR Image Action`` event → one scan (a Step Functions execution) of that image.

Refused (counted as ``PushEventsRefused``): a push from an account that is neither the scanner's own nor listed
in ``RegistryAccounts`` (the scanner's event bus takes other accounts' events only from the listed ones; this is
the second line). Skipped: anything but a successful push, artifacts that are not container images (signatures,
SBOM referrers, Helm charts: ``artifact-media-type``), and, unless ``SCAN_UNTAGGED`` is on, untagged image
manifests (a multi-arch push sends one event per platform manifest, untagged, and one for the tagged index: the
index's scan covers every platform). Duplicate deliveries are absorbed twice over: the handler is idempotent per
registry, repository and digest (powertools Idempotency), and the execution name is derived from the event id,
so a redelivered event can never start a second execution (``ExecutionAlreadyExists`` is taken as "already
started").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from imagescan.aws import identity
from imagescan.aws.errors import error_code, from_aws_error
from imagescan.aws.events import EcrImageActionEvent, ImageTarget, ScanRequest
from imagescan.aws.observability import PUSH_EVENTS_REFUSED, PUSH_EVENTS_SKIPPED, SCANS_STARTED, count, logger
from imagescan.aws.registry_access import account_refusal
from imagescan.aws.scanstate import ScanStateTable
from imagescan.aws.settings import Settings
from imagescan.image.manifest import INDEX_TYPES, MANIFEST_TYPES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient

IMAGE_CONFIG_TYPES = frozenset({"application/vnd.oci.image.config.v1+json",
                                "application/vnd.docker.container.image.v1+json"})


class TriggerResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scan_id: str | None = None
    execution_arn: str | None = None
    started: bool = False
    skipped: str | None = None
    """Why no scan was started."""
    refused: str | None = None
    """Why the push was refused: it came from an account that is neither this scanner's nor listed in
    ``RegistryAccounts`` (no scan is started, ``PushEventsRefused`` is counted)."""


def registry_host(account: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def skip_reason(event: EcrImageActionEvent, scan_untagged: bool) -> str | None:
    detail = event.detail
    if detail.action_type != "PUSH" or detail.result != "SUCCESS":
        return f"not a successful push ({detail.action_type} {detail.result})"
    if detail.artifact_media_type and detail.artifact_media_type not in IMAGE_CONFIG_TYPES:
        return f"not a container image (artifact {detail.artifact_media_type})"
    manifest_type = detail.manifest_media_type
    if manifest_type and manifest_type not in MANIFEST_TYPES and manifest_type not in INDEX_TYPES:
        return f"not an image manifest or index ({manifest_type})"
    if not detail.image_tag and not scan_untagged and manifest_type not in INDEX_TYPES:
        return "untagged image manifest (scanned with its index)"
    return None


def scan_id_for(event: EcrImageActionEvent) -> str:
    """The execution name: the digest for people, a hash of repository and event id for uniqueness (≤ 80)."""
    digest_hex = event.detail.image_digest.split(":", 1)[1]
    salt = hashlib.sha256(f"{event.detail.repository_name}\0{event.id}".encode()).hexdigest()[:16]
    return f"{digest_hex[:40]}-{salt}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def start_scan(event: EcrImageActionEvent, settings: Settings, sfn: SFNClient, dynamodb: DynamoDBClient,
               now: dt.datetime | None = None, own_account: Callable[[], str] | None = None) -> TriggerResult:
    refused = account_refusal(event.account, settings,
                              own_account or (lambda: identity.caller_account(settings)))
    if refused:
        count(PUSH_EVENTS_REFUSED)
        logger.warning("push event refused", extra={"reason": refused, "account": event.account,
                                                    "repository": event.detail.repository_name})
        return TriggerResult(refused=refused)
    reason = skip_reason(event, settings.scan_untagged)
    if reason:
        count(PUSH_EVENTS_SKIPPED)
        logger.info("push event skipped", extra={"reason": reason, "repository": event.detail.repository_name})
        return TriggerResult(skipped=reason)
    settings.require("state_machine_arn", "scan_state_table")
    detail = event.detail
    image = ImageTarget(registry=registry_host(event.account, event.region), repository=detail.repository_name,
                        digest=detail.image_digest, tag=detail.image_tag)
    requested = now or dt.datetime.now(dt.UTC)
    expires_at = int((requested + dt.timedelta(days=settings.scan_record_days)).timestamp())
    request = ScanRequest(scan_id=scan_id_for(event), image=image, requested_at=requested, trigger=event.id,
                          expires_at=expires_at)
    ScanStateTable(dynamodb, settings.scan_state_table).queued(request.scan_id, image, requested, expires_at,
                                                               event.id)
    arn = execution_arn(settings.state_machine_arn, request.scan_id)
    try:
        arn = sfn.start_execution(stateMachineArn=settings.state_machine_arn, name=request.scan_id,
                                  input=request.model_dump_json())["executionArn"]
    except ClientError as exc:
        if error_code(exc) != "ExecutionAlreadyExists":
            raise from_aws_error(exc, "StartExecution") from exc
        logger.info("scan already started for this event", extra={"execution_arn": arn})
        return TriggerResult(scan_id=request.scan_id, execution_arn=arn, started=False)
    except BotoCoreError as exc:
        raise from_aws_error(exc, "StartExecution") from exc
    count(SCANS_STARTED)
    logger.info("scan started", extra={"scan_id": request.scan_id, "execution_arn": arn, "image": image.key})
    return TriggerResult(scan_id=request.scan_id, execution_arn=arn, started=True)


IDEMPOTENCY_KEY = '[account, region, detail."repository-name", detail."image-digest"]'
"""One scan per registry (account and Region), repository and digest within the idempotency window, however many
events arrive (two registry accounts may hold a repository of the same name with the same image)."""


def idempotency_config(expires_after_seconds: int) -> IdempotencyConfig:
    return IdempotencyConfig(event_key_jmespath=IDEMPOTENCY_KEY, raise_on_no_idempotency_key=True,
                             expires_after_seconds=expires_after_seconds, hash_function="sha256")


def idempotency_store(table: str, client: DynamoDBClient) -> DynamoDBPersistenceLayer:
    """A persistence layer for one :class:`IdempotencyConfig` (powertools configures each layer only once)."""
    return DynamoDBPersistenceLayer(table_name=table, boto3_client=client)
