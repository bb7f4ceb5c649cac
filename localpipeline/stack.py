"""The resources of ``template.yaml``, created in moto from the template itself (not from a hand-written copy).

:func:`deploy` reads the template with cfn-lint's decoder, evaluates parameters, conditions and the intrinsic
functions the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Equals, Fn::Not), and creates what a run of
the pipeline touches: the bucket, the DynamoDB tables (keys, indexes, TTL), the queues, one Lambda function per
``AWS::Serverless::Function`` (dispatched in-process to the real handler, see :mod:`localpipeline.lambdas`) and the
state machine from ``DefinitionUri`` with its ``DefinitionSubstitutions``. Event rules are kept as resolved
patterns to match events against. Alarms, log groups, the dashboard and IAM are not created (moto does not run
them); :attr:`Stack.skipped` lists them.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import decode  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
ACCOUNT = "123456789012"
_NO_VALUE = object()


class TemplateError(Exception):
    pass


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    template, problems = decode(str(path))
    if problems or template is None:
        raise TemplateError(f"{path}: {problems}")
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


@dataclass
class Stack:
    name: str
    region: str
    template: dict[str, Any]
    parameters: dict[str, str]
    conditions: dict[str, bool] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)
    """Logical id → what ``Ref`` gives (a name or an ARN)."""
    arns: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """Logical id → the function, queue or state machine name."""
    environment: dict[str, str] = field(default_factory=dict)
    """Every function's environment (Globals plus its own), merged."""
    functions: dict[str, str] = field(default_factory=dict)
    """Logical id → the code directory of each function."""
    memory: dict[str, int] = field(default_factory=dict)
    """Function name → its configured memory (MB): ``MemorySize``, else the Globals' one."""
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Logical id → resolved event pattern (or schedule) of each EventBridge rule."""
    skipped: list[str] = field(default_factory=list)

    # -- intrinsic functions

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self._get_att(logical, attribute)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::If":
                condition, yes, no = arg
                return self.resolve(yes if self.conditions[condition] else no)
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Condition":
                return self.conditions[arg]
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT, "AWS::StackName": self.name,
                  "AWS::Partition": "aws", "AWS::NoValue": _NO_VALUE, "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        raise TemplateError(f"Ref {name}: not created (yet)")

    def _get_att(self, logical: str, attribute: str) -> str:
        if attribute == "Arn" and logical in self.arns:
            return self.arns[logical]
        if attribute in ("Name", "QueueName") and logical in self.names:
            return self.names[logical]
        raise TemplateError(f"GetAtt {logical}.{attribute}: not available")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return self._get_att(logical, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # -- lookups

    def table(self, logical: str) -> str:
        return self.physical[logical]

    @property
    def bucket(self) -> str:
        return self.physical["ScanBucket"]

    @property
    def state_machine_arn(self) -> str:
        return self.physical["ScanStateMachine"]

    def function_name(self, code_dir: str) -> str:
        """The deployed name of the function whose code is ``functions/<code_dir>/``."""
        for logical, directory in self.functions.items():
            if Path(directory).name == code_dir:
                return self.names[logical]
        raise KeyError(code_dir)


def _table_args(props: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AttributeDefinitions": props["AttributeDefinitions"], "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        args["SSESpecification"] = {"Enabled": True}
    return args


def _substitute(text: str, values: Mapping[str, str]) -> str:
    """``${Name}`` replaced as Step Functions' DefinitionSubstitutions do."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


def _zip(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*.py")):
            archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def deploy(name: str = "imagescan-test", region: str = "us-east-1", parameters: Mapping[str, str] | None = None,
           template: dict[str, Any] | None = None) -> Stack:
    """Create the template's resources in the active moto backend."""
    template = template or load_template()
    values = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    stack = Stack(name=name, region=region, template=template, parameters=values)
    for condition, expression in template.get("Conditions", {}).items():
        stack.conditions[condition] = bool(stack.resolve(expression))
    resources: dict[str, Any] = template["Resources"]
    session = boto3.session.Session(region_name=region)
    s3, dynamodb, sqs = session.client("s3"), session.client("dynamodb"), session.client("sqs")
    lam, sfn, iam = session.client("lambda"), session.client("stepfunctions"), session.client("iam")
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]

    def by_type(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(k, v) for k, v in resources.items() if v["Type"] == kind]

    for logical, _resource in by_type("AWS::S3::Bucket"):
        bucket = f"{name}-{logical}".lower()
        s3.create_bucket(Bucket=bucket)
        stack.physical[logical], stack.arns[logical] = bucket, f"arn:aws:s3:::{bucket}"
    for logical, resource in by_type("AWS::DynamoDB::Table"):
        props = stack.resolve(resource["Properties"])
        table = f"{name}-{logical}"
        created = dynamodb.create_table(TableName=table, **_table_args(props))["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
        stack.physical[logical], stack.arns[logical] = table, created["TableArn"]
    for logical, _resource in by_type("AWS::SQS::Queue"):
        queue = f"{name}-{logical}"
        url = sqs.create_queue(QueueName=queue)["QueueUrl"]
        stack.physical[logical], stack.names[logical] = url, queue
        stack.arns[logical] = f"arn:aws:sqs:{region}:{ACCOUNT}:{queue}"
    # Functions first without the state machine ARN (the push function needs it: set once it exists).
    globals_function = template.get("Globals", {}).get("Function", {})
    globals_env = globals_function.get("Environment", {}).get("Variables", {})
    functions = by_type("AWS::Serverless::Function")
    for logical, resource in functions:
        function = f"{name}-{logical}"
        arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function}"
        stack.physical[logical], stack.arns[logical], stack.names[logical] = function, arn, function
        stack.functions[logical] = str(REPO / resource["Properties"]["CodeUri"])
    for logical, resource in by_type("AWS::Serverless::StateMachine"):
        props = resource["Properties"]
        substitutions = {k: str(stack.resolve(v)) for k, v in props.get("DefinitionSubstitutions", {}).items()}
        text = (REPO / props["DefinitionUri"]).read_text()
        definition = _substitute(text, substitutions)
        machine = f"{name}-{logical}"
        arn = sfn.create_state_machine(name=machine, definition=definition, roleArn=role,
                                       type=props.get("Type", "STANDARD"))["stateMachineArn"]
        stack.physical[logical], stack.arns[logical], stack.names[logical] = arn, arn, machine
    for logical, resource in functions:
        props = resource["Properties"]
        env = {**globals_env, **props.get("Environment", {}).get("Variables", {})}
        resolved = {k: str(v) for k, v in stack.resolve(env).items()}
        stack.memory[stack.names[logical]] = int(stack.resolve(props.get("MemorySize",
                                                                         globals_function.get("MemorySize", 128))))
        stack.environment.update(resolved)
        lam.create_function(FunctionName=stack.names[logical], Runtime="python3.12", Role=role,
                            Handler="app.handler", Code={"ZipFile": _zip(Path(stack.functions[logical]))},
                            Environment={"Variables": resolved}, Architectures=["arm64"])
    for logical, resource in by_type("AWS::Events::Rule"):
        props = stack.resolve(resource["Properties"])
        stack.rules[logical] = {"EventPattern": props.get("EventPattern"),
                                "ScheduleExpression": props.get("ScheduleExpression")}
        stack.arns[logical] = f"arn:aws:events:{region}:{ACCOUNT}:rule/{name}-{logical}"
    handled = {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Serverless::Function",
               "AWS::Serverless::StateMachine", "AWS::Events::Rule"}
    stack.skipped = sorted(f"{k} ({v['Type']})" for k, v in resources.items() if v["Type"] not in handled)
    return stack
