"""Which ECR registries the pipeline may read, and with whose credentials.

The functions' own account is read with their own role. An account listed in ``RegistryAccounts``
(:attr:`Settings.registry_accounts`) is read as its read role, ``arn:PARTITION:iam::ACCOUNT:role/ROLE``
(``REGISTRY_ACCESS_ROLE_NAME``, created there by ``registry-account.yaml``): the ECR authorization token is asked
for with that role's credentials, so the registry API (manifests, and the layer blobs it redirects to pre-signed
download URLs) authorizes ``BatchGetImage`` and ``GetDownloadUrlForLayer`` as that role, in that account. Any
other ECR account is refused with :class:`~imagescan.aws.errors.RegistryAccessError`. Registries that are not ECR
(a mirror, a registry named in a hand-started execution) are not an account question and are left as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from imagescan.aws import clients, identity
from imagescan.aws.errors import RegistryAccessError
from imagescan.aws.roles import AssumedRoleCache
from imagescan.aws.settings import Settings
from imagescan.image.ecr import EcrTokenProvider
from imagescan.image.reference import ImageReference


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def ecr_account(registry: str | None) -> str | None:
    """The account of an ECR registry host, None for any other host."""
    ref = ImageReference("docker", registry=registry)
    return ref.ecr_account_region()[0] if ref.is_ecr else None


def account_refusal(account: str, settings: Settings, own_account: Callable[[], str]) -> str | None:
    """Why ``account``'s registry may not be read, or its pushes scanned (None when it may: the functions' own
    account or one listed in ``RegistryAccounts``)."""
    if account in settings.registry_accounts:
        return None
    own = own_account()
    if account == own:
        return None
    listed = ", ".join(sorted(settings.registry_accounts)) or "none"
    return (f"account {account} is neither this scanner's account ({own}) nor one of its registry accounts "
            f"(RegistryAccounts: {listed})")


@dataclass(eq=False)
class RegistryAccess:
    """The registry accounts the pipeline may read, and ECR tokens for them (:attr:`tokens`)."""

    settings: Settings
    own_account: Callable[[], str]
    """The functions' account (STS ``GetCallerIdentity`` once per container)."""
    roles: AssumedRoleCache
    ecr_client: Callable[[str, str | None], Any]
    """``(region, role_arn or None)`` → an ECR client, created once per pair."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RegistryAccess:
        """With the container's clients (:mod:`imagescan.aws.clients`)."""
        return cls(settings, lambda: identity.caller_account(settings), clients.assumed_roles(), clients.ecr)

    def role_arn(self, account: str) -> str:
        partition = partition_of(self.settings.region)
        return f"arn:{partition}:iam::{account}:role/{self.settings.registry_access_role}"

    def role_for(self, account: str) -> str | None:
        """None for the own account (its own credentials), else the read role to assume there;
        RegistryAccessError for an account that may not be read."""
        reason = account_refusal(account, self.settings, self.own_account)
        if reason:
            raise RegistryAccessError(reason)
        return None if account == self.own_account() else self.role_arn(account)

    def check(self, ref: ImageReference) -> None:
        """RegistryAccessError unless ``ref``'s registry may be read; for another account its role is assumed
        now (or the cached credentials reused), so a role that cannot be assumed fails here, clearly."""
        account = ecr_account(ref.registry)
        if account is None:
            return
        try:
            role = self.role_for(account)
        except RegistryAccessError as exc:
            raise RegistryAccessError(f"{ref.registry}/{ref.repository}: {exc}") from exc
        if role is not None:
            self.roles.credentials(role)

    @cached_property
    def tokens(self) -> EcrTokenProvider:
        """ECR tokens per registry host, each asked for in the registry's account (its read role for another
        account)."""
        return EcrTokenProvider(account_client_factory=lambda account, region: self.ecr_client(
            region, self.role_for(account)))


__all__ = ["RegistryAccess", "account_refusal", "ecr_account", "partition_of"]
