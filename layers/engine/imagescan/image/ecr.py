"""Amazon ECR credentials: ``GetAuthorizationToken`` for the account and Region named by the registry host.

``ACCOUNT.dkr.ecr.REGION.amazonaws.com`` → ``ecr.get_authorization_token(registryIds=[ACCOUNT])`` with an ECR
client in REGION, using the default AWS credential chain (the Lambda role, env vars, profiles...). The token is a
base64 ``AWS:password`` valid 12 hours; it is cached per registry host and fetched again ``refresh_margin`` seconds
before the ``expiresAt`` it comes with. Clients are created once per Region and reused (one provider per process:
:func:`default_provider`).

Errors are :class:`imagescan.errors.RegistryError`.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from imagescan.errors import ReferenceError_, RegistryError
from imagescan.image.auth import Credentials
from imagescan.image.reference import ImageReference

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

REFRESH_MARGIN = 30 * 60.0
"""Seconds before a token's expiry at which a new one is fetched."""


def _boto3_client(region: str) -> ECRClient:
    import boto3
    from botocore.config import Config

    return boto3.client("ecr", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5}))


def ecr_account_region(registry: str) -> tuple[str, str]:
    """``(account, region)`` of an ECR registry host; RegistryError when the host is not ECR's."""
    try:
        return ImageReference("docker", registry=registry).ecr_account_region()
    except ReferenceError_ as exc:
        raise RegistryError(str(exc)) from exc


@dataclass(frozen=True)
class _Cached:
    credentials: Credentials
    expires_at: float
    """Epoch seconds."""


class EcrTokenProvider:
    """ECR registry credentials, cached per registry host; thread-safe.

    ``clock`` returns epoch seconds (``time.time``; injectable for tests), ``client_factory(region)`` makes an
    ECR client (boto3 by default) and is called at most once per Region. ``account_client_factory(account,
    region)``, when given, is used instead, at most once per account and Region: the token of a registry in
    another account can then be asked for with that account's credentials (an assumed role).
    """

    def __init__(
        self,
        *,
        client_factory: Callable[[str], Any] = _boto3_client,
        account_client_factory: Callable[[str, str], Any] | None = None,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self._client_factory = client_factory
        self._account_client_factory = account_client_factory
        self._clock = clock
        self._refresh_margin = refresh_margin
        self._clients: dict[tuple[str, str], Any] = {}
        self._tokens: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def credentials(self, registry: str) -> Credentials:
        """Basic credentials (``AWS``, token password) for the ECR registry host ``registry``."""
        account, region = ecr_account_region(registry)
        with self._lock:
            cached = self._tokens.get(registry)
            if cached is not None and self._clock() < cached.expires_at - self._refresh_margin:
                return cached.credentials
            cached = self._fetch(registry, account, region)
            self._tokens[registry] = cached
            return cached.credentials

    def invalidate(self, registry: str) -> None:
        """Forget the cached token of ``registry`` (the registry rejected it)."""
        with self._lock:
            self._tokens.pop(registry, None)

    def _client(self, account: str, region: str) -> Any:
        factory = self._account_client_factory
        key = (account if factory else "", region)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = factory(account, region) if factory else self._client_factory(region)
        return client

    def _fetch(self, registry: str, account: str, region: str) -> _Cached:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"ECR registry {registry} (account {account}, Region {region})"
        try:
            response = self._client(account, region).get_authorization_token(registryIds=[account])
        except (BotoCoreError, ClientError) as exc:
            raise RegistryError(f"cannot get an authorization token for {where}: {exc}") from exc
        data = response.get("authorizationData") if isinstance(response, dict) else None
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            raise RegistryError(f"GetAuthorizationToken returned no authorization data for {where}")
        token = data[0].get("authorizationToken")
        if not isinstance(token, str):
            raise RegistryError(f"GetAuthorizationToken returned no token for {where}")
        try:
            user, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError) as exc:
            raise RegistryError(f"GetAuthorizationToken returned a malformed token for {where}") from exc
        if not sep or not user:
            raise RegistryError(f"GetAuthorizationToken returned a malformed token for {where}")
        expires = data[0].get("expiresAt")
        if isinstance(expires, datetime):
            expires_at = expires.timestamp()
        else:  # not documented as optional, but never cache forever
            expires_at = self._clock() + self._refresh_margin + 60.0
        return _Cached(Credentials(username=user, password=password), expires_at)


class EcrCredentials:
    """The :class:`imagescan.image.auth.CredentialSource` of one ECR registry."""

    def __init__(self, registry: str, provider: EcrTokenProvider) -> None:
        self._registry = registry
        self._provider = provider

    def get(self) -> Credentials | None:
        return self._provider.credentials(self._registry)

    def invalidate(self) -> None:
        self._provider.invalidate(self._registry)


_default: EcrTokenProvider | None = None
_default_lock = threading.Lock()


def default_provider() -> EcrTokenProvider:
    """The process-wide provider (boto3 clients and tokens survive across warm Lambda invocations)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = EcrTokenProvider()
        return _default
