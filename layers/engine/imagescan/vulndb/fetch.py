"""Conditional HTTP downloads for ``db update`` (urllib3): ETag / Last-Modified validators, retries with
exponential backoff, bodies streamed to a temporary file and renamed into place only when complete.

Retried: connection failures, timeouts, HTTP 429/500/502/503/504, and a body cut short. Not retried: other
4xx answers. ``Retry-After`` is not obeyed (a server asking for an hour would stall the update); the backoff is.
Every failure becomes :class:`FetchError` with a one-line message.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

import imagescan

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 8 * 1024 * 1024 * 1024
"""Largest body accepted (the OSV Debian export is the biggest feed, a few hundred MiB)."""
_CHUNK = 1024 * 1024


class FetchError(Exception):
    """A download failed; the message is one line naming the URL and the reason."""


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Fetched:
    url: str
    status: Literal["downloaded", "not-modified"]
    etag: str | None
    last_modified: str | None
    size: int | None = None
    sha256: str | None = None


def _reason(exc: BaseException) -> str:
    cause: BaseException = exc
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        cause = reason
    text = str(cause).strip() or type(cause).__name__
    return " ".join(text.split())[:300]


def _expected_length(headers: Mapping[str, str]) -> int | None:
    """The body length to expect, when the server states it for the bytes as stored (no content coding)."""
    if headers.get("Content-Encoding", "identity").lower() not in ("", "identity"):
        return None
    try:
        length = int(headers.get("Content-Length", ""))
    except ValueError:
        return None
    return length if length >= 0 else None


class Fetcher:
    def __init__(self, *, retries: int = 3, backoff: float = 1.0, timeout: float = 60.0,
                 max_body: int = MAX_BODY) -> None:
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self.max_body = max_body
        self.timeout = urllib3.Timeout(connect=min(timeout, 30.0), read=timeout)
        self.pool = urllib3.PoolManager(headers={"User-Agent": f"imagescan/{imagescan.__version__} (db update)"})
        self.requests = 0
        self.downloaded_bytes = 0

    def close(self) -> None:
        self.pool.clear()  # type: ignore[no-untyped-call]

    def _retry(self) -> Retry:
        return Retry(
            total=self.retries, connect=self.retries, read=self.retries, status=self.retries, other=0,
            backoff_factor=self.backoff, status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}), raise_on_status=False, respect_retry_after_header=False,
            redirect=5,
        )

    def get(self, url: str, dest: Path, validators: Validators | None = None) -> Fetched:
        """GET ``url`` into ``dest``. With ``validators`` (and ``dest`` present) the request is conditional, and a
        304 leaves ``dest`` as it is. ``dest`` is replaced only by a complete body."""
        conditional = validators.headers() if validators and dest.is_file() else {}
        for attempt in range(self.retries + 1):
            try:
                return self._once(url, dest, conditional)
            except _BodyCut as exc:
                if attempt >= self.retries:
                    raise FetchError(f"{url}: {exc} (after {self.retries + 1} attempts)") from exc
                time.sleep(min(30.0, self.backoff * 2 ** attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, url: str, dest: Path, conditional: dict[str, str]) -> Fetched:
        self.requests += 1
        try:
            resp = self.pool.request(  # type: ignore[no-untyped-call]
                "GET", url, headers=conditional, preload_content=False, retries=self._retry(), timeout=self.timeout,
                redirect=True,
            )
        except Urllib3Error as exc:
            raise FetchError(f"{url}: {_reason(exc)}") from exc
        try:
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            if resp.status == 304 and conditional:
                return Fetched(url, "not-modified", etag or conditional.get("If-None-Match"),
                               modified or conditional.get("If-Modified-Since"))
            if resp.status != 200:
                tried = f" after {self.retries} retries" if resp.status in RETRY_STATUSES and self.retries else ""
                raise FetchError(f"{url}: HTTP {resp.status} {resp.reason or ''}".rstrip() + tried)
            size, sha = self._save(resp, url, dest, _expected_length(resp.headers))
            return Fetched(url, "downloaded", etag, modified, size, sha)
        finally:
            resp.release_conn()

    def _save(self, resp: BaseHTTPResponse, url: str, dest: Path, expected: int | None) -> tuple[int, str]:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        digest, size = hashlib.sha256(), 0
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    for chunk in resp.stream(_CHUNK):
                        size += len(chunk)
                        if size > self.max_body:
                            raise FetchError(f"{url}: larger than {self.max_body} bytes")
                        digest.update(chunk)
                        out.write(chunk)
                except Urllib3Error as exc:
                    raise _BodyCut(f"download cut short after {size} bytes: {_reason(exc)}") from exc
                if expected is not None and size != expected:
                    raise _BodyCut(f"download cut short: {size} of {expected} bytes")
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.downloaded_bytes += size
        return size, digest.hexdigest()


class _BodyCut(Exception):
    """The connection broke while the body was being read: the whole GET is tried again."""
