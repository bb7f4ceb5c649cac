"""template.yaml, registry-account.yaml and statemachine/scan.asl.json: cfn-lint, the npm asl-validator (on the
definition as written and with its substitutions filled in), moto's stricter ASL parser, and the rules the templates
must keep (least privilege, encryption, the dependencies of the engine layer, the cross-account resources existing
only for the listed registry accounts)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from localpipeline.iam import trust_allows
from localpipeline.stack import REGISTRY_TEMPLATE, REPO, evaluate, load_template
from tests.needs import missing

ASL = REPO / "statemachine" / "scan.asl.json"
ASL_VALIDATOR = "asl-validator@4.0.0"
FIXTURES = REPO / ".fixtures"
SCANNER, ACCOUNT_A, ACCOUNT_B = "123456789012", "111111111111", "222222222222"
CROSS_ACCOUNT = {"RegistryAccounts": f"{ACCOUNT_A},{ACCOUNT_B}"}
ALLOWED_STAR_ACTIONS = {
    "ecr:GetAuthorizationToken",  # no resource-level permission exists
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",  # vended log delivery of the state machine: no resource-level permission either
}


def asl_validator() -> Path:
    """``.fixtures/asl-validator-<key>/``: installed from the npm registry once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm")
    final = FIXTURES / f"asl-validator-{hashlib.sha256(ASL_VALIDATOR.encode()).hexdigest()[:12]}"
    script = final / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"
    if not script.is_file():
        FIXTURES.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="asl-validator-", dir=FIXTURES))
        proc = subprocess.run(["npm", "install", "--prefix", str(work), "--no-audit", "--no-fund", "--silent",
                               ASL_VALIDATOR], capture_output=True, text=True, timeout=300, check=False)
        if proc.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise AssertionError(f"npm install {ASL_VALIDATOR} failed: {proc.stderr[-2000:]}")
        try:
            work.rename(final)
        except OSError:  # installed concurrently by another worker
            shutil.rmtree(work, ignore_errors=True)
    return script


def _validate_asl(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(asl_validator()), "--json-path", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


def _substituted(template: dict[str, Any]) -> str:
    values = {
        "ResolveImageFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:resolve",
        "AnalyzeLayerFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:analyze",
        "AssembleFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:assemble",
        "PublishFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:publish",
        "ScanStateTableName": "scan-state", "LayerConcurrency": "10", "PlatformConcurrency": "4",
    }
    names = template["Resources"]["ScanStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert set(names) == set(values)
    text = ASL.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", text)) == set(values)
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True,
                          text=True, timeout=120, check=False, cwd=REPO)


def resources(**parameters: str) -> dict[str, dict[str, Any]]:
    """template.yaml's resources as CloudFormation creates them with these parameters (Fn::ForEach expanded,
    conditions applied), unresolved."""
    return evaluate(parameters=parameters).resources


def test_cfn_lint_passes() -> None:
    for template in (REPO / "template.yaml", REGISTRY_TEMPLATE):
        proc = _cfn_lint(template)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_asl_validator_passes_on_the_definition_and_its_substituted_form(tmp_path: Path) -> None:
    proc = _validate_asl(ASL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    filled = tmp_path / "scan.asl.json"
    filled.write_text(_substituted(load_template()))
    proc = _validate_asl(filled)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_asl_validator_catches_a_broken_definition(tmp_path: Path) -> None:
    broken = json.loads(ASL.read_text())
    broken["States"]["Resolve"]["Next"] = "NoSuchState"
    path = tmp_path / "broken.asl.json"
    path.write_text(json.dumps(broken))
    assert _validate_asl(path).returncode != 0


def test_every_task_retries_and_every_lambda_step_is_caught() -> None:
    definition = json.loads(ASL.read_text())

    def tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for name, state in states.items():
            if state["Type"] == "Task":
                found.append((name, state))
            if state["Type"] == "Map":
                found += tasks(state["ItemProcessor"]["States"])
        return found

    all_tasks = tasks(definition["States"])
    assert {name for name, _ in all_tasks} == {"Resolve", "AnalyzeLayer", "RecordLayerFailure", "Assemble",
                                                "Publish", "RecordFailure"}
    for name, state in all_tasks:
        assert state.get("Retry"), name
        for rule in state["Retry"]:
            assert rule.get("BackoffRate", 1) >= 2 or rule["MaxAttempts"] <= 1, name
    top = definition["States"]
    for name in ("Resolve", "AnalyzeLayers", "AssemblePlatforms", "Publish"):
        assert top[name]["Catch"][0]["Next"] == "RecordFailure"
    assert top["AnalyzeLayers"]["MaxConcurrencyPath"] and top["AssemblePlatforms"]["MaxConcurrencyPath"]


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    properties = resource["Properties"]
    if "PolicyDocument" in properties:  # AWS::IAM::Policy
        return list(properties["PolicyDocument"]["Statement"])
    for policy in properties.get("Policies", []):
        if isinstance(policy, dict) and "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        if isinstance(policy, dict) and "PolicyDocument" in policy:  # AWS::IAM::Role
            policy = policy["PolicyDocument"]
        if isinstance(policy, dict) and "Statement" in policy:
            out += policy["Statement"]
    return out


def test_least_privilege() -> None:
    registry = evaluate(parameters={"ScannerAccountId": SCANNER}, template=load_template(REGISTRY_TEMPLATE))
    everything = {**resources(**CROSS_ACCOUNT), **registry.resources}
    checked = 0
    for logical, resource in everything.items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine", "AWS::IAM::Policy",
                                    "AWS::IAM::Role"):
            continue
        for statement in _statements(resource):
            checked += 1
            resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources_:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) <= ALLOWED_STAR_ACTIONS, (logical, actions)
            assert statement["Effect"] == "Allow"
    assert checked > 30


