"""template.yaml and statemachine/scan.asl.json: cfn-lint, the npm asl-validator (on the definition as written and
with its substitutions filled in), moto's stricter ASL parser, and the rules the template must keep (least
privilege, encryption, the dependencies of the engine layer)."""

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

from localpipeline.stack import REPO, load_template
from tests.needs import missing

ASL = REPO / "statemachine" / "scan.asl.json"
ASL_VALIDATOR = "asl-validator@4.0.0"
FIXTURES = REPO / ".fixtures"
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


def test_cfn_lint_passes() -> None:
    proc = _cfn_lint(REPO / "template.yaml")
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
    for policy in resource["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Fn::If" in policy:
            policy = policy["Fn::If"][1]
        if isinstance(policy, dict) and "Statement" in policy:
            out += policy["Statement"]
    return out


def test_least_privilege() -> None:
    resources = load_template()["Resources"]
    for logical, resource in resources.items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        for statement in _statements(resource):
            resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if "*" in resources_:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert set(actions) <= ALLOWED_STAR_ACTIONS, (logical, actions)
            assert statement["Effect"] == "Allow"


def test_storage_is_encrypted_private_and_expires() -> None:
    resources = load_template()["Resources"]
    bucket = resources["ScanBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    prefixes = {rule.get("Prefix") for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert {"layers/", "scans/", "sboms/"} <= prefixes
    policy = resources["ScanBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert policy["Effect"] == "Deny" and policy["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    tables = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::DynamoDB::Table"]
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
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
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
