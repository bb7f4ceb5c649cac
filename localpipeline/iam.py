"""The IAM decisions moto does not make, made from the templates' own policies.

moto lets anyone assume any role (even one that does not exist) and lets any account put events on any bus. The
local pipeline asks this module instead, with the policies the templates declare:

* :func:`trust_allows`: a role's trust policy (``AssumeRolePolicyDocument``) admits a principal;
* :func:`identity_allows`: a principal's identity policies allow an action on a resource;
* :func:`bus_allows`: an event bus policy lets an account put one event.

Only the policy language the templates use is understood: ``Allow``/``Deny``, ``Action``/``Resource`` with
``*``/``?`` wildcards, ``Principal`` (``AWS``: ``*``, an account id, ``arn:...:root`` or a role ARN; ``Service``),
and the condition operators in :data:`OPERATORS`. Anything else denies (fails closed), so a template change the
emulation does not follow shows up as a failing test rather than as a silent grant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

_ARN_ACCOUNT = re.compile(r"^arn:[a-z-]+:(?:iam|sts)::([0-9]{12}):")


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _like(pattern: str, value: str, *, case: bool = True) -> bool:
    """IAM wildcard matching (``*`` any run, ``?`` one character); brackets are literal."""
    escaped = pattern.replace("[", "[[]")
    return fnmatchcase(value, escaped) if case else fnmatchcase(value.lower(), escaped.lower())


def _string_equals(patterns: list[str], values: list[str]) -> bool:
    return any(v in patterns for v in values)


def _string_like(patterns: list[str], values: list[str]) -> bool:
    return any(_like(p, v) for p in patterns for v in values)


def _for_all_string_equals(patterns: list[str], values: list[str]) -> bool:
    return all(v in patterns for v in values)


OPERATORS: dict[str, tuple[Callable[[list[str], list[str]], bool], bool]] = {
    "StringEquals": (_string_equals, False),
    "StringLike": (_string_like, False),
    "ArnEquals": (_string_equals, False),
    "ArnLike": (_string_like, False),
    "ForAllValues:StringEquals": (_for_all_string_equals, True),
}
"""Operator → (test, whether a missing key satisfies it)."""


def conditions_hold(conditions: Mapping[str, Any] | None, context: Mapping[str, Sequence[str]]) -> bool:
    """Every condition of a statement holds for ``context`` (keys compared case-insensitively)."""
    lowered = {k.lower(): list(v) for k, v in context.items()}
    for operator, tests in (conditions or {}).items():
        if operator not in OPERATORS or not isinstance(tests, Mapping):
            return False
        test, missing_ok = OPERATORS[operator]
        for key, expected in tests.items():
            values = lowered.get(str(key).lower())
            if values is None:
                if not missing_ok:
                    return False
                continue
            if not test(_items(expected), values):
                return False
    return True


def principal_account(arn: str) -> str | None:
    match = _ARN_ACCOUNT.match(arn)
    return match.group(1) if match else None


def _principal_matches(principal: Any, principal_arn: str | None, service: str | None) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if service is not None:
        return service in _items(principal.get("Service"))
    if principal_arn is None:
        return False
    # An account (its id or its root ARN) stands for every principal of that account; a role ARN for that role.
    accepted = {principal_arn}
    account = principal_account(principal_arn)
    if account is not None:
        accepted |= {account, f"arn:{principal_arn.split(':')[1]}:iam::{account}:root"}
    return any(entry == "*" or entry in accepted for entry in _items(principal.get("AWS")))


def _statement_applies(statement: Mapping[str, Any], action: str, resource: str | None,
                       principal_arn: str | None, service: str | None, context: Mapping[str, Sequence[str]],
                       resource_policy: bool) -> bool:
    if not any(_like(p, action, case=False) for p in _items(statement.get("Action"))):
        return False
    if ("Resource" in statement and resource is not None
            and not any(_like(p, resource) for p in _items(statement["Resource"]))):
        return False
    if resource_policy and not _principal_matches(statement.get("Principal"), principal_arn, service):
        return False
    return conditions_hold(statement.get("Condition"), context)


def _decide(statements: Iterable[Mapping[str, Any]], action: str, resource: str | None, principal_arn: str | None,
            service: str | None, context: Mapping[str, Sequence[str]], resource_policy: bool) -> bool:
    allowed = False
    for statement in statements:
        if not _statement_applies(statement, action, resource, principal_arn, service, context, resource_policy):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return False
        if effect == "Allow":
            allowed = True
    return allowed


def statements_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = document.get("Statement", [])
    return list(found) if isinstance(found, list) else [found]


def trust_allows(document: Mapping[str, Any], principal_arn: str) -> bool:
    """A role's trust policy lets ``principal_arn`` (a role, or an account's ``root``) call ``sts:AssumeRole``."""
    context = {"aws:PrincipalArn": [principal_arn], "aws:PrincipalAccount": [principal_account(principal_arn) or ""]}
    return _decide(statements_of(document), "sts:AssumeRole", None, principal_arn, None, context, True)


def identity_allows(statements: Iterable[Mapping[str, Any]], action: str, resource: str) -> bool:
    """A principal's identity policy statements allow ``action`` on ``resource``."""
    return _decide(statements, action, resource, None, None, {}, False)


def bus_allows(statements: Iterable[Mapping[str, Any]], bus_arn: str, account: str, event: Mapping[str, Any]) -> bool:
    """An event bus policy lets ``account`` put ``event`` (``events:PutEvents``, with the event's source and
    detail-type as the request's ``events:source`` and ``events:detail-type``)."""
    context = {"events:source": [str(event.get("source", ""))],
               "events:detail-type": [str(event.get("detail-type", ""))]}
    return _decide(statements, "events:PutEvents", bus_arn, f"arn:aws:iam::{account}:root", None, context, True)


__all__ = ["OPERATORS", "bus_allows", "conditions_hold", "identity_allows", "principal_account", "statements_of",
           "trust_allows"]
