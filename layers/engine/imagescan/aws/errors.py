"""Errors raised out of the pipeline's Lambda handlers. Step Functions sees the class name as the error name,
and the state machine's ``Retry`` and ``Catch`` rules are written against these names."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from imagescan.errors import RegistryError

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_THROTTLING_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "SlowDown",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "LimitExceededException", "InternalError", "InternalServerError", "ServiceUnavailable", "RequestTimeout",
    "RequestTimeoutException", "InternalFailure",
})


class PipelineError(Exception):
    """Base of the pipeline's errors."""


class TransientError(PipelineError):
    """Throttling, a network failure, a 5xx answer: the state machine retries with backoff."""


class LayerIncompleteError(PipelineError):
    """A layer could not be read to its end (corrupt or truncated blob). Retried once; then the layer is recorded
    as failed and the scan completes with a ``scan-incomplete`` finding for it."""


class ImageUnavailableError(PipelineError):
    """The image cannot be scanned: not found, access denied, malformed manifest, too large. Not retried."""


class RegistryAccessError(PipelineError):
    """The image's registry account may not be read: it is neither the pipeline's own account nor one of its
    registry accounts (``RegistryAccounts``), or that account's read role cannot be assumed. Not retried."""


class ConfigurationError(PipelineError):
    """A required setting (environment variable) is missing or invalid. Not retried."""


def from_registry_error(exc: RegistryError) -> PipelineError:
    """A registry failure as a pipeline error: retryable statuses and connection failures are transient."""
    if exc.status is None or exc.status in RETRYABLE_STATUSES:
        return TransientError(str(exc))
    return ImageUnavailableError(str(exc))


def is_transient(exc: BaseException) -> bool:
    """True for AWS SDK failures that a later attempt may not meet (after botocore's own retries)."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error.get("Code") in _THROTTLING_CODES or (isinstance(status, int) and status >= 500)
    return isinstance(exc, ConnectionError | HTTPClientError)


def from_aws_error(exc: BotoCoreError | ClientError, what: str) -> Exception:
    """``TransientError`` for throttling and network failures, else the original exception."""
    if is_transient(exc):
        return TransientError(f"{what}: {exc}")
    return exc


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
