"""The push trigger: which events start a scan, the execution name, and "already started" on a redelivery."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from imagescan.aws.events import EcrImageActionEvent, ScanRequest
from imagescan.aws.settings import Settings
from imagescan.aws.trigger import execution_arn, registry_host, scan_id_for, skip_reason, start_scan
from localpipeline.stack import deploy

EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "ecr-push.json").read_text())


def _event(**detail: Any) -> EcrImageActionEvent:
    return EcrImageActionEvent.model_validate({**EVENT, "detail": {**EVENT["detail"], **detail}})


def test_what_is_scanned() -> None:
    assert skip_reason(_event(), scan_untagged=False) is None
    assert "successful push" in (skip_reason(_event(**{"action-type": "DELETE"}), False) or "")
    assert "successful push" in (skip_reason(_event(result="FAILURE"), False) or "")
    helm = _event(**{"artifact-media-type": "application/vnd.cncf.helm.config.v1+json"})
    assert "not a container image" in (skip_reason(helm, False) or "")
    docker = _event(**{"artifact-media-type": "application/vnd.docker.container.image.v1+json"})
    assert skip_reason(docker, False) is None
    child = _event(**{"image-tag": None, "manifest-media-type": "application/vnd.oci.image.manifest.v1+json"})
    assert "untagged" in (skip_reason(child, False) or "")
    assert skip_reason(child, scan_untagged=True) is None
    untagged_index = _event(**{"image-tag": None})  # the sample's manifest type is an index
    assert skip_reason(untagged_index, False) is None


def test_scan_id_is_a_valid_execution_name_unique_per_event() -> None:
    first = scan_id_for(_event())
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", first) and first.startswith(EVENT["detail"]["image-digest"][7:47])
    assert scan_id_for(_event()) == first
    other = EcrImageActionEvent.model_validate({**EVENT, "id": "another-event"})
    assert scan_id_for(other) != first


def test_registry_host_and_execution_arn() -> None:
    assert registry_host("123456789012", "eu-west-1") == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert registry_host("123456789012", "cn-north-1").endswith(".amazonaws.com.cn")
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:scan"
    assert execution_arn(arn, "x") == "arn:aws:states:us-east-1:123456789012:execution:scan:x"


def test_start_and_redelivery(moto_aws: None) -> None:
    stack = deploy()
    settings = Settings(bucket=stack.bucket, scan_state_table=stack.table("ScanStateTable"),
                        state_machine_arn=stack.state_machine_arn)
    sfn, ddb = boto3.client("stepfunctions"), boto3.client("dynamodb")
    now = dt.datetime(2026, 11, 16, 1, 54, 35, tzinfo=dt.UTC)
    started = start_scan(_event(), settings, sfn, ddb, now=now)
    assert started.started and started.scan_id and started.execution_arn
    described = sfn.describe_execution(executionArn=started.execution_arn)
    request = ScanRequest.model_validate_json(described["input"])
    assert request.image.registry == "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert request.image.repository == "team/web" and request.image.tag == "1.4.2"
    assert request.expires_at == int((now + dt.timedelta(days=90)).timestamp())
    item = ddb.get_item(TableName=settings.scan_state_table,
                        Key={"scan_id": {"S": started.scan_id}, "item": {"S": "scan"}})["Item"]
    assert item["status"]["S"] == "QUEUED" and item["trigger"]["S"] == EVENT["id"]
    # EventBridge delivers the same event again, later (so with another requested_at): same execution.
    again = start_scan(_event(), settings, sfn, ddb, now=now + dt.timedelta(minutes=5))
    assert not again.started and again.execution_arn == started.execution_arn
    assert len(sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"]) == 1


def test_missing_settings_are_a_configuration_error() -> None:
    from imagescan.aws.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        start_scan(_event(), Settings(bucket="b", scan_state_table="t"), None, None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="BUCKET"):
        Settings.from_env({})
    with pytest.raises(ConfigurationError, match="SCAN_RECORD_DAYS"):
        Settings.from_env({"BUCKET": "b", "SCAN_RECORD_DAYS": "ninety"})


def test_pushes_from_other_accounts(moto_aws: None) -> None:
    """A listed registry account's push is scanned in that account's registry; any other account's is refused:
    no execution, no scan-state item, and the result says why."""
    stack = deploy(parameters={"RegistryAccounts": "210987654321"})
    settings = Settings(bucket=stack.bucket, scan_state_table=stack.table("ScanStateTable"),
                        state_machine_arn=stack.state_machine_arn, registry_accounts=frozenset({"210987654321"}))
    sfn, ddb = boto3.client("stepfunctions"), boto3.client("dynamodb")
    outsider = EcrImageActionEvent.model_validate({**EVENT, "account": "999999999999"})
    refused = start_scan(outsider, settings, sfn, ddb)
    assert not refused.started and refused.execution_arn is None and refused.skipped is None
    assert refused.refused == ("account 999999999999 is neither this scanner's account (123456789012) nor one of "
                               "its registry accounts (RegistryAccounts: 210987654321)")
    assert sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"] == []
    assert ddb.scan(TableName=settings.scan_state_table)["Items"] == []
    listed = EcrImageActionEvent.model_validate({**EVENT, "account": "210987654321"})
    started = start_scan(listed, settings, sfn, ddb, own_account=lambda: "123456789012")
    assert started.started and started.refused is None and started.execution_arn
    request = ScanRequest.model_validate_json(sfn.describe_execution(executionArn=started.execution_arn)["input"])
    assert request.image.registry == "210987654321.dkr.ecr.us-east-1.amazonaws.com"


def test_idempotency_is_per_registry() -> None:
    """The same repository name and digest in two accounts (or Regions) are two images: two scans."""
    import jmespath

    from imagescan.aws.trigger import IDEMPOTENCY_KEY

    keys = {json.dumps(jmespath.search(IDEMPOTENCY_KEY, {**EVENT, **change}))
            for change in ({}, {"account": "210987654321"}, {"region": "eu-west-1"}, {"id": "redelivered"})}
    assert len(keys) == 3  # the event id is not part of it: a redelivery is the same push
