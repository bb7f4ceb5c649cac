"""Fixtures of the AWS tests: moto (Step Functions in executing mode, Lambda without Docker), the template's
resources, the real handlers, and images served by a real registry standing in for ECR."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import moto  # noqa: F401 - before any boto3 session exists, so that every client is mocked
import pytest
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from imagescan.aws import clients, pipeline
from imagescan.aws.pipeline import Pipeline, registry_opener
from imagescan.aws.settings import Settings
from tests.aws.handlers import Dispatcher, dispatch_to_handlers, load_handler
from tests.aws.stack import ACCOUNT, Stack, deploy
from tests.registry_fixture import RegistryServer

REGION = "us-east-1"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    "MOTO_LAMBDA_STUB_ECR": "false", "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "imagescan", "POWERTOOLS_METRICS_NAMESPACE": "imagescan",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_DEV": "false",
}


def set_base_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto backend with fake credentials; the pipeline's cached clients are dropped around it."""
    set_base_env(monkeypatch)
    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None))
    clients.reset()
    with mock_aws(config=MOTO_CONFIG):
        yield
    clients.reset()
    pipeline.install(None)


@dataclass
class AwsPipeline:
    """The deployed template in moto, with the real handlers behind its functions."""

    stack: Stack
    dispatcher: Dispatcher
    registry: RegistryServer
    handlers: dict[str, Any]
    work: Path

    def function(self, code_dir: str) -> str:
        return self.stack.function_name(code_dir)

    def calls(self, code_dir: str, **kw: Any) -> int:
        return self.dispatcher.count(self.function(code_dir), **kw)

    def push_event(self, repository: str, digest: str, tag: str | None = "latest", *,
                   event_id: str | None = None, manifest_media_type: str | None = None) -> dict[str, Any]:
        detail: dict[str, Any] = {"result": "SUCCESS", "repository-name": repository, "image-digest": digest,
                                  "action-type": "PUSH"}
        if tag:
            detail["image-tag"] = tag
        if manifest_media_type:
            detail["manifest-media-type"] = manifest_media_type
        return {"version": "0", "id": event_id or str(uuid.uuid4()), "detail-type": "ECR Image Action",
                "source": "aws.ecr", "account": ACCOUNT, "region": REGION, "resources": [],
                "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "detail": detail}

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge does with an event: match the push rule's pattern, invoke the push function."""
        from moto.events.models import EventPattern

        pattern = self.stack.rules["EcrPushRule"]["EventPattern"]
        if not EventPattern.load(json.dumps(pattern)).matches_event(event):  # type: ignore[arg-type]
            return {"matched": False}
        name = self.function("on_push")
        return self.dispatcher.handlers[name](event, _context(name))  # type: ignore[no-any-return]


def _context(name: str) -> Any:
    from tests.aws.handlers import FakeContext

    return FakeContext(name)


@pytest.fixture(scope="module")
def aws_pipeline(auth_registry: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsPipeline]:
    """The whole pipeline in moto, for one test module (layer cache and tables persist across its tests)."""
    monkeypatch = pytest.MonkeyPatch()
    work = tmp_path_factory.mktemp("aws")
    try:
        set_base_env(monkeypatch)
        clients.reset()
        with mock_aws(config=MOTO_CONFIG):
            stack = deploy(region=REGION)
            for key, value in stack.environment.items():
                monkeypatch.setenv(key, value)
            monkeypatch.setenv("IDEMPOTENCY_TTL_SECONDS", "3600")
            pipeline.install(Pipeline(settings=Settings.from_env(), s3=clients.s3(), dynamodb=clients.dynamodb(),
                                      open_source=registry_opener({ECR_HOST: auth_registry.url}),
                                      db_directory=work / "db"))
            handlers = {stack.names[logical]: load_handler(directory).handler
                        for logical, directory in stack.functions.items()}
            dispatcher = Dispatcher(handlers)
            dispatch_to_handlers(monkeypatch, dispatcher)
            monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda seconds: None))
            yield AwsPipeline(stack, dispatcher, auth_registry, handlers, work)
    finally:
        monkeypatch.undo()
        pipeline.install(None)
        clients.reset()
