"""The resources of ``template.yaml`` (and of ``registry-account.yaml``), created in moto from the templates
themselves (not from a hand-written copy).

:func:`deploy` reads a template with cfn-lint's decoder, evaluates parameters, conditions (a resource whose
``Condition`` is false is not created) and the intrinsic functions the templates use (Ref, Fn::GetAtt, Fn::Sub,
Fn::If, Fn::Equals, Fn::Not, Fn::Join, Fn::Split, Fn::Select, and ``Fn::ForEach`` of the
``AWS::LanguageExtensions`` transform), and creates what a run of the pipeline touches: the bucket, the DynamoDB
tables (keys, indexes, TTL), the queues, IAM roles, one Lambda function per ``AWS::Serverless::Function``
(dispatched in-process to the real handler, see :mod:`localpipeline.lambdas`) and the state machine from
``DefinitionUri`` with its ``DefinitionSubstitutions``, in the account asked for (moto keeps one backend per
account). Event rules, IAM policies and event bus policies are kept resolved (:attr:`Stack.rules`,
:attr:`Stack.policies`, :attr:`Stack.bus_policies`) for :mod:`localpipeline.iam` to decide with. Alarms, log
groups and the dashboard are not created (moto does not run them); :attr:`Stack.skipped` lists them.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from cfnlint.decode import decode  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
REGISTRY_TEMPLATE = REPO / "registry-account.yaml"
ACCOUNT = "123456789012"
"""moto's default account: the scanner's."""
_NO_VALUE = object()
_FOR_EACH = "Fn::ForEach::"


class TemplateError(Exception):
    pass


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    template, problems = decode(str(path))
    if problems or template is None:
        raise TemplateError(f"{path}: {problems}")
    plain: dict[str, Any] = json.loads(json.dumps(template))
    return plain


def account_session(region: str, account: str = ACCOUNT) -> boto3.session.Session:
    """A session whose moto requests act in ``account`` (moto's ``x-moto-account-id`` header): the harness's
    own way into another account, without STS."""
    session = boto3.session.Session(region_name=region)
    if account != ACCOUNT:
        def add_header(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        session.events.register("before-sign", add_header)
    return session


def _replace_identifier(value: Any, identifier: str, item: str) -> Any:
    """A ``Fn::ForEach`` fragment with ``${identifier}`` (and ``&{identifier}``, alphanumerics only) replaced."""
    plain = re.sub(r"[^A-Za-z0-9]", "", item)

    def text(s: str) -> str:
        return s.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", plain)

    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [_replace_identifier(v, identifier, item) for v in value]
    if isinstance(value, dict):
        return {text(k): _replace_identifier(v, identifier, item) for k, v in value.items()}
    return value


@dataclass
class Stack:
    name: str
    region: str
    template: dict[str, Any]
    parameters: dict[str, str]
    account: str = ACCOUNT
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
    """Logical id → resolved event pattern (or schedule) and targets of each EventBridge rule."""
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Logical id → resolved properties of each ``AWS::IAM::Policy`` (``Roles``, ``PolicyDocument``)."""
    bus_policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Logical id → resolved properties of each ``AWS::Events::EventBusPolicy``."""
    skipped: list[str] = field(default_factory=list)
    static: bool = False
    """Evaluated only (:func:`evaluate`): a reference to a resource resolves to ``<LogicalId>`` (``Ref``) or
    ``<LogicalId.Attribute>`` (``Fn::GetAtt``), as nothing was created."""

    # -- the resources as CloudFormation would create them

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The template's resources with ``Fn::ForEach`` expanded and those whose condition is false left out."""
        expanded = self._expand(self.template["Resources"])
        return {k: v for k, v in expanded.items()
                if "Condition" not in v or self.conditions[str(v["Condition"])]}

    def _expand(self, section: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in section.items():
            if not key.startswith(_FOR_EACH):
                out[key] = value
                continue
            identifier, collection, fragment = value
            for item in self.resolve(collection):
                out.update(self._expand(_replace_identifier(fragment, identifier, str(item))))
        return out

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
            if key == "Fn::Join":
                delimiter, items = arg
                return str(delimiter).join(str(v) for v in self.resolve(items))
            if key == "Fn::Split":
                delimiter, text = arg
                return str(self.resolve(text)).split(str(delimiter))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Condition":
                return self.conditions[arg]
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    @property
    def stack_id(self) -> str:
        guid = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.account}/{self.region}/{self.name}")
        return f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.name}/{guid}"

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::Region": self.region, "AWS::AccountId": self.account, "AWS::StackName": self.name,
                  "AWS::StackId": self.stack_id, "AWS::Partition": "aws", "AWS::NoValue": _NO_VALUE,
                  "AWS::URLSuffix": "amazonaws.com"}
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            kind = self.template.get("Parameters", {}).get(name, {}).get("Type")
            return self.parameters[name].split(",") if kind == "CommaDelimitedList" else self.parameters[name]
        if name in self.physical:
            return self.physical[name]
        if self.static:
            return f"<{name}>"
        raise TemplateError(f"Ref {name}: not created (yet)")

    def _get_att(self, logical: str, attribute: str) -> str:
        if attribute == "Arn" and logical in self.arns:
            return self.arns[logical]
        if attribute in ("Name", "QueueName") and logical in self.names:
            return self.names[logical]
        if self.static:
            return f"<{logical}.{attribute}>"
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

    def function_role_arn(self, function_name: str) -> str:
        """The execution role SAM generates for a function (``<LogicalId>Role``, under its ``RolePath``)."""
        logical = next(k for k, v in self.names.items() if v == function_name and k in self.functions)
        return self.arns[f"{logical}Role"]

    def role_statements(self, role_name: str) -> list[dict[str, Any]]:
        """The statements of every ``AWS::IAM::Policy`` attached to the role ``role_name``."""
        statements: list[dict[str, Any]] = []
        for policy in self.policies.values():
            if role_name in policy.get("Roles", []):
                found = policy["PolicyDocument"]["Statement"]
                statements += found if isinstance(found, list) else [found]
        return statements

    @property
    def default_bus_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:event-bus/default"


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


