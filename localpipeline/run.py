"""One local deployment of the pipeline (:func:`local_aws`) and what a scan through it did (:meth:`LocalAws.scan`).

:func:`local_aws` starts moto (Step Functions executing, Lambda without Docker), creates ``template.yaml``'s
resources in it (:func:`localpipeline.stack.deploy`), enables Security Hub, starts the registry that stands in for
the ECR host, installs the pipeline with the registry mapping, and routes moto's Lambda invokes to the real
handlers. With ``registry_accounts``, each of those accounts also gets ``registry-account.yaml``'s resources (its
read role, its forwarding rule) and a registry of its own that admits only credentials acting in that account,
and access is decided as AWS would (:mod:`localpipeline.accounts`). :meth:`LocalAws.scan` delivers an ECR push
event (from the scanner's account, or forwarded from a registry account) through the rules' patterns and the
event bus policy to the push function, waits for the execution and reports what it left in S3, DynamoDB and
Security Hub, with the Lambda time and state transitions it cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import moto  # noqa: F401 - before any boto3 session exists, so that every client is mocked
from moto import mock_aws

from imagescan.aws import clients, identity, pipeline, s3io
from imagescan.aws.findings_store import OPEN, FindingsStore
from imagescan.aws.observability import metrics
from imagescan.aws.pipeline import Pipeline, registry_opener
from imagescan.aws.registry_access import RegistryAccess
from imagescan.aws.settings import Settings
from imagescan.aws.trigger import registry_host
from localpipeline.accounts import AccessLog, Accounts, token_password
from localpipeline.ecr import PushedImage, Registry, start_registry
from localpipeline.iam import bus_allows, statements_of
from localpipeline.lambdas import Dispatcher, dispatching, load_handler
from localpipeline.stack import ACCOUNT, REGISTRY_TEMPLATE, Stack, account_session, deploy, load_template

REGION = "us-east-1"
ECR_HOST = registry_host(ACCOUNT, REGION)
ECR_PASSWORD = token_password(ACCOUNT)
"""The password inside moto's ECR authorization token (``AWS:<account>-auth-token``)."""
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    "MOTO_LAMBDA_STUB_ECR": "false", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "imagescan", "POWERTOOLS_METRICS_NAMESPACE": "imagescan",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_DEV": "false",
}

# Prices assumed for the cost figures: us-east-1, list prices, no free tier.
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
STATE_TRANSITION_USD = 0.025 / 1_000
PRICES = {"region": REGION, "lambda_architecture": "arm64", "lambda_gb_second_usd": LAMBDA_ARM64_GB_SECOND_USD,
          "lambda_request_usd": LAMBDA_REQUEST_USD, "state_transition_usd": STATE_TRANSITION_USD}


class ExecutionTimeout(Exception):
    pass


def push_event(repository: str, digest: str, tag: str | None = "latest", *, event_id: str | None = None,
               manifest_media_type: str | None = None, account: str = ACCOUNT) -> dict[str, Any]:
    """An ``ECR Image Action`` push event as EventBridge delivers it (from ``account``'s registry)."""
    detail: dict[str, Any] = {"result": "SUCCESS", "repository-name": repository, "image-digest": digest,
                              "action-type": "PUSH"}
    if tag:
        detail["image-tag"] = tag
    if manifest_media_type:
        detail["manifest-media-type"] = manifest_media_type
    return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": "ECR Image Action",
            "source": "aws.ecr", "account": account, "region": REGION, "resources": [],
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": detail}


def matches_rule(stack: Stack, rule: str, event: Mapping[str, Any]) -> bool:
    """Whether ``event`` matches the pattern of the stack's rule (moto's ``test_event_pattern`` API is a no-op,
    its rule matcher is not)."""
    from moto.events.models import EventPattern

    pattern = stack.rules[rule]["EventPattern"]
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(dict(event)))  # type: ignore[arg-type]


def matches_push_rule(stack: Stack, event: Mapping[str, Any]) -> bool:
    """Whether EventBridge would send ``event`` to the push function (the ``EcrPushRule`` pattern)."""
    return matches_rule(stack, "EcrPushRule", event)


