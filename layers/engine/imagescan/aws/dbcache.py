"""The vulnerability database in a Lambda container's ``/tmp``, fetched from S3 only when it changed.

Each call costs one ``HeadObject``. When the object's ETag is the one already on disk, the local copy is used;
otherwise the object is downloaded with ``GetObject(IfMatch=ETag)`` (so the bytes are those of the version
checked) to a temporary file, renamed into place, and older copies are deleted (``/tmp`` is small). No object:
no database (the scan reports that vulnerabilities were not checked).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws import s3io
from imagescan.aws.errors import TransientError, error_code, from_aws_error

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEFAULT_DIRECTORY = Path(tempfile.gettempdir()) / "imagescan-db"
_SUFFIX = ".db"


class DatabaseCache:
    def __init__(self, s3: S3Client, bucket: str, key: str, directory: Path = DEFAULT_DIRECTORY) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._key = key
        self.directory = directory
        self.downloads = 0
        """How many times this cache downloaded the database (for logs and tests)."""

    def path(self) -> Path | None:
        """The local copy of the current database, None when the bucket has none."""
        where = f"s3://{self._bucket}/{self._key}"
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=self._key)
        except ClientError as exc:
            if s3io.is_missing(exc):
                self._prune(keep=None)
                return None
            raise from_aws_error(exc, f"HEAD {where}") from exc
        except BotoCoreError as exc:
            raise from_aws_error(exc, f"HEAD {where}") from exc
        etag = head["ETag"]
        local = self.directory / (hashlib.sha256(f"{self._key}\0{etag}".encode()).hexdigest()[:24] + _SUFFIX)
        if not local.is_file() or local.stat().st_size != head["ContentLength"]:
            self._download(etag, local, where)
        self._prune(keep=local)
        return local

    def _download(self, etag: str, local: Path, where: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".download-", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    response = self._s3.get_object(Bucket=self._bucket, Key=self._key, IfMatch=etag)
                    shutil.copyfileobj(response["Body"], out, 1 << 20)
                except ClientError as exc:
                    if error_code(exc) in ("PreconditionFailed", "412") or s3io.is_missing(exc):
                        raise TransientError(f"{where} changed while it was being downloaded") from exc
                    raise from_aws_error(exc, f"GET {where}") from exc
                except BotoCoreError as exc:
                    raise from_aws_error(exc, f"GET {where}") from exc
            os.replace(tmp_name, local)
            self.downloads += 1
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _prune(self, keep: Path | None) -> None:
        if not self.directory.is_dir():
            return
        for path in self.directory.glob(f"*{_SUFFIX}"):
            if path != keep:
                path.unlink(missing_ok=True)
