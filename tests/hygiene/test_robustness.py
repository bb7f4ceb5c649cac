"""Whatever an image config holds, the hygiene checks give findings, never an exception."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.imagebuilder import TarEntry
from imagescan.hygiene import hygiene_checks
from imagescan.hygiene.dockerfile_parser import parse_dockerfile
from imagescan.hygiene.image_store import parse_created
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.store import VulnDB
from tests.hygiene.images import build_image, context, deb, debian_base

_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_run_config = st.fixed_dictionaries({}, optional={
    "User": _json | st.sampled_from(["", "root", "0:0", "app"]),
    "Env": _json | st.lists(st.sampled_from(["PATH=/usr/bin:relative::/bin", "DB_PASSWORD=x", "A=", "=", "B"])),
    "Entrypoint": _json | st.lists(st.sampled_from(["/bin/sh", "-c", "", "x.sh", " "])),
    "Cmd": _json | st.lists(st.text(max_size=10)),
    "ExposedPorts": _json | st.dictionaries(st.sampled_from(["22/tcp", "x", "99999999999/udp", ""]), st.just({})),
    "Healthcheck": _json | st.fixed_dictionaries({"Test": _json}),
})
_history = st.lists(_json | st.fixed_dictionaries({"created_by": st.text(max_size=60) | _json},
                                                  optional={"empty_layer": _json}), max_size=5)
_config = st.fixed_dictionaries({}, optional={"config": _run_config | _json, "history": _history | _json,
                                              "created": _json | st.just("2020-01-01T00:00:00Z")})


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> ImageAnalysis:
    base = debian_base(packages=[deb("passwd", files={"/usr/bin/passwd": b"p"})], modes={"usr/bin/passwd": 0o4755})
    return build_image(tmp_path_factory.mktemp("robust"), [base, [TarEntry("tmp", kind="dir", mode=0o777)]])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_config)
def test_checks_survive_any_config(image: ImageAnalysis, eol_db: VulnDB, tmp_path: Path,
                                   config: dict[str, Any]) -> None:
    analysis = dataclasses.replace(image, image=dataclasses.replace(image.image, config=config))
    dockerfile = parse_dockerfile("FROM debian:12\nRUN apt-get install -y curl\nADD a /a\nUSER app\n")
    ctx = context(eol_db, dockerfile=dockerfile, image_store=tmp_path / "images.db")
    for check in hygiene_checks():
        for finding in check.run(analysis, ctx):
            assert finding.id and finding.title


@given(st.text(max_size=40))
def test_creation_dates_never_crash(text: str) -> None:
    value = parse_created(text)
    assert value is None or (value.tzinfo is not None and value.year >= 1980)


def test_creation_date_forms() -> None:
    assert parse_created("2024-01-01T00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert parse_created("2024-01-01T02:00:00+02:00") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert parse_created("2024-01-01T00:00:00") == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    assert parse_created("0001-01-01T00:00:00Z") is None
