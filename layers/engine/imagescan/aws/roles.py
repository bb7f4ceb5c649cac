"""Credentials of roles in other accounts (STS ``AssumeRole``), cached per role until shortly before they expire,
and one boto3 session per role whose credentials refresh themselves from that cache.

A client made from :meth:`AssumedRoleCache.session` is created once and kept for the container's life: botocore
asks the cache again when the credentials enter their last :data:`REFRESH_MARGIN` seconds (its advisory refresh
window, 15 minutes), and the cache assumes the role again at that same point. ``clock`` (epoch seconds) is
injectable so tests can move time.

Errors: :class:`~imagescan.aws.errors.RegistryAccessError` when STS refuses (no such role, a trust policy that
does not name this account, no ``sts:AssumeRole`` permission), :class:`~imagescan.aws.errors.TransientError` for
throttling and network failures that outlast the STS client's own retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
from botocore.credentials import CredentialProvider, DeferredRefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from imagescan.aws.errors import RegistryAccessError, TransientError, error_code, is_transient

REFRESH_MARGIN = 15 * 60.0
"""Seconds before expiry at which a role is assumed again (botocore's advisory refresh window)."""
SESSION_SECONDS = 3600
"""``DurationSeconds`` asked of STS (a role's default maximum session)."""
SESSION_NAME = "imagescan"


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float
    """Epoch seconds."""

    def metadata(self) -> dict[str, str]:
        """What botocore's refreshable credentials take from their refresh function."""
        return {"access_key": self.access_key_id, "secret_key": self.secret_access_key,
                "token": self.session_token,
                "expiry_time": datetime.fromtimestamp(self.expires_at, UTC).isoformat()}


def _parse(role_arn: str, response: Any) -> RoleCredentials:
    credentials = response.get("Credentials") if isinstance(response, dict) else None
    if not isinstance(credentials, dict):
        raise RegistryAccessError(f"STS AssumeRole {role_arn} returned no credentials")
    values = [credentials.get(k) for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")]
    expiration = credentials.get("Expiration")
    if not all(isinstance(v, str) and v for v in values) or not isinstance(expiration, datetime):
        raise RegistryAccessError(f"STS AssumeRole {role_arn} returned incomplete credentials")
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=UTC)
    return RoleCredentials(str(values[0]), str(values[1]), str(values[2]), expiration.timestamp())


class _CacheProvider(CredentialProvider):  # type: ignore[misc]
    """A botocore credential provider backed by :class:`AssumedRoleCache` (first in the session's chain)."""

    METHOD = "imagescan-assume-role"
    CANONICAL_NAME = "custom-imagescan-assume-role"

    def __init__(self, refresh: Callable[[], dict[str, str]], now: Callable[[], datetime]) -> None:
        super().__init__()
        self._refresh = refresh
        self._now = now

    def load(self) -> DeferredRefreshableCredentials:
        return DeferredRefreshableCredentials(refresh_using=self._refresh, method=self.METHOD,
                                              time_fetcher=self._now)


class AssumedRoleCache:
    """``AssumeRole`` credentials per role ARN, thread-safe. ``sts`` returns the STS client (created once
    elsewhere, with retries)."""

    def __init__(self, sts: Callable[[], Any], *, session_name: str = SESSION_NAME,
                 duration: int = SESSION_SECONDS, clock: Callable[[], float] = time.time,
                 refresh_margin: float = REFRESH_MARGIN) -> None:
        self._sts = sts
        self._session_name = session_name
        self._duration = duration
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._credentials: dict[str, RoleCredentials] = {}
        self._sessions: dict[str, boto3.session.Session] = {}
        self._lock = threading.Lock()
        self.assumed = 0
        """AssumeRole calls made (every role)."""

    def credentials(self, role_arn: str) -> RoleCredentials:
        """The role's credentials: the cached ones while they have more than the margin left, else new ones."""
        with self._lock:
            cached = self._credentials.get(role_arn)
            if cached is not None and self._clock() < cached.expires_at - self._refresh_margin:
                return cached
            fresh = self._assume(role_arn)
            self._credentials[role_arn] = fresh
            return fresh

    def session(self, role_arn: str) -> boto3.session.Session:
        """A session acting as the role, created once per role; its credentials come from :meth:`credentials`
        and are asked for only when a client first signs a request."""
        with self._lock:
            session = self._sessions.get(role_arn)
            if session is None:
                core = botocore.session.Session()
                resolver = core.get_component("credential_provider")
                resolver.insert_before("env", _CacheProvider(lambda: self.credentials(role_arn).metadata(),
                                                             self._now))
                session = self._sessions[role_arn] = boto3.session.Session(botocore_session=core)
            return session

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _assume(self, role_arn: str) -> RoleCredentials:
        try:
            response = self._sts().assume_role(RoleArn=role_arn, RoleSessionName=self._session_name,
                                               DurationSeconds=self._duration)
        except ClientError as exc:
            if is_transient(exc):
                raise TransientError(f"STS AssumeRole {role_arn}: {exc}") from exc
            message = exc.response.get("Error", {}).get("Message") or str(exc)
            raise RegistryAccessError(
                f"cannot assume {role_arn}: {error_code(exc) or 'error'}: {message} (deploy registry-account.yaml "
                "in that account with this scanner's account id, and list the account in RegistryAccounts)"
            ) from exc
        except BotoCoreError as exc:
            raise TransientError(f"STS AssumeRole {role_arn}: {exc}") from exc
        self.assumed += 1
        return _parse(role_arn, response)


__all__ = ["REFRESH_MARGIN", "AssumedRoleCache", "RoleCredentials"]