def test_storage_is_encrypted_private_and_expires() -> None:
    resources = load_template()["Resources"]  # every storage resource is unconditional
    bucket = resources["ScanBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    prefixes = {rule.get("Prefix") for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"layers/", "scans/", "sboms/"} <= prefixes
    policy = resources["ScanBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Effect"] == "Deny" and policy["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tables = [r["Properties"] for r in evaluate().resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 4
    for table in tables:
        assert table["BillingMode"] == "PAY_PER_REQUEST" and table["SSESpecification"]["SSEEnabled"]
        assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        assert table["TimeToLiveSpecification"]["Enabled"]
    findings = {i["IndexName"] for i in resources["FindingsTable"]["Properties"]["GlobalSecondaryIndexes"]}
    assert findings == {"by-vulnerability", "open-by-severity"}


def test_functions_are_arm64_python312_with_the_engine_layer() -> None:
    template = load_template()
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.12" and function_globals["Architectures"] == ["arm64"]
    assert function_globals["Layers"] == [{"Ref": "EngineLayer"}]
    layer = template["Resources"]["EngineLayer"]
    assert layer["Metadata"] == {"BuildMethod": "python3.12", "BuildArchitecture": "arm64"}
    functions = {k: v for k, v in resources().items() if v["Type"] == "AWS::Serverless::Function"}
    directories = {Path(v["Properties"]["CodeUri"]).name for v in functions.values()}
    assert directories == {p.name for p in (REPO / "functions").iterdir() if (p / "app.py").is_file()}
    for function in functions.values():
        assert function["Properties"].get("Runtime", "python3.12") == "python3.12"


def test_engine_layer_requirements_follow_pyproject() -> None:
    """The layer ships every runtime dependency of the engine except boto3 (the Lambda runtime has it)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    wanted = {Requirement(r).name.lower() for r in project} - {"boto3"}
    lines = (REPO / "layers" / "engine" / "requirements.txt").read_text().splitlines()
    shipped = {Requirement(line).name.lower() for line in lines if line.strip() and not line.startswith("#")}
    assert shipped == wanted


def test_nothing_cross_account_exists_without_registry_accounts() -> None:
    stack = evaluate()
    assert stack.conditions["HasRegistryAccounts"] is False
    kinds = {r["Type"] for r in stack.resources.values()}
    assert "AWS::Events::EventBusPolicy" not in kinds and "AWS::IAM::Policy" not in kinds
    everything = [s for r in stack.resources.values() if "Properties" in r for s in _statements(r)]
    assert not [s for s in everything if "sts:AssumeRole" in str(s["Action"])]
    env = stack.resolve(stack.template["Globals"]["Function"]["Environment"]["Variables"])
    assert env["REGISTRY_ACCOUNTS"] == "" and env["REGISTRY_ACCESS_ROLE_NAME"] == "imagescan-registry-read"


def test_registry_accounts_get_exactly_their_read_roles_and_the_bus() -> None:
    stack = evaluate(parameters={**CROSS_ACCOUNT, "RegistryAccessRoleName": "reader"})
    active = stack.resources
    policies = {k: v["Properties"] for k, v in active.items() if v["Type"] == "AWS::IAM::Policy"}
    assert set(policies) == {f"RegistryRead{ACCOUNT_A}", f"RegistryRead{ACCOUNT_B}"}
    assumable = set()
    for policy in policies.values():
        # Attached to the resolve and analyse functions' roles only (SAM's <Function>Role), one grant each.
        assert policy["Roles"] == [{"Ref": "ResolveImageFunctionRole"}, {"Ref": "AnalyzeLayerFunctionRole"}]
        (statement,) = stack.resolve(policy["PolicyDocument"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole" and statement["Effect"] == "Allow"
        assumable.add(statement["Resource"])
    assert assumable == {f"arn:aws:iam::{ACCOUNT_A}:role/reader", f"arn:aws:iam::{ACCOUNT_B}:role/reader"}
    env = stack.resolve(stack.template["Globals"]["Function"]["Environment"]["Variables"])
    assert env["REGISTRY_ACCOUNTS"] == f"{ACCOUNT_A},{ACCOUNT_B}" and env["REGISTRY_ACCESS_ROLE_NAME"] == "reader"
    (bus,) = [v for v in active.values() if v["Type"] == "AWS::Events::EventBusPolicy"]
    statement = stack.resolve(bus["Properties"]["Statement"])
    assert statement["Principal"] == {"AWS": [ACCOUNT_A, ACCOUNT_B]} and statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == f"arn:aws:events:us-east-1:{SCANNER}:event-bus/default"
    assert statement["Condition"]["ForAllValues:StringEquals"] == {"events:source": ["aws.ecr"]}
    assert re.fullmatch(r"imagescan-[0-9a-f-]{36}", stack.resolve(bus["Properties"]["StatementId"]))
    # The push rule is unchanged: forwarded events keep their account, and match it as they are.
    pattern = stack.resolve(active["EcrPushRule"]["Properties"]["EventPattern"])
    assert "account" not in pattern and pattern["detail-type"] == ["ECR Image Action"]


def test_the_registry_account_template_trusts_only_the_scanner_functions() -> None:
    scanner = evaluate(parameters={**CROSS_ACCOUNT, "RepositoryPrefix": "team/"})
    registry = evaluate(parameters={"ScannerAccountId": SCANNER, "RepositoryPrefix": "team/"}, account=ACCOUNT_A,
                        template=load_template(REGISTRY_TEMPLATE))
    role = registry.resolve(registry.resources["RegistryReadRole"]["Properties"])
    assert role["RoleName"] == scanner.parameters["RegistryAccessRoleName"]
    functions = {k: v for k, v in scanner.resources.items() if v["Type"] == "AWS::Serverless::Function"}
    readers = {k for k, v in functions.items() if v["Properties"].get("RolePath") == "/imagescan/"}
    assert readers == {"ResolveImageFunction", "AnalyzeLayerFunction"}
    trust = role["AssumeRolePolicyDocument"]
    assert trust_allows(trust, f"arn:aws:iam::{SCANNER}:role/imagescan/stack-ResolveImageFunctionRole-X")
    assert not trust_allows(trust, f"arn:aws:iam::{SCANNER}:role/stack-AssembleFunctionRole-X")  # no path
    assert not trust_allows(trust, f"arn:aws:iam::{ACCOUNT_B}:role/imagescan/stack-ResolveImageFunctionRole-X")
    assert not trust_allows(trust, f"arn:aws:iam::{SCANNER}:root")
    (permissions,) = role["Policies"]
    by_sid = {s["Sid"]: s for s in permissions["PolicyDocument"]["Statement"]}
    assert by_sid["EcrToken"]["Resource"] == "*" and by_sid["EcrToken"]["Action"] == "ecr:GetAuthorizationToken"
    assert by_sid["EcrPull"]["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_A}:repository/team/*"
    assert set(by_sid["EcrPull"]["Action"]) == {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                                                "ecr:DescribeImages"}
    # The forwarding rule matches what the scanner's push rule matches, and targets the scanner's default bus.
    rule = registry.resolve(registry.resources["ForwardPushesRule"]["Properties"])
    assert rule["EventPattern"] == scanner.resolve(scanner.resources["EcrPushRule"]["Properties"]["EventPattern"])
    (target,) = rule["Targets"]
    assert target["Arn"] == f"arn:aws:events:us-east-1:{SCANNER}:event-bus/default" and "RoleArn" in target
    forward = registry.resolve(registry.resources["ForwardPushesRole"]["Properties"])
    (put,) = forward["Policies"][0]["PolicyDocument"]["Statement"]
    assert put["Action"] == "events:PutEvents" and put["Resource"] == target["Arn"]


def test_the_dashboard_charts_metrics_the_functions_emit() -> None:
    """Every metric of the ``imagescan`` namespace on the dashboard is one the engine emits (a renamed metric
    would leave an empty chart), and the refused pushes are on it."""
    from imagescan.aws import observability
    from imagescan.findings import Severity

    body = load_template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"][0]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    emitted = {value for name, value in vars(observability).items() if name.isupper() and isinstance(value, str)}
    emitted |= {observability.FINDINGS_PREFIX + s.title().replace("Informational", "Info") for s in Severity}
    charted: set[str] = set()
    for widget in widgets:
        namespace = None
        for row in widget["properties"]["metrics"]:
            names = [cell for cell in row if isinstance(cell, str)]
            if names[0] == "...":
                continue
            namespace = namespace if names[0] == "." else names[0]
            if namespace == observability.NAMESPACE:
                charted.add(names[1])
    assert charted and charted <= emitted, charted - emitted
    assert {observability.PUSH_EVENTS_REFUSED, observability.LAYER_CACHE_HITS} <= charted
