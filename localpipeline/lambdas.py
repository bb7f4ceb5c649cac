"""The real Lambda handlers (``functions/*/app.py``) run in-process when moto's Step Functions invoke them.

moto's Lambda (``use_docker=False``) would echo the payload; :func:`backend_invoke` is a replacement for its
``LambdaSimpleBackend.invoke`` that calls the handler of that function, turning an exception into a Lambda
function error (``x-amz-function-error: Unhandled`` and ``{"errorType", "errorMessage"}``) exactly as Lambda
reports it, so the state machine's Retry and Catch rules see the error names the handlers raise. Every call is
recorded with its wall time (what Lambda bills, times the function's memory).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from unittest import mock

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

Handler = Callable[[dict[str, Any], Any], Any]
_running = threading.local()


def current_function() -> str | None:
    """The function whose handler this thread is running (None outside a handler): the principal
    :mod:`localpipeline.iam` decides for, as each function has its own execution role in AWS."""
    name = getattr(_running, "function", None)
    return name if isinstance(name, str) else None
Invoke = Callable[[LambdaSimpleBackend, str, "str | None", Any, Any, dict[str, str]], bytes]


@dataclass
class FakeContext:
    """What powertools reads from the Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/test"
    log_stream_name: str = "test"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def function_memory_size(self) -> int:
        return self.memory_limit_in_mb

    @property
    def function_version(self) -> str:
        return "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def load_handler(code_dir: str | Path) -> ModuleType:
    """Import ``<code_dir>/app.py`` under a unique module name (every function's module is called ``app``)."""
    path = Path(code_dir) / "app.py"
    name = f"lambda_{Path(code_dir).name}_app"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Call:
    function: str
    event: dict[str, Any]
    error: str | None = None
    result: Any = None
    seconds: float = 0.0
    """Wall time of the handler."""


@dataclass
class Dispatcher:
    handlers: dict[str, Handler]
    """Function name → handler."""
    memory: dict[str, int] = field(default_factory=dict)
    """Function name → configured memory (MB), given to the handler's context."""
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, function_name: str, body: bytes | str | None, response_headers: dict[str, str]) -> bytes:
        name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
        handler = self.handlers[name]
        event = json.loads(body or b"{}")
        call = Call(name, event)
        with self._lock:
            self.calls.append(call)
        started = time.perf_counter()
        outer, _running.function = current_function(), name
        try:
            call.result = handler(event, FakeContext(name, self.memory.get(name, 1024)))
        except Exception as exc:  # what Lambda does with an unhandled exception
            call.error = type(exc).__name__
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        finally:
            call.seconds = time.perf_counter() - started
            _running.function = outer
        return json.dumps(call.result).encode()

    def invoke(self, function_name: str, event: dict[str, Any]) -> Any:
        """Invoke a function directly (as EventBridge does): the handler's result, or its exception re-raised."""
        headers: dict[str, str] = {}
        body = json.loads(self(function_name, json.dumps(event), headers))
        if headers.get("x-amz-function-error"):
            raise RuntimeError(f"{function_name}: {body.get('errorType')}: {body.get('errorMessage')}")
        return body

    def count(self, function: str, *, errors: bool | None = None) -> int:
        return sum(1 for c in self.calls if c.function == function and (errors is None or bool(c.error) == errors))

    def of(self, function: str) -> list[Call]:
        return [c for c in self.calls if c.function == function]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


def backend_invoke(dispatcher: Dispatcher) -> Invoke:
    """A replacement for ``LambdaSimpleBackend.invoke`` that runs the real handler."""

    def invoke(self: LambdaSimpleBackend, function_name: str, qualifier: str | None, body: Any, headers: Any,
               response_headers: dict[str, str]) -> bytes:
        return dispatcher(function_name, body, response_headers)

    return invoke


NO_SLEEP = SimpleNamespace(sleep=lambda seconds: None)
"""Replaces the ``time`` module of moto's ASL retrier: Retry intervals are not waited out."""


@contextmanager
def dispatching(dispatcher: Dispatcher) -> Iterator[Dispatcher]:
    """moto's Lambda invokes go to the real handlers, and Retry intervals are not slept, inside the block."""
    with mock.patch.object(LambdaSimpleBackend, "invoke", backend_invoke(dispatcher)), \
            mock.patch.object(retrier_decl, "time", NO_SLEEP):
        yield dispatcher
