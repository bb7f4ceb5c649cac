"""Several accounts in one moto, with the access decisions AWS makes and moto does not.

moto keeps one backend per account (credentials from ``AssumeRole`` act in the role's account), but it lets any
caller assume any role, and its ECR authorization token names the registry asked for whoever asks. Inside
:meth:`Accounts.enforcing`:

* ``sts:AssumeRole`` is decided as IAM would (:mod:`localpipeline.iam`): the caller is the execution role of the
  function whose handler is running (:func:`localpipeline.lambdas.current_function`), which must hold an identity
  policy of the scanner stack allowing the role, and the role must exist in its account with a trust policy
  admitting that caller. A refusal is STS's ``AccessDenied``.
* ECR's ``GetAuthorizationToken`` returns a token of the *calling* account (``AWS:<caller>-auth-token``), as a real
  token carries its caller's identity: a registry of account B (a local registry whose password is B's) accepts
  only credentials acting in B, as no repository policy there names the scanner account.

Every decision is recorded (:class:`AccessLog`) for tests to assert on.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.ecr.responses import ECRResponse
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.exceptions import STSClientError
from moto.sts.models import STSBackend

from localpipeline.iam import identity_allows, principal_account, trust_allows
from localpipeline.lambdas import current_function
from localpipeline.stack import Stack


def token_password(account: str) -> str:
    """The password inside the ECR token of a caller acting in ``account``."""
    return f"{account}-auth-token"


@dataclass(frozen=True)
class AssumeRoleDecision:
    principal: str
    role_arn: str
    refusal: str | None


@dataclass
class AccessLog:
    assume_role: list[AssumeRoleDecision] = field(default_factory=list)
    token_requests: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    """(calling account, registryIds asked for) of every GetAuthorizationToken."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: AssumeRoleDecision | tuple[str, tuple[str, ...]]) -> None:
        with self._lock:
            if isinstance(entry, AssumeRoleDecision):
                self.assume_role.append(entry)
            else:
                self.token_requests.append(entry)


@dataclass
class Accounts:
    """The scanner stack (its functions' identity policies) and what moto holds of the other accounts."""

    scanner: Stack
    log: AccessLog = field(default_factory=AccessLog)

    def principal(self, caller_account: str) -> str:
        """The caller: the running function's execution role, else (the harness) its account's root."""
        function = current_function()
        if function is not None and caller_account == self.scanner.account:
            return self.scanner.function_role_arn(function)
        return f"arn:aws:iam::{caller_account}:root"

    def assume_role_refusal(self, caller_account: str, role_arn: str) -> tuple[str, str | None]:
        """The caller, and why it may not assume ``role_arn`` (None when it may)."""
        principal = self.principal(caller_account)
        denied = f"User: {principal} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
        if principal.split(":", 5)[5].startswith("role/"):
            role_name = principal.rsplit("/", 1)[1]
            if not identity_allows(self.scanner.role_statements(role_name), "sts:AssumeRole", role_arn):
                return principal, f"{denied} (no identity-based policy allows it)"
        account = principal_account(role_arn)
        backend = iam_backends[account]["aws"] if account is not None and account in iam_backends else None
        try:
            role = backend.get_role(role_arn.rsplit("/", 1)[-1]) if backend is not None else None
        except NotFoundException:  # STS answers AccessDenied for a role that does not exist
            role = None
        if role is None:
            return principal, denied
        document = role.assume_role_policy_document
        trust = json.loads(document) if isinstance(document, str) else document
        if not trust_allows(trust, principal):
            return principal, f"{denied} (the role's trust policy does not admit it)"
        return principal, None

    @contextmanager
    def enforcing(self) -> Iterator[AccessLog]:
        accounts = self
        real_assume = STSBackend.assume_role
        real_token = ECRResponse.get_authorization_token

        def assume_role(backend: STSBackend, region_name: str, role_session_name: str, role_arn: str,
                        policy: str, duration: int, external_id: str) -> Any:
            principal, refusal = accounts.assume_role_refusal(backend.account_id, role_arn)
            accounts.log.add(AssumeRoleDecision(principal, role_arn, refusal))
            if refusal:
                raise STSClientError("AccessDenied", refusal)
            return real_assume(backend, region_name, role_session_name, role_arn, policy, duration, external_id)

        def get_authorization_token(response: ECRResponse) -> Any:
            result = real_token(response)
            caller = response.current_account
            token = base64.b64encode(f"AWS:{token_password(caller)}".encode()).decode()
            data = result.result.get("authorizationData", []) if isinstance(result.result, dict) else []
            for entry in data:
                entry["authorizationToken"] = token
            accounts.log.add((caller, tuple(response._get_param("registryIds") or [caller])))
            return result

        with ExitStack() as patches:
            patches.enter_context(mock.patch.object(STSBackend, "assume_role", assume_role))
            patches.enter_context(mock.patch.object(ECRResponse, "get_authorization_token", get_authorization_token))
            yield self.log


__all__ = ["AccessLog", "Accounts", "AssumeRoleDecision", "token_password"]
