"""A client of the OCI distribution API (registries): manifests by tag or digest, blobs as streams.

Implements :class:`imagescan.image.source.BlobSource`. HTTPS always, except plain HTTP for loopback hosts and with
``insecure=True``; Docker Hub (``docker.io``) is ``registry-1.docker.io``. Authentication follows the registry's
challenges (:mod:`imagescan.image.auth`), with ECR tokens for ECR hosts (:mod:`imagescan.image.ecr`) and
``config.json`` credentials for the others. Requests are retried with exponential backoff and full jitter on 429,
500, 502, 503, 504 and connection errors (``Retry-After`` honoured), for a bounded number of attempts and total
time. Blob redirects (to S3, CDNs) are followed without the ``Authorization`` header when they leave the registry.

Every failure is a :class:`imagescan.errors.RegistryError` with a one-line message and the HTTP status, if any.
"""

from __future__ import annotations

import email.utils
import http
import io
import json
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar, cast

import urllib3
from urllib3.exceptions import HTTPError as _Urllib3Error
from urllib3.exceptions import LocationParseError, MaxRetryError, ProtocolError, SSLError

from imagescan.errors import RegistryError
from imagescan.image.auth import (
    Authenticator,
    Credentials,
    CredentialSource,
    HttpResult,
    StaticCredentials,
    load_docker_credentials,
)
from imagescan.image.reference import ImageReference

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from imagescan.image.ecr import EcrTokenProvider

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json"
DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"
MANIFEST_ACCEPT = ", ".join(
    [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, DOCKER_SCHEMA1]
)
_GENERIC_TYPES = frozenset({"application/json", "text/plain", "application/octet-stream"})

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
MAX_MANIFEST_SIZE = 4 << 20
_ERROR_BODY_LIMIT = 64 << 10
_BLOB_BUFFER = 1 << 20
_USER_AGENT = "imagescan/0.1 (+OCI distribution client)"
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DOCKER_HUB_API = "registry-1.docker.io"

T = TypeVar("T")


