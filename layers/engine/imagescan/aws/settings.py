"""The pipeline's settings, read from the Lambda environment that ``template.yaml`` sets."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from imagescan.aws.errors import ConfigurationError

DEFAULT_DB_KEY = "db/imagescan.db"
DEFAULT_FEEDS_PREFIX = "feeds/"


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


ACCOUNT_PATTERN = re.compile(r"^[0-9]{12}$")
ROLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9+=,.@_-]{1,64}$")
DEFAULT_REGISTRY_ACCESS_ROLE = "imagescan-registry-read"


def _accounts(env: Mapping[str, str], name: str) -> frozenset[str]:
    """A comma-separated list of 12-digit account ids (blank items ignored)."""
    accounts = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    for account in accounts:
        if not ACCOUNT_PATTERN.match(account):
            raise ConfigurationError(f"{name}: {account!r} is not a 12-digit AWS account id")
    return frozenset(accounts)


def _role_name(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not ROLE_NAME_PATTERN.match(value):
        raise ConfigurationError(f"{name}={value!r} is not an IAM role name")
    return value


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={value!r} is not a whole number") from exc
    if number < 0:
        raise ConfigurationError(f"{name}={value!r} must not be negative")
    return number


@dataclass(frozen=True)
class Settings:
    bucket: str
    """S3 bucket of layer results, scan documents, SBOMs and the vulnerability database (``BUCKET``)."""
    scan_state_table: str = ""
    """DynamoDB table of scan state and failure records (``SCAN_STATE_TABLE``)."""
    images_table: str = ""
    """DynamoDB table of scanned images (``IMAGES_TABLE``)."""
    findings_table: str = ""
    """DynamoDB table of findings (``FINDINGS_TABLE``; written by the findings sink)."""
    state_machine_arn: str = ""
    """The scan state machine (``STATE_MACHINE_ARN``; the push handler starts it)."""
    db_key: str = DEFAULT_DB_KEY
    """Object key of the vulnerability database (``DB_KEY``)."""
    feeds_prefix: str = DEFAULT_FEEDS_PREFIX
    """Key prefix of the feed files the database is built from (``FEEDS_PREFIX``)."""
    scan_record_days: int = 90
    """Days scan-state items live (DynamoDB TTL; ``SCAN_RECORD_DAYS``)."""
    image_record_days: int = 400
    """Days an image item lives without a new scan (``IMAGE_RECORD_DAYS``)."""
    scan_untagged: bool = False
    """Scan untagged image manifests too (``SCAN_UNTAGGED``). Off: they are the platform images of an index,
    scanned with it."""
    security_hub: bool = False
    """Security Hub import is on (``SECURITY_HUB_ENABLED``)."""
    finding_retention_days: int = 90
    """Days a resolved finding stays in the findings table (DynamoDB TTL; ``FINDING_RETENTION_DAYS``)."""
    hub_refresh_days: int = 30
    """Open findings not sent to Security Hub for this many days are sent again (``SECURITY_HUB_REFRESH_DAYS``;
    Security Hub deletes a finding 90 days after its last update)."""
    region: str = ""
    """The functions' Region (``AWS_REGION``, set by Lambda): Security Hub's Region."""
    account_id: str = ""
    """The functions' account (``AWS_ACCOUNT_ID`` when set; else asked of STS when it is needed)."""
    registry_accounts: frozenset[str] = frozenset()
    """Other accounts whose ECR registries are scanned (``REGISTRY_ACCOUNTS``, comma-separated; the template's
    ``RegistryAccounts``). Empty: only the functions' own account."""
    registry_access_role: str = DEFAULT_REGISTRY_ACCESS_ROLE
    """The read role assumed in each registry account (``REGISTRY_ACCESS_ROLE_NAME``; ``registry-account.yaml``
    creates it)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        bucket = env.get("BUCKET", "").strip()
        if not bucket:
            raise ConfigurationError("BUCKET is not set: the pipeline needs its S3 bucket")
        return cls(
            bucket=bucket,
            scan_state_table=env.get("SCAN_STATE_TABLE", "").strip(),
            images_table=env.get("IMAGES_TABLE", "").strip(),
            findings_table=env.get("FINDINGS_TABLE", "").strip(),
            state_machine_arn=env.get("STATE_MACHINE_ARN", "").strip(),
            db_key=env.get("DB_KEY", "").strip() or DEFAULT_DB_KEY,
            feeds_prefix=env.get("FEEDS_PREFIX", "").strip() or DEFAULT_FEEDS_PREFIX,
            scan_record_days=_int(env, "SCAN_RECORD_DAYS", 90),
            image_record_days=_int(env, "IMAGE_RECORD_DAYS", 400),
            scan_untagged=_flag(env.get("SCAN_UNTAGGED"), False),
            security_hub=_flag(env.get("SECURITY_HUB_ENABLED"), False),
            finding_retention_days=_int(env, "FINDING_RETENTION_DAYS", 90),
            hub_refresh_days=_int(env, "SECURITY_HUB_REFRESH_DAYS", 30),
            region=(env.get("AWS_REGION", "") or env.get("AWS_DEFAULT_REGION", "")).strip(),
            account_id=env.get("AWS_ACCOUNT_ID", "").strip(),
            registry_accounts=_accounts(env, "REGISTRY_ACCOUNTS"),
            registry_access_role=_role_name(env, "REGISTRY_ACCESS_ROLE_NAME", DEFAULT_REGISTRY_ACCESS_ROLE),
        )

    def require(self, *names: str) -> None:
        """ConfigurationError naming the first of these settings that is empty."""
        for name in names:
            if not getattr(self, name):
                raise ConfigurationError(f"{name.upper()} is not set")
