"""The local pipeline's IAM decisions (localpipeline.iam): what it grants, what it refuses, and that anything it does
not understand is refused."""

from __future__ import annotations

from typing import Any

from localpipeline.iam import bus_allows, conditions_hold, identity_allows, trust_allows

SCANNER, OTHER = "123456789012", "210987654321"
FUNCTION = f"arn:aws:iam::{SCANNER}:role/imagescan/stack-ResolveImageFunctionRole-ABC"
TRUST: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SCANNER}:root"}, "Action": "sts:AssumeRole",
    "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{SCANNER}:role/imagescan/*"}}}]}
BUS = f"arn:aws:events:us-east-1:{SCANNER}:event-bus/default"
PUSH = {"source": "aws.ecr", "detail-type": "ECR Image Action", "account": OTHER}


def test_trust_policy() -> None:
    assert trust_allows(TRUST, FUNCTION)
    assert not trust_allows(TRUST, f"arn:aws:iam::{SCANNER}:role/stack-AssembleFunctionRole-ABC")
    assert not trust_allows(TRUST, f"arn:aws:iam::{OTHER}:role/imagescan/x")
    by_account = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": SCANNER}, "Action": "sts:*"}]}
    assert trust_allows(by_account, f"arn:aws:iam::{SCANNER}:root") and trust_allows(by_account, FUNCTION)
    by_role = {"Statement": {"Effect": "Allow", "Principal": {"AWS": [FUNCTION]}, "Action": ["sts:AssumeRole"]}}
    assert trust_allows(by_role, FUNCTION) and not trust_allows(by_role, f"arn:aws:iam::{SCANNER}:root")
    denied = {"Statement": [*TRUST["Statement"], {"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole"}]}
    assert not trust_allows(denied, FUNCTION)
    service = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                              "Action": "sts:AssumeRole"}]}
    assert not trust_allows(service, FUNCTION)


def test_identity_policy() -> None:
    statements = [{"Effect": "Allow", "Action": "sts:AssumeRole",
                   "Resource": f"arn:aws:iam::{OTHER}:role/imagescan-registry-read"}]
    assert identity_allows(statements, "sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/imagescan-registry-read")
    assert identity_allows(statements, "STS:assumerole", f"arn:aws:iam::{OTHER}:role/imagescan-registry-read")
    assert not identity_allows(statements, "sts:AssumeRole", f"arn:aws:iam::{SCANNER}:role/imagescan-registry-read")
    assert not identity_allows(statements, "sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/admin")
    assert not identity_allows([], "sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/imagescan-registry-read")
    wildcard = [{"Effect": "Allow", "Action": "ecr:*", "Resource": "arn:aws:ecr:*:*:repository/team/*"}]
    assert identity_allows(wildcard, "ecr:BatchGetImage", f"arn:aws:ecr:us-east-1:{OTHER}:repository/team/app")
    assert not identity_allows(wildcard, "ecr:BatchGetImage", f"arn:aws:ecr:us-east-1:{OTHER}:repository/other")


def test_event_bus_policy() -> None:
    policy = [{"Effect": "Allow", "Principal": {"AWS": [OTHER]}, "Action": "events:PutEvents", "Resource": BUS,
               "Condition": {"ForAllValues:StringEquals": {"events:source": ["aws.ecr"]},
                             "StringEquals": {"events:detail-type": "ECR Image Action"}}}]
    assert bus_allows(policy, BUS, OTHER, PUSH)
    assert not bus_allows(policy, BUS, "444444444444", PUSH)
    assert not bus_allows(policy, BUS, OTHER, {**PUSH, "source": "com.example"})
    assert not bus_allows(policy, BUS, OTHER, {**PUSH, "detail-type": "ECR Image Scan"})
    assert not bus_allows(policy, f"arn:aws:events:us-east-1:{SCANNER}:event-bus/other", OTHER, PUSH)
    assert not bus_allows([], BUS, OTHER, PUSH)


def test_what_it_does_not_understand_denies() -> None:
    assert conditions_hold({"StringEquals": {"aws:PrincipalAccount": SCANNER}}, {"aws:principalaccount": [SCANNER]})
    assert not conditions_hold({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, {})  # a missing key
    assert conditions_hold({"ForAllValues:StringEquals": {"events:source": "aws.ecr"}}, {})  # vacuously true
    assert not conditions_hold({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": ["10.1.2.3"]})
    assert not conditions_hold({"StringEquals": "not a mapping"}, {})
    unknown = {"Statement": [{**TRUST["Statement"][0], "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    assert not trust_allows(unknown, FUNCTION)
