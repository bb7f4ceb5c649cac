"""The Parser models accept the sample events in events/ (what `sam local invoke -e` sends) and refuse bad ones
with a ValidationError, never another exception."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from imagescan.aws.events import (
    AssembleTask,
    EcrImageActionEvent,
    LayerTask,
    PublishTask,
    ScanRequest,
    ScheduledEvent,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
MODELS: dict[str, type[BaseModel]] = {
    "ecr-push.json": EcrImageActionEvent,
    "db-refresh.json": ScheduledEvent,
    "hub-refresh.json": ScheduledEvent,
    "state-machine-input.json": ScanRequest,
    "resolve-image.json": ScanRequest,
    "analyze-layer.json": LayerTask,
    "assemble.json": AssembleTask,
    "publish.json": PublishTask,
}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


def test_every_sample_event_has_a_model() -> None:
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sample_events_parse(name: str) -> None:
    model = MODELS[name].model_validate(_load(name))
    assert model.model_dump()


def test_ecr_event_fields_by_their_aliases() -> None:
    event = EcrImageActionEvent.model_validate(_load("ecr-push.json"))
    assert event.detail.repository_name == "team/web" and event.detail.action_type == "PUSH"
    assert event.detail.image_digest.startswith("sha256:") and event.detail.image_tag == "1.4.2"
    assert event.detail.result == "SUCCESS" and event.detail_type == "ECR Image Action"


@pytest.mark.parametrize("change", [
    {"source": "aws.s3"},
    {"detail-type": "ECR Image Scan"},
    {"detail": {"result": "SUCCESS", "repository-name": "r", "action-type": "PUSH", "image-digest": "sha256:xyz"}},
    {"detail": {"result": "SUCCESS", "action-type": "PUSH", "image-digest": "sha256:" + "a" * 64}},
])
def test_bad_ecr_events_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EcrImageActionEvent.model_validate({**_load("ecr-push.json"), **change})


def test_step_payloads_refuse_unknown_fields_and_bad_scan_ids() -> None:
    with pytest.raises(ValidationError):
        LayerTask.model_validate({**_load("analyze-layer.json"), "extra": 1})
    with pytest.raises(ValidationError):
        ScanRequest.model_validate({**_load("state-machine-input.json"), "scan_id": "has spaces"})


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                   max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(MODELS)), data=st.data(), value=_json)
def test_mutated_events_parse_or_raise_validation_error(name: str, data: st.DataObject, value: Any) -> None:
    """One field, at any depth, replaced by random JSON: the model gives a result or a ValidationError."""
    event: Any = _load(name)
    node = event
    while True:
        key = data.draw(st.sampled_from(sorted(node)))
        if isinstance(node[key], dict) and node[key] and data.draw(st.booleans()):
            node = node[key]
            continue
        node[key] = value
        break
    with contextlib.suppress(ValidationError):
        MODELS[name].model_validate(event)