def forwarded(companion: Stack, scanner: Stack, event: Mapping[str, Any]) -> str | None:
    """Why a registry account's event does not reach the scanner's default bus (None when it does): its
    forwarding rule (``registry-account.yaml``) must match it and target that bus, and the scanner's bus policy
    must let the account put it."""
    if not matches_rule(companion, "ForwardPushesRule", event):
        return "the registry account's forwarding rule does not match it"
    targets = {str(t.get("Arn")) for t in companion.rules["ForwardPushesRule"]["Targets"]}
    if scanner.default_bus_arn not in targets:
        return f"the forwarding rule targets {sorted(targets)}, not {scanner.default_bus_arn}"
    statements = [s for policy in scanner.bus_policies.values() for s in statements_of(policy)]
    if not bus_allows(statements, scanner.default_bus_arn, companion.account, event):
        return f"the scanner's event bus policy does not let account {companion.account} put it"
    return None


@dataclass
class LocalAws:
    """The deployed template in moto, with the real handlers behind its functions."""

    stack: Stack
    dispatcher: Dispatcher
    registries: dict[str, Registry]
    """Registry host → the local registry standing in for it (the scanner's account, each registry account)."""
    work: Path
    companions: dict[str, Stack] = field(default_factory=dict)
    """Registry account → its ``registry-account.yaml`` stack."""
    access: AccessLog = field(default_factory=AccessLog)

    @property
    def registry(self) -> Registry:
        """The scanner account's registry."""
        return self.registries[ECR_HOST]

    @property
    def settings(self) -> Settings:
        return pipeline.current().settings

    def function(self, code_dir: str) -> str:
        return self.stack.function_name(code_dir)

    def registry_for(self, account: str = ACCOUNT) -> Registry:
        return self.registries[registry_host(account, REGION)]

    def ecr(self, account: str = ACCOUNT) -> Any:
        """An ECR client acting in ``account`` (to push images there)."""
        return account_session(REGION, account).client("ecr")

    def push_event(self, repository: str, digest: str, tag: str | None = "latest", **kw: Any) -> dict[str, Any]:
        return push_event(repository, digest, tag, **kw)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge does with an event: another account's through its forwarding rule and the scanner's bus
        policy, then the push rule's pattern, then the push function."""
        account = str(event.get("account"))
        if account != self.stack.account:
            companion = self.companions.get(account)
            reason = forwarded(companion, self.stack, event) if companion else "the account forwards no events"
            if reason:
                return {"matched": False, "not_forwarded": reason}
        if not matches_push_rule(self.stack, event):
            return {"matched": False}
        result: dict[str, Any] = self.dispatcher.invoke(self.function("on_push"), event)
        return result

    def expire_idempotency(self) -> int:
        """Forget the push function's idempotency records, as if ``IdempotencyWindowSeconds`` had passed."""
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        table = self.stack.table("IdempotencyTable")
        items = [i for page in dynamodb.get_paginator("scan").paginate(TableName=table) for i in page["Items"]]
        for item in items:
            dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
        return len(items)

    def wait(self, execution_arn: str, timeout: float = 600.0) -> dict[str, Any]:
        sfn: Any = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise ExecutionTimeout(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.05)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn: Any = boto3.client("stepfunctions", region_name=REGION)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    # -- one scan

    def scan(self, pushed: PushedImage, timeout: float = 600.0, account: str = ACCOUNT) -> dict[str, Any]:
        """Deliver the push of ``pushed`` (into ``account``'s registry), wait for its execution, and report what it
        did."""
        self.dispatcher.reset()
        event = self.push_event(pushed.repository, pushed.digest, pushed.tag, manifest_media_type=pushed.media_type,
                                account=account)
        started = self.deliver(event)
        run: dict[str, Any] = {"image": {"repository": pushed.repository, "digest": pushed.digest, "tag": pushed.tag,
                                         "reference": pushed.reference, "account": account}}
        arn = started.get("execution_arn")
        if not arn:
            reason = (started.get("refused") or started.get("skipped") or started.get("not_forwarded")
                      or "no rule matched")
            run["execution"] = {"status": "NOT_STARTED", "reason": reason}
            return run
        described = self.wait(arn, timeout)
        output = json.loads(described.get("output") or "{}")
        run["execution"] = {"status": described["status"], "arn": arn, "started": bool(started.get("started")),
                            "scan_status": output.get("status")}
        if described["status"] != "SUCCEEDED":
            run["execution"].update(error=described.get("error"), cause=described.get("cause"))
        result = s3io.get_json(pipeline.current().s3, self.settings.bucket, output["result_key"]) \
            if output.get("result_key") else None
        run["layers"] = dict(result["layers"]) if isinstance(result, dict) else None
        run["sbom"] = self._sboms(result if isinstance(result, dict) else {})
        run["database_built_at"] = sorted({str(p.get("database_built_at")) for p in result.get("platforms") or []
                                           if p.get("database_built_at")}) if isinstance(result, dict) else []
        run["findings"] = self.findings(pushed.repository, pushed.digest, account)
        run["cost"] = self.cost(self.history(arn))
        return run

    def _sboms(self, result: Mapping[str, Any]) -> dict[str, Any]:
        s3 = pipeline.current().s3
        platforms = []
        for platform in result.get("platforms") or []:
            doc = s3io.get_json(s3, self.settings.bucket, str(platform["sbom_key"]))
            components = len(doc.get("components") or []) if isinstance(doc, dict) else 0
            platforms.append({"platform": platform["platform"], "s3_key": platform["sbom_key"],
                              "components": components})
        return {"s3_key": platforms[0]["s3_key"] if platforms else None,
                "components": sum(p["components"] for p in platforms), "platforms": platforms}

    def findings(self, repository: str, digest: str, account: str = ACCOUNT) -> dict[str, Any]:
        """The image's findings: open ones in the findings table, active and archived ones in Security Hub, and a
        fingerprint of the table's items (finding, status, content, when it last changed)."""
        settings = self.settings
        items = FindingsStore(pipeline.current().dynamodb, settings.findings_table).items(
            f"{registry_host(account, REGION)}/{repository}@{digest}")
        open_items = [i for i in items if i.get("status") == OPEN]
        state = sorted([str(i["finding_id"]), str(i.get("status")), str(i.get("content_hash")),
                        str(i.get("changed_at"))] for i in items)
        hub = Counter(f.get("RecordState") for f in self._hub_findings(repository, digest, account))
        return {"dynamodb": len(open_items), "dynamodb_resolved": len(items) - len(open_items),
                "securityhub_active": hub["ACTIVE"], "securityhub_archived": hub["ARCHIVED"],
                "by_kind": dict(sorted(Counter(str(i.get("kind")) for i in open_items).items())),
                "fingerprint": hashlib.sha256(json.dumps(state).encode()).hexdigest()}

    def _hub_findings(self, repository: str, digest: str, account: str) -> list[dict[str, Any]]:
        if not settings_flag(self.stack.parameters.get("SecurityHubEnabled", "true")):
            return []
        hub = boto3.client("securityhub", region_name=REGION)
        suffix = f":{account}:repository/{repository}/{digest}"
        found = []
        for page in hub.get_paginator("get_findings").paginate():  # moto ignores Filters: select here
            for finding in page["Findings"]:
                if any(str(r.get("Id", "")).endswith(suffix) for r in finding.get("Resources", [])):
                    found.append(finding)
        return found

    def cost(self, history: list[dict[str, Any]]) -> dict[str, Any]:
        """Lambda GB-seconds (each handler's wall time times its configured memory), invocations and state
        transitions (states entered, Map iterations included) of the scan, and what they cost at :data:`PRICES`."""
        code_dirs = {self.stack.names[logical]: Path(directory).name
                     for logical, directory in self.stack.functions.items()}
        by_function: dict[str, dict[str, float]] = {}
        for call in self.dispatcher.calls:
            row = by_function.setdefault(code_dirs.get(call.function, call.function),
                                         {"invocations": 0, "seconds": 0.0, "gb_seconds": 0.0})
            row["invocations"] += 1
            row["seconds"] += call.seconds
            row["gb_seconds"] += call.seconds * self.stack.memory.get(call.function, 128) / 1024
        gb_seconds = sum(r["gb_seconds"] for r in by_function.values())
        invocations = int(sum(r["invocations"] for r in by_function.values()))
        transitions = sum(1 for e in history if str(e.get("type", "")).endswith("StateEntered"))
        usd = gb_seconds * LAMBDA_ARM64_GB_SECOND_USD + invocations * LAMBDA_REQUEST_USD \
            + transitions * STATE_TRANSITION_USD
        return {"lambda_invocations": invocations, "lambda_gb_seconds": round(gb_seconds, 4),
                "state_transitions": transitions, "usd": round(usd, 8),
                "by_function": {k: {"invocations": int(v["invocations"]), "seconds": round(v["seconds"], 4),
                                    "gb_seconds": round(v["gb_seconds"], 4)} for k, v in sorted(by_function.items())}}


