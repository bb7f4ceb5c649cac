"""AWS SDK clients, created once per Lambda container and reused by every invocation it serves.

Every client retries throttling and transient failures itself (``adaptive`` mode: exponential backoff plus a
client-side rate limiter that slows down when the service throttles) before an error reaches the state machine,
whose ``Retry`` rules are the second line.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from imagescan.aws.roles import AssumedRoleCache
from imagescan.image.ecr import EcrTokenProvider

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_sts import STSClient

MAX_ATTEMPTS = 8
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=60,
    tcp_keepalive=True,
)


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()


@cache
def s3() -> S3Client:
    return _session().client("s3", config=RETRY_CONFIG)


@cache
def dynamodb() -> DynamoDBClient:
    return _session().client("dynamodb", config=RETRY_CONFIG)


@cache
def stepfunctions() -> SFNClient:
    return _session().client("stepfunctions", config=RETRY_CONFIG)


@cache
def securityhub() -> Any:
    """Security Hub (typed by :class:`imagescan.aws.securityhub.ImportClient`: no stubs are installed for it)."""
    return _session().client("securityhub", config=RETRY_CONFIG)


@cache
def sts() -> STSClient:
    return _session().client("sts", config=RETRY_CONFIG)


def _ecr(region: str) -> Any:
    client: ECRClient = _session().client("ecr", region_name=region, config=RETRY_CONFIG)
    return client


@cache
def assumed_roles() -> AssumedRoleCache:
    """Credentials of roles in other accounts (the registry accounts' read roles), cached per role."""
    return AssumedRoleCache(sts)


@cache
def ecr(region: str, role_arn: str | None = None) -> Any:
    """An ECR client in ``region``: with the functions' own credentials, or acting as ``role_arn`` (credentials
    refreshed from :func:`assumed_roles`); one per Region and role."""
    session = _session() if role_arn is None else assumed_roles().session(role_arn)
    client: ECRClient = session.client("ecr", region_name=region, config=RETRY_CONFIG)
    return client


@cache
def ecr_tokens() -> EcrTokenProvider:
    """ECR registry credentials (GetAuthorizationToken), cached per registry for the container's life."""
    return EcrTokenProvider(client_factory=_ecr)


def reset() -> None:
    """Forget every client (tests that replace the AWS backend between cases)."""
    for factory in (_session, s3, dynamodb, stepfunctions, ecr_tokens, securityhub, sts, assumed_roles, ecr):
        factory.cache_clear()
