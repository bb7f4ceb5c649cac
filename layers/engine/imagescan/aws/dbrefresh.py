"""The scheduled database refresh: ``db update`` in the Lambda's ``/tmp``, then the database published to S3.

The update itself is :func:`imagescan.vulndb.update.update_database` (conditional downloads of the live feeds,
then the build), with its feed cache kept in ``/tmp`` while the container lives; ``FEEDS_MIRROR`` serves every
feed URL from a mirror. The database is uploaded only when its content changed: its fingerprint (each source's
name, sha256 and record count, not the build time) is stored as object metadata, and an unchanged fingerprint
skips the upload, so the object's ETag, and with it every scanner's ``/tmp`` copy, stays valid.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from imagescan.aws import s3io
from imagescan.aws.errors import from_aws_error
from imagescan.aws.observability import DATABASE_PUBLISHED, count, logger
from imagescan.vulndb.store import VulnDB

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Updater = Callable[[Path], None]
"""Brings the database file at the given path up to date (creating it when absent)."""
FINGERPRINT = "imagescan-fingerprint"
DEFAULT_WORKDIR = Path(tempfile.gettempdir()) / "imagescan-refresh"


class RefreshResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published: bool
    key: str
    fingerprint: str
    built_at: str
    sources: dict[str, int]
    """Records per source."""
    size: int


def online_updater(mirror: str | None = None) -> Updater:
    """``imagescan db update`` (live feeds, or ``mirror``), with the feed cache beside the database file."""

    def update(path: Path) -> None:
        from imagescan.vulndb.update import UpdateOptions, update_database

        report = update_database(UpdateOptions(out=path, mirror=mirror or None), log=logger.info)
        for problem in report.problems:
            logger.warning("feed problem", extra={"feed": problem.name, "status": problem.status,
                                                  "error": problem.error})

    return update


def fingerprint(path: Path) -> tuple[str, str, dict[str, int]]:
    """``(fingerprint, built_at, records per source)`` of a database file."""
    with VulnDB(path) as db:
        info = db.info()
    sources = sorted((s.name, s.format, s.sha256 or "", s.records) for s in info.sources)
    digest = hashlib.sha256(json.dumps([info.schema_version, sources]).encode()).hexdigest()
    return digest, info.built_at.isoformat(), {name: records for name, _, _, records in sources}


def _published_fingerprint(s3: S3Client, bucket: str, key: str) -> str | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if s3io.is_missing(exc):
            return None
        raise from_aws_error(exc, f"HEAD s3://{bucket}/{key}") from exc
    except BotoCoreError as exc:
        raise from_aws_error(exc, f"HEAD s3://{bucket}/{key}") from exc
    return head.get("Metadata", {}).get(FINGERPRINT)


def refresh_database(s3: S3Client, bucket: str, key: str, updater: Updater,
                     workdir: Path = DEFAULT_WORKDIR) -> RefreshResult:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "imagescan.db"
    updater(path)
    digest, built_at, sources = fingerprint(path)
    size = path.stat().st_size
    result = RefreshResult(published=False, key=key, fingerprint=digest, built_at=built_at, sources=sources,
                           size=size)
    if _published_fingerprint(s3, bucket, key) == digest:
        logger.info("database unchanged: not published", extra={"fingerprint": digest})
        return result
    metadata = {FINGERPRINT: digest, "built-at": built_at}
    try:
        s3.upload_file(str(path), bucket, key, Config=TransferConfig(multipart_threshold=64 << 20),
                       ExtraArgs={"Metadata": metadata, "ContentType": "application/vnd.sqlite3"})
    except (BotoCoreError, ClientError) as exc:
        raise from_aws_error(exc, f"upload s3://{bucket}/{key}") from exc
    count(DATABASE_PUBLISHED)
    logger.info("database published", extra={"key": key, "size": size, "sources": sources})
    return result.model_copy(update={"published": True})