def _create_role(iam: Any, stack: Stack, logical: str, props: Mapping[str, Any]) -> None:
    role = str(props.get("RoleName") or f"{stack.name}-{logical}")[:64]
    args: dict[str, Any] = {"RoleName": role, "Path": props.get("Path", "/"),
                            "AssumeRolePolicyDocument": json.dumps(props["AssumeRolePolicyDocument"])}
    if props.get("MaxSessionDuration"):
        args["MaxSessionDuration"] = int(props["MaxSessionDuration"])
    arn = iam.create_role(**args)["Role"]["Arn"]
    for policy in props.get("Policies", []):
        iam.put_role_policy(RoleName=role, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    stack.physical[logical], stack.arns[logical] = role, arn


def deploy(name: str = "imagescan-test", region: str = "us-east-1", parameters: Mapping[str, str] | None = None,
           template: dict[str, Any] | None = None, account: str = ACCOUNT) -> Stack:
    """Create the template's resources in the active moto backend, in ``account``."""
    stack = evaluate(name, region, parameters, template, account)
    stack.static = False
    resources = stack.resources
    session = account_session(region, account)
    s3, dynamodb, sqs = session.client("s3"), session.client("dynamodb"), session.client("sqs")
    lam, sfn, iam = session.client("lambda"), session.client("stepfunctions"), session.client("iam")
    functions = [(k, v) for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"]
    role = ""  # the one role moto's functions and state machine are created with
    if functions or any(v["Type"] == "AWS::Serverless::StateMachine" for v in resources.values()):
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
        stack.arns[logical] = f"arn:aws:sqs:{region}:{account}:{queue}"
    for logical, resource in by_type("AWS::IAM::Role"):
        _create_role(iam, stack, logical, stack.resolve(resource["Properties"]))
    # Functions first without the state machine ARN (the push function needs it: set once it exists).
    globals_function = stack.template.get("Globals", {}).get("Function", {})
    globals_env = globals_function.get("Environment", {}).get("Variables", {})
    for logical, resource in functions:
        function = f"{name}-{logical}"
        arn = f"arn:aws:lambda:{region}:{account}:function:{function}"
        stack.physical[logical], stack.arns[logical], stack.names[logical] = function, arn, function
        stack.functions[logical] = str(REPO / resource["Properties"]["CodeUri"])
        # The execution role SAM generates (not created: every function runs as the harness; see localpipeline.iam).
        role_name, path = f"{name}-{logical}Role"[:64], str(resource["Properties"].get("RolePath", "/"))
        stack.physical[f"{logical}Role"] = role_name
        stack.arns[f"{logical}Role"] = f"arn:aws:iam::{account}:role{path}{role_name}"
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
    for logical, resource in by_type("AWS::IAM::Policy"):
        stack.policies[logical] = stack.resolve(resource["Properties"])
    for logical, resource in by_type("AWS::Events::EventBusPolicy"):
        stack.bus_policies[logical] = stack.resolve(resource["Properties"])
    for logical, resource in by_type("AWS::Events::Rule"):
        props = stack.resolve(resource["Properties"])
        stack.rules[logical] = {"EventPattern": props.get("EventPattern"),
                                "ScheduleExpression": props.get("ScheduleExpression"),
                                "Targets": props.get("Targets", [])}
        stack.arns[logical] = f"arn:aws:events:{region}:{account}:rule/{name}-{logical}"
    handled = {"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::Serverless::Function",
               "AWS::Serverless::StateMachine", "AWS::Events::Rule", "AWS::IAM::Role", "AWS::IAM::Policy",
               "AWS::Events::EventBusPolicy"}
    stack.skipped = sorted(f"{k} ({v['Type']})" for k, v in resources.items() if v["Type"] not in handled)
    return stack


def evaluate(name: str = "imagescan-test", region: str = "us-east-1", parameters: Mapping[str, str] | None = None,
             template: dict[str, Any] | None = None, account: str = ACCOUNT) -> Stack:
    """The template with its parameters and conditions evaluated, nothing created (:attr:`Stack.resources` is
    what CloudFormation would create)."""
    template = template or load_template()
    declared = template.get("Parameters", {})
    values = {k: str(v["Default"]) for k, v in declared.items() if "Default" in v}
    values.update(parameters or {})
    missing = sorted(k for k in declared if k not in values)
    if missing:
        raise TemplateError(f"parameters without a value: {', '.join(missing)}")
    stack = Stack(name=name, region=region, template=template, parameters=values, account=account, static=True)
    for condition, expression in template.get("Conditions", {}).items():
        stack.conditions[condition] = bool(stack.resolve(expression))
    return stack
