"""Small S3 helpers: JSON documents (optionally gzip-compressed) and existence checks, with the pipeline's error
classification (throttling → :class:`~imagescan.aws.errors.TransientError`)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws.errors import error_code, from_aws_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
MAX_DOCUMENT = 512 * 1024 * 1024
"""Largest document read into memory (a layer index of a huge layer stays far below)."""


def is_missing(exc: ClientError) -> bool:
    return error_code(exc) in _MISSING


def exists(s3: S3Client, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_missing(exc):
            return False
        raise from_aws_error(exc, f"HEAD s3://{bucket}/{key}") from exc
    except BotoCoreError as exc:
        raise from_aws_error(exc, f"HEAD s3://{bucket}/{key}") from exc
    return True


def put_bytes(s3: S3Client, bucket: str, key: str, body: bytes, content_type: str, *, compress: bool = False,
              metadata: dict[str, str] | None = None) -> None:
    extra: dict[str, Any] = {"ContentType": content_type, "Metadata": metadata or {}}
    if compress:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        extra["ContentEncoding"] = "gzip"
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)
    except (BotoCoreError, ClientError) as exc:
        raise from_aws_error(exc, f"PUT s3://{bucket}/{key}") from exc


def put_json(s3: S3Client, bucket: str, key: str, text: str, *, compress: bool = False,
             metadata: dict[str, str] | None = None) -> None:
    put_bytes(s3, bucket, key, text.encode("utf-8"), "application/json", compress=compress, metadata=metadata)


def get_bytes(s3: S3Client, bucket: str, key: str) -> bytes | None:
    """The object's bytes (gunzipped when stored compressed), None when there is no such object."""
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
        body = response["Body"].read(MAX_DOCUMENT + 1)
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise from_aws_error(exc, f"GET s3://{bucket}/{key}") from exc
    except BotoCoreError as exc:
        raise from_aws_error(exc, f"GET s3://{bucket}/{key}") from exc
    if len(body) > MAX_DOCUMENT:
        raise ValueError(f"s3://{bucket}/{key} is larger than {MAX_DOCUMENT} bytes")
    if response.get("ContentEncoding") == "gzip" or body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"s3://{bucket}/{key} is not valid gzip: {exc}") from exc
    return body


def get_json(s3: S3Client, bucket: str, key: str) -> Any:
    body = get_bytes(s3, bucket, key)
    if body is None:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"s3://{bucket}/{key} is not valid JSON: {exc}") from exc
