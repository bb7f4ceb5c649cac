"""Scanning registries of other accounts, end to end in moto: template.yaml deployed with ``RegistryAccounts``,
registry-account.yaml deployed in a registry account (its read role and forwarding rule, from the template itself),
an image pushed into that account's ECR, its push event forwarded through the rules and the scanner's event bus
policy, and the layers pulled as the assumed read role (that account's registry admits nothing else). Then the
refusals: an account that is not listed, and a listed account whose role does not exist."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from fixtures import build as fixture_build
from imagescan.aws import pipeline
from imagescan.aws.events import ImageTarget, ScanRequest
from imagescan.errors import RegistryError
from imagescan.image.ecr import EcrTokenProvider
from imagescan.image.reference import ImageReference
from imagescan.image.registry import RegistryClient
from localpipeline.ecr import PushedImage, push
from localpipeline.run import LocalAws, local_aws
from localpipeline.stack import ACCOUNT, REGISTRY_TEMPLATE, load_template
from localpipeline.stack import deploy as deploy_stack

REGISTRY = "210987654321"
"""Listed, with registry-account.yaml deployed."""
NO_ROLE = "333333333333"
"""Listed, but registry-account.yaml never deployed there: its read role does not exist."""
OUTSIDER = "444444444444"
"""Not listed; it deploys registry-account.yaml anyway (its forwarding rule targets the scanner's bus)."""
REGION = "us-east-1"
ROLE = f"arn:aws:iam::{REGISTRY}:role/imagescan-registry-read"


def host(account: str) -> str:
    return f"{account}.dkr.ecr.{REGION}.amazonaws.com"


@pytest.fixture(scope="module")
def cross(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAws]:
    with local_aws(tmp_path_factory.mktemp("cross-account"), {"RegistryAccounts": NO_ROLE},
                   stack_name="imagescan-xacct", registry_accounts=[REGISTRY]) as aws:
        yield aws


@pytest.fixture(scope="module")
def pushed(cross: LocalAws) -> PushedImage:
    return push(f"oci:{fixture_build.build('small')}", cross.registry_for(REGISTRY), cross.ecr(REGISTRY), "team/app")


def executions(aws: LocalAws) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    found: list[dict[str, Any]] = sfn.list_executions(stateMachineArn=aws.stack.state_machine_arn)["executions"]
    return found


def scan_record(aws: LocalAws, scan_id: str) -> dict[str, Any]:
    raw = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=aws.stack.table("ScanStateTable"), Key={"scan_id": {"S": scan_id}, "item": {"S": "scan"}})
    return {k: TypeDeserializer().deserialize(v) for k, v in raw["Item"].items()}


def test_the_deployment(cross: LocalAws, pushed: PushedImage) -> None:
    assert cross.stack.parameters["RegistryAccounts"] == f"{NO_ROLE},{REGISTRY}"
    assert set(cross.stack.policies) == {f"RegistryRead{NO_ROLE}", f"RegistryRead{REGISTRY}"}
    assert cross.settings.registry_accounts == {NO_ROLE, REGISTRY}
    companion = cross.companions[REGISTRY]
    assert companion.account == REGISTRY and set(companion.rules) == {"ForwardPushesRule"}
    role = boto3.session.Session(region_name=REGION).client("iam")  # the scanner account has no such role
    with pytest.raises(role.exceptions.NoSuchEntityException):
        role.get_role(RoleName="imagescan-registry-read")
    (repository,) = cross.ecr(REGISTRY).describe_repositories()["repositories"]
    assert repository["registryId"] == REGISTRY and repository["repositoryName"] == pushed.repository
    assert cross.ecr().describe_repositories()["repositories"] == []  # pushed into the registry account only


def test_a_push_in_a_registry_account_is_scanned_as_its_read_role(cross: LocalAws, pushed: PushedImage) -> None:
    run = cross.scan(pushed, account=REGISTRY)
    assert run["execution"]["status"] == "SUCCEEDED" and run["execution"]["scan_status"] == "SUCCEEDED", run
    assert run["layers"] == {"total": 3, "analyzed": 3, "cached": 0, "failed": 0}
    assert run["sbom"]["s3_key"] == f"sboms/{pushed.digest}/linux-amd64.cdx.json" and run["sbom"]["components"] > 0
    findings = run["findings"]  # keyed by the registry account's host, in the scanner's table and Security Hub
    assert findings["dynamodb"] > 0 and findings["dynamodb"] == findings["securityhub_active"]
    # Read as the registry account's role: assumed once (credentials cached for every later step), by a function
    # the template lets do it, and every ECR token for that registry asked for acting in that account.
    decisions = [d for d in cross.access.assume_role if d.role_arn == ROLE]
    assert [d.refusal for d in decisions] == [None]
    assert decisions[0].principal.startswith(f"arn:aws:iam::{ACCOUNT}:role/imagescan/imagescan-xacct-")
    assert pipeline.current().access.roles.assumed == 1
    requests = [r for r in cross.access.token_requests if r[1] == (REGISTRY,)]
    assert requests and all(caller == REGISTRY for caller, _ in requests)
    from moto.sts.models import sts_backends

    assert [r.role_arn for r in sts_backends[REGISTRY]["aws"].assumed_roles] == [ROLE]