class _Response(Protocol):
    """What is used of a urllib3 response (1.26 and 2.x)."""

    status: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    def read(self, amt: int | None = None, decode_content: bool | None = None) -> bytes: ...

    def release_conn(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per request, and the backoff between them: ``uniform(0, min(cap, base * 2**n))`` seconds."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 10.0
    max_total_time: float = 120.0
    """No new attempt starts (and no sleep is begun) that would end after this many seconds."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1))))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The delay a ``Retry-After`` header asks for (delta-seconds or HTTP-date), None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def registry_api_host(registry: str) -> str:
    """The ``host[:port]`` actually spoken to for a registry name (Docker Hub's API host for ``docker.io``)."""
    return _DOCKER_HUB_API if registry in ("docker.io", "index.docker.io") else registry


def _host_is_loopback(host: str | None) -> bool:
    h = (host or "").lower().strip("[]")
    return h in {"localhost", "::1"} or h.startswith("127.")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, (parts.hostname or ""), port or default


def _content_length(resp: _Response) -> int | None:
    value = resp.headers.get("Content-Length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def _finish(resp: _Response) -> None:
    """Release a response we do not read further: drained when small, else its connection is closed."""
    length = _content_length(resp)
    try:
        if length is not None and length <= _ERROR_BODY_LIMIT:
            resp.read(length + 1)
        else:
            resp.close()
    except (_Urllib3Error, OSError):
        resp.close()
    resp.release_conn()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]


def _error_detail(body: bytes) -> str:
    """The registry's error(s) from a JSON error body (``message (CODE)``), or the first line of other text."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = []
        for err in data["errors"][:3]:
            if isinstance(err, dict):
                message, code = err.get("message"), err.get("code")
                text = str(message) if message else ""
                if code:
                    text = f"{text} ({code})" if text else str(code)
                if text:
                    parts.append(text)
        if parts:
            return " ".join("; ".join(parts).split())[:300]
    text = body.decode("utf-8", "replace").strip()
    return " ".join(text.splitlines()[0].split())[:200] if text else ""


class _BlobReader(io.RawIOBase):
    """A blob's response body as a raw stream; a body shorter than its Content-Length raises RegistryError."""

    def __init__(self, resp: _Response, what: str, registry: str) -> None:
        super().__init__()
        self._resp = resp
        self._what = what
        self._registry = registry
        self.expected = _content_length(resp)
        self.received = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def _short(self, cause: str) -> RegistryError:
        size = f"{self.received} of {self.expected}" if self.expected is not None else f"{self.received}"
        return RegistryError(
            f"registry {self._registry}: {self._what} was truncated after {size} bytes ({cause})", None
        )

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._eof or len(view) == 0:
            return 0
        want = len(view)
        if self.expected is not None:
            want = min(want, max(self.expected - self.received, 0)) or 1
        try:
            data = self._resp.read(want, decode_content=False)
        except (_Urllib3Error, OSError) as exc:
            raise self._short(_reason(exc)) from exc
        if not data:
            if self.expected is not None and self.received < self.expected:
                raise self._short("connection closed early")
            self._eof = True
            return 0
        self.received += len(data)
        if self.expected is not None and self.received > self.expected:
            raise RegistryError(f"registry {self._registry}: {self._what} is longer than its Content-Length")
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            if not self._eof:
                self._resp.close()
            self._resp.release_conn()
        super().close()


class RegistryClient:
    """Reads one repository of one registry: ``fetch_manifest(tag_or_digest)``, ``open_blob(digest)``.

    ``ref`` is a ``docker``-transport reference. ``credentials`` overrides every other source; otherwise ECR hosts
    use ``ecr_provider`` (the process-wide one by default) and other hosts the Docker ``config.json``
    (``docker_config``, default ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``). ``endpoint``
    (``scheme://host[:port]``) replaces the computed base URL (mirrors, tests); plain HTTP still needs a loopback
    host or ``insecure``. ``sleep``, ``clock`` and ``rng`` are injectable for tests.
    """

    def __init__(
        self,
        ref: ImageReference,
        insecure: bool = False,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        credentials: Credentials | None = None,
        docker_config: Path | None = None,
        ecr_provider: EcrTokenProvider | None = None,
        endpoint: str | None = None,
        max_manifest_size: int = MAX_MANIFEST_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if ref.transport != "docker" or not ref.registry or not ref.repository:
            raise RegistryError(f"not a registry reference: {ref}")
        self.ref = ref
        self.registry = ref.registry
        self.repository = ref.repository
        self.insecure = insecure
        self.base_url = self._base_url(endpoint)
        self.retry = retry or RetryPolicy()
        self.max_manifest_size = max_manifest_size
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._pool = urllib3.PoolManager(num_pools=8, maxsize=8, headers={"User-Agent": _USER_AGENT})
        source: CredentialSource
        preemptive = False
        if credentials is not None:
            source = StaticCredentials(credentials)
        elif ref.is_ecr:
            from imagescan.image.ecr import EcrCredentials, default_provider

            source = EcrCredentials(self.registry, ecr_provider or default_provider())
            preemptive = True
        else:
            source = StaticCredentials(load_docker_credentials(self.registry, docker_config))
        self.auth = Authenticator(
            self.registry,
            self.repository,
            source,
            self._send_plain,
            preemptive_basic=preemptive,
            allow_plain_http=insecure,
            clock=clock,
        )

    # -- URLs

    def _base_url(self, endpoint: str | None) -> str:
        if endpoint is None:
            loopback = self.ref.is_loopback
            scheme = "http" if loopback or self.insecure else "https"
            return f"{scheme}://{registry_api_host(self.registry)}"
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"invalid registry endpoint {endpoint!r}")
        if parts.scheme == "http" and not self.insecure and not _host_is_loopback(parts.hostname):
            raise RegistryError(f"refusing plain HTTP to {parts.netloc} (use --insecure to allow)")
        return f"{parts.scheme}://{parts.netloc}"

    def manifest_url(self, ref: str) -> str:
        if not (_TAG_RE.match(ref) or _DIGEST_RE.match(ref)):
            raise RegistryError(f"invalid tag or digest {ref[:100]!r} for {self.registry}/{self.repository}")
        return f"{self.base_url}/v2/{self.repository}/manifests/{ref}"

    def blob_url(self, digest: str) -> str:
        if not _DIGEST_RE.match(digest):
            raise RegistryError(f"invalid blob digest {digest[:100]!r} for {self.registry}/{self.repository}")
        return f"{self.base_url}/v2/{self.repository}/blobs/{digest}"

    # -- BlobSource

    def fetch_manifest(self, ref: str) -> tuple[bytes, str]:
        """The manifest or index stored under a tag or digest, and its media type ("" when not given)."""
        url = self.manifest_url(ref)
        sep = "@" if ":" in ref else ":"
        what = f"manifest {self.repository}{sep}{ref}"

        def read(resp: _Response) -> tuple[bytes, str]:
            length = _content_length(resp)
            if length is not None and length > self.max_manifest_size:
                _finish(resp)
                raise RegistryError(f"{what} is too large ({length} bytes, at most {self.max_manifest_size})")
            body = resp.read(self.max_manifest_size + 1)
            if len(body) > self.max_manifest_size:
                resp.close()
                resp.release_conn()
                raise RegistryError(f"{what} is too large (more than {self.max_manifest_size} bytes)")
            resp.release_conn()
            if length is not None and len(body) != length:
                raise ProtocolError(f"body truncated: {len(body)} of {length} bytes")
            media_type = resp.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            return body, ("" if media_type in _GENERIC_TYPES else media_type)

        return self._request("GET", url, what, {"Accept": MANIFEST_ACCEPT}, read)

    def open_blob(self, digest: str) -> BinaryIO:
        """A stream of the blob's bytes as they arrive (redirects followed); not verified against the digest."""
        url = self.blob_url(digest)
        what = f"blob {self.repository}@{digest}"
        resp = self._request("GET", url, what, {"Accept-Encoding": "identity"}, lambda r: r)
        return io.BufferedReader(_BlobReader(resp, what, self.registry), _BLOB_BUFFER)

    def close(self) -> None:
        self._pool.clear()  # type: ignore[no-untyped-call]

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP

    def _send_plain(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> HttpResult:
        """One request outside the registry's own auth (the token server): retried, body read, no raise."""
        what = "a token"

        def read(resp: _Response) -> HttpResult:
            data = resp.read(1 << 20)
            resp.release_conn()
            return HttpResult(resp.status, dict(resp.headers.items()), data)

        return self._request(method, url, what, headers, read, body=body, authenticate=False)

    def _open(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[_Response, str]:
        """One request, following redirects; ``Authorization`` is dropped once the target leaves the origin."""
        for _ in range(MAX_REDIRECTS + 1):
            raw = self._pool.request(  # type: ignore[no-untyped-call]
                method,
                url,
                body=body,
                headers=headers,
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=self._timeout,
            )
            resp = cast(_Response, raw)
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or not location:
                return resp, url
            _finish(resp)
            target = urllib.parse.urljoin(url, location)
            scheme, host, _port = _origin(target)
            if scheme not in ("http", "https") or not host:
                raise RegistryError(f"registry {self.registry} redirected to an invalid URL {target[:200]!r}")
            if scheme == "http" and _origin(url)[0] == "https" and not self.insecure and not _host_is_loopback(host):
                raise RegistryError(f"registry {self.registry} redirected from HTTPS to plain HTTP ({host})")
            if _origin(target) != _origin(url):
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            if resp.status == 303:
                method, body = "GET", None
            url = target
        raise RegistryError(f"registry {self.registry}: too many redirects (more than {MAX_REDIRECTS})")

    def _request(
        self,
        method: str,
        url: str,
        what: str,
        headers: Mapping[str, str],
        consume: Callable[[_Response], T],
        *,
        body: bytes | None = None,
        authenticate: bool = True,
    ) -> T:
        """Send with retries; ``consume`` turns a 2xx response into the result (its read errors are retried too).

        With ``authenticate`` a 401 from the registry leads to one re-authentication, and any final non-2xx
        raises; without it the last response is given to ``consume`` whatever its status.
        """
        policy = self.retry
        start = self._clock()
        attempt = 0
        reauthenticated = False
        who = f"registry {self.registry}" if authenticate else f"token server {urllib.parse.urlsplit(url).netloc}"
        while True:
            attempt += 1
            send = dict(headers)
            if authenticate:
                auth = self.auth.header()
                if auth:
                    send["Authorization"] = auth
            try:
                resp, final_url = self._open(method, url, send, body)
                status = resp.status
                if 200 <= status < 300 or (not authenticate and status not in RETRY_STATUSES):
                    return consume(resp)
            except (SSLError, LocationParseError) as exc:
                raise RegistryError(f"cannot connect to {who} for {what}: {_reason(exc)}") from exc
            except (_Urllib3Error, OSError) as exc:
                delay = policy.backoff(attempt, self._rng)
                if attempt >= policy.max_attempts or self._clock() - start + delay > policy.max_total_time:
                    raise RegistryError(
                        f"cannot reach {who} for {what} after {attempt} attempts: {_reason(exc)}"
                    ) from exc
                self._sleep(delay)
                continue
            if status == 401 and authenticate and not reauthenticated and _origin(final_url) == _origin(url):
                challenge = resp.headers.get("WWW-Authenticate")
                _finish(resp)
                self.auth.challenge(challenge)
                reauthenticated = True
                attempt -= 1
                continue
            if status in RETRY_STATUSES and attempt < policy.max_attempts:
                asked = retry_after_seconds(resp.headers.get("Retry-After"))
                wait = policy.backoff(attempt, self._rng) if asked is None else asked
                if self._clock() - start + wait <= policy.max_total_time:
                    _finish(resp)
                    self._sleep(wait)
                    continue
            if not authenticate:
                return consume(resp)
            raise self._status_error(resp, what, attempt)

    def _status_error(self, resp: _Response, what: str, attempts: int) -> RegistryError:
        status = resp.status
        try:
            detail = _error_detail(resp.read(_ERROR_BODY_LIMIT))
        except (_Urllib3Error, OSError):
            detail = ""
        resp.close()
        resp.release_conn()
        try:
            phrase = " " + http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        message = f"registry {self.registry} returned {status}{phrase} for {what}"
        if detail:
            message += f": {detail}"
        if attempts > 1:
            message += f" (after {attempts} attempts)"
        return RegistryError(message, status)
