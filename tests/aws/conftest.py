"""Fixtures of the AWS tests: moto (Step Functions in executing mode, Lambda without Docker), the template's
resources, the real handlers, and images served by a real registry standing in for ECR."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moto  # noqa: F401 - before any boto3 session exists, so that every client is mocked
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from imagescan.aws import clients, pipeline
from imagescan.aws.pipeline import Pipeline, registry_opener
from imagescan.aws.settings import Settings
from localpipeline.lambdas import NO_SLEEP, Dispatcher, FakeContext, backend_invoke, load_handler
from localpipeline.run import BASE_ENV, ECR_HOST, MOTO_CONFIG, REGION, matches_push_rule, push_event
from localpipeline.stack import Stack, deploy
from tests.registry_fixture import RegistryServer

__all__ = ["ECR_HOST", "REGION", "AwsPipeline"]


def set_base_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BASE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh moto backend with fake credentials; the pipeline's cached clients are dropped around it."""
    set_base_env(monkeypatch)
    monkeypatch.setattr(retrier_decl, "time", NO_SLEEP)
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

    def push_event(self, repository: str, digest: str, tag: str | None = "latest", **kw: Any) -> dict[str, Any]:
        return push_event(repository, digest, tag, **kw)

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """What EventBridge does with an event: match the push rule's pattern, invoke the push function."""
        if not matches_push_rule(self.stack, event):
            return {"matched": False}
        name = self.function("on_push")
        return self.dispatcher.handlers[name](event, FakeContext(name))  # type: ignore[no-any-return]


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
            dispatcher = Dispatcher(handlers, dict(stack.memory))
            monkeypatch.setattr(LambdaSimpleBackend, "invoke", backend_invoke(dispatcher))
            monkeypatch.setattr(retrier_decl, "time", NO_SLEEP)
            yield AwsPipeline(stack, dispatcher, auth_registry, handlers, work)
    finally:
        monkeypatch.undo()
        pipeline.install(None)
        clients.reset()