def settings_flag(value: str) -> bool:
    return value.strip().lower() == "true"


def cost_summary(runs: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    """Mean cost of a first scan and of a rescan (every layer cached), and per 1,000 scans."""

    def mean_of(selected: list[dict[str, Any]]) -> dict[str, Any] | None:
        costs = [r["cost"] for r in selected if r.get("cost")]
        if not costs:
            return None
        n = len(costs)
        mean = {key: sum(c[key] for c in costs) / n
                for key in ("lambda_gb_seconds", "lambda_invocations", "state_transitions", "usd")}
        return {"scans": n, "lambda_gb_seconds": round(mean["lambda_gb_seconds"], 4),
                "lambda_invocations": round(mean["lambda_invocations"], 2),
                "state_transitions": round(mean["state_transitions"], 2),
                "usd_per_scan": round(mean["usd"], 8), "usd_per_1000_scans": round(mean["usd"] * 1000, 4)}

    per_round = len(runs) // rounds if rounds else 0
    summary: dict[str, Any] = {"prices": PRICES, "first_scan": mean_of(runs[:per_round])}
    if rounds > 1:
        summary["rescan"] = mean_of(runs[per_round:])
    return summary


def with_registry_accounts(parameters: Mapping[str, str] | None, accounts: Sequence[str]) -> dict[str, str]:
    """The scanner's parameters with ``accounts`` added to ``RegistryAccounts``."""
    values = dict(parameters or {})
    listed = [a for a in values.get("RegistryAccounts", "").split(",") if a]
    if accounts:
        values["RegistryAccounts"] = ",".join(dict.fromkeys([*listed, *accounts]))
    return values


def deploy_registry_account(scanner: Stack, account: str) -> Stack:
    """``registry-account.yaml`` in ``account``, for the scanner: its read role and its forwarding rule."""
    parameters = {"ScannerAccountId": scanner.account, "RepositoryPrefix": scanner.parameters["RepositoryPrefix"],
                  "RoleName": scanner.parameters["RegistryAccessRoleName"]}
    return deploy(name=f"{scanner.name}-registry", region=scanner.region, parameters=parameters,
                  template=load_template(REGISTRY_TEMPLATE), account=account)


@contextmanager
def local_aws(work: Path, parameters: Mapping[str, str] | None = None, stack_name: str = "imagescan-local",
              registry_accounts: Sequence[str] = ()) -> Iterator[LocalAws]:
    """The pipeline deployed in moto, for the duration of the block (the environment is restored after).
    ``registry_accounts`` get ``registry-account.yaml`` and a registry each, and are added to
    ``RegistryAccounts`` (an account listed in ``parameters`` only is listed without its companion)."""
    with ExitStack() as stack_ctx:
        stack_ctx.enter_context(mock.patch.dict(os.environ, BASE_ENV))
        os.environ.pop("AWS_PROFILE", None)
        clients.reset()
        identity.forget()
        stack_ctx.callback(clients.reset)
        stack_ctx.callback(identity.forget)
        stack_ctx.callback(metrics.clear_metrics)  # disabled metrics are buffered, never flushed
        stack_ctx.callback(pipeline.install, None)
        stack_ctx.enter_context(mock_aws(config=MOTO_CONFIG))
        stack = deploy(name=stack_name, region=REGION,
                       parameters=with_registry_accounts(parameters, registry_accounts))
        companions = {account: deploy_registry_account(stack, account) for account in registry_accounts}
        os.environ.update(stack.environment)
        if settings_flag(stack.parameters.get("SecurityHubEnabled", "true")):
            boto3.client("securityhub", region_name=REGION).enable_security_hub()
        registries: dict[str, Registry] = {}
        for account in (ACCOUNT, *companions):
            registry = start_registry(work / f"registry-{account}", "AWS", token_password(account))
            stack_ctx.callback(registry.stop)
            registries[registry_host(account, REGION)] = registry
        accounts = Accounts(stack)
        stack_ctx.enter_context(accounts.enforcing())
        settings = Settings.from_env()
        access = RegistryAccess.from_settings(settings)
        endpoints = {host: registry.url for host, registry in registries.items()}
        pipeline.install(Pipeline(settings=settings, s3=clients.s3(), dynamodb=clients.dynamodb(),
                                  open_source=registry_opener(endpoints, access), registry_access=access,
                                  db_directory=work / "db"))
        handlers = {stack.names[logical]: load_handler(directory).handler
                    for logical, directory in stack.functions.items()}
        dispatcher = stack_ctx.enter_context(dispatching(Dispatcher(handlers, dict(stack.memory))))
        yield LocalAws(stack, dispatcher, registries, work, companions, accounts.log)


def upload_database(aws: LocalAws, path: Path) -> str:
    """Put a vulnerability database where the refresh function publishes it; returns its key."""
    settings = aws.settings
    boto3.client("s3", region_name=REGION).upload_file(str(path), settings.bucket, settings.db_key)
    return settings.db_key