def test_the_scanner_own_credentials_could_not_have_read_it(cross: LocalAws, pushed: PushedImage) -> None:
    """The control: the registry account's registry refuses a token asked for with the scanner's credentials."""
    own = EcrTokenProvider(client_factory=lambda region: boto3.client("ecr", region_name=region))
    ref = ImageReference("docker", registry=host(REGISTRY), repository=pushed.repository, digest=pushed.digest)
    client = RegistryClient(ref, ecr_provider=own, endpoint=cross.registry_for(REGISTRY).url)
    try:
        with pytest.raises(RegistryError, match="returned 401 Unauthorized"):
            client.fetch_manifest(pushed.digest)
    finally:
        client.close()


def test_one_image_in_two_registries_is_two_scans(cross: LocalAws, pushed: PushedImage) -> None:
    """Same repository name and digest in the scanner's account: a scan of its own (not deduplicated against the
    registry account's push), whose layers come from the cache."""
    mine = push(f"oci:{fixture_build.build('small')}", cross.registry, cross.ecr(), "team/app")
    assert mine.digest == pushed.digest
    run = cross.scan(mine)
    assert run["execution"]["status"] == "SUCCEEDED" and run["layers"]["cached"] == 3
    assert run["findings"]["dynamodb"] > 0


def test_an_unlisted_account_starts_nothing(cross: LocalAws, pushed: PushedImage) -> None:
    cross.companions[OUTSIDER] = deploy_stack(name="outsider", region=REGION, account=OUTSIDER,
                                              parameters={"ScannerAccountId": ACCOUNT},
                                              template=load_template(REGISTRY_TEMPLATE))
    before = executions(cross)
    event = cross.push_event(pushed.repository, pushed.digest, account=OUTSIDER)
    # Its forwarding rule sends the push, the scanner's event bus policy does not take it.
    assert cross.deliver(event) == {"matched": False, "not_forwarded": f"the scanner's event bus policy does not "
                                                                      f"let account {OUTSIDER} put it"}
    # Had it arrived anyway (another policy on the bus), the push function refuses it.
    result = cross.dispatcher.invoke(cross.function("on_push"), event)
    assert result["started"] is False and result["execution_arn"] is None
    assert f"account {OUTSIDER} is neither this scanner's account ({ACCOUNT})" in result["refused"]
    assert executions(cross) == before


def _start(aws: LocalAws, account: str, repository: str, digest: str) -> tuple[str, dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    request = ScanRequest(scan_id=f"direct-{uuid.uuid4().hex[:12]}", requested_at=dt.datetime.now(dt.UTC),
                          image=ImageTarget(registry=host(account), repository=repository, digest=digest))
    arn = sfn.start_execution(stateMachineArn=aws.stack.state_machine_arn, name=request.scan_id,
                              input=request.model_dump_json())["executionArn"]
    return request.scan_id, aws.wait(arn, 120)


def test_an_image_of_an_unlisted_account_started_by_hand_fails_clearly(cross: LocalAws,
                                                                        pushed: PushedImage) -> None:
    cross.dispatcher.reset()
    scan_id, described = _start(cross, OUTSIDER, pushed.repository, pushed.digest)
    assert described["status"] == "FAILED"
    record = scan_record(cross, scan_id)
    assert record["status"] == "FAILED" and record["error"] == "RegistryAccessError"
    assert (f"{host(OUTSIDER)}/{pushed.repository}: account {OUTSIDER} is neither this scanner's account "
            f"({ACCOUNT}) nor one of its registry accounts (RegistryAccounts: {REGISTRY}, {NO_ROLE})") \
        in record["cause"]
    assert [c.error for c in cross.dispatcher.of(cross.function("resolve_image"))] == ["RegistryAccessError"]
    assert not [d for d in cross.access.assume_role if OUTSIDER in d.role_arn]  # nothing was even tried


# moto answers the refused AssumeRole with an error code its STS model does not list, and says so.
@pytest.mark.filterwarnings(r"ignore:Exception\(STSClientError\) with code AccessDenied:UserWarning")
def test_a_listed_account_whose_role_cannot_be_assumed_ends_in_the_failure_record(cross: LocalAws,
                                                                                  pushed: PushedImage) -> None:
    cross.dispatcher.reset()
    # No companion there, so nothing is forwarded; the push reaches the push function as if it had been.
    event = cross.push_event(pushed.repository, pushed.digest, account=NO_ROLE)
    assert "forwards no events" in cross.deliver(event)["not_forwarded"]
    started = cross.dispatcher.invoke(cross.function("on_push"), event)
    assert started["started"] is True
    described = cross.wait(started["execution_arn"], 120)
    assert described["status"] == "FAILED"
    record = scan_record(cross, started["scan_id"])
    role = f"arn:aws:iam::{NO_ROLE}:role/imagescan-registry-read"
    assert record["status"] == "FAILED" and record["error"] == "RegistryAccessError"
    assert f"cannot assume {role}: AccessDenied" in record["cause"] and "registry-account.yaml" in record["cause"]
    assert [c.error for c in cross.dispatcher.of(cross.function("resolve_image"))] == ["RegistryAccessError"]
    assert cross.dispatcher.count(cross.function("analyze_layer")) == 0
    refused = [d for d in cross.access.assume_role if d.role_arn == role]
    assert refused and all(d.refusal and "is not authorized to perform: sts:AssumeRole" in d.refusal
                           for d in refused)


def test_the_scan_result_names_the_registry_account(cross: LocalAws, pushed: PushedImage) -> None:
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=cross.stack.table("ImagesTable"))["Items"]
    recorded = {(i["repository"]["S"], i["digest"]["S"]) for i in items}
    assert {(f"{host(REGISTRY)}/team/app", pushed.digest), (f"{host(ACCOUNT)}/team/app", pushed.digest)} <= recorded
