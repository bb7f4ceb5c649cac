"""The .NET cataloger: NuGet packages and the application itself from NAME.deps.json."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.dotnet import DotnetCataloger, parse_deps_json
from imagescan.models import PackageType, PathRecord
from tests.catalog.mutate import apply_edits, check_parse, edits, json_values

CATALOGER = DotnetCataloger()
PATH = "app/MyApi.deps.json"
DIGEST = hashlib.sha512(b"illustrative nupkg bytes").digest()
TARGET = ".NETCoreApp,Version=v6.0/linux-x64"
# The shape `dotnet publish` writes (runtimeTarget, targets, libraries), trimmed.
DEPS: dict[str, Any] = {
    "runtimeTarget": {"name": TARGET, "signature": ""},
    "compilationOptions": {},
    "targets": {TARGET: {"MyApi/1.0.0": {"dependencies": {"Newtonsoft.Json": "13.0.1"}}}},
    "libraries": {
        "MyApi/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "Newtonsoft.Json/13.0.1": {"type": "package", "serviceable": True,
                                   "sha512": "sha512-" + base64.b64encode(DIGEST).decode(),
                                   "path": "newtonsoft.json/13.0.1", "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512"},
        "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/6.0.5": {"type": "runtimepack", "serviceable": False,
                                                                      "sha512": ""},
        "MyApi.Domain/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "System.Runtime/4.3.0": {"type": "referenceassembly", "serviceable": False, "sha512": ""},
        "Broken.Digest/1.0.0": {"type": "package", "sha512": "sha512-not base64!"},
    },
}  # fmt: skip


def parse(doc: object, path: str = PATH) -> PathRecord:
    data = json.dumps(doc).encode()
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "dotnet" and record.path == path
    return record


@pytest.mark.parametrize(("path", "wanted"), [
    (PATH, True), ("usr/share/dotnet/shared/Microsoft.NETCore.App/6.0.5/Microsoft.NETCore.App.deps.json", True),
    ("app/.deps.json", False), ("app/MyApi.runtimeconfig.json", False), ("app/MyApi.deps.json.bak", False),
])  # fmt: skip
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


def test_packages_runtimepack_and_application() -> None:
    record = parse(DEPS)
    rows = {(p.name, p.version, p.component_type) for p in record.packages}
    assert rows == {
        ("MyApi", "1.0.0", "application"),
        ("Newtonsoft.Json", "13.0.1", "library"),
        ("Microsoft.NETCore.App.Runtime.linux-x64", "6.0.5", "library"),
        ("Broken.Digest", "1.0.0", "library"),
    }
    assert all(p.type == PackageType.NUGET and p.path == PATH and p.namespace is None for p in record.packages)
    digests = {p.name: p.digests for p in record.packages}
    assert digests["Newtonsoft.Json"] == {"sha512": DIGEST.hex()}
    assert digests["Broken.Digest"] == {} and digests["MyApi"] == {}


def test_main_project_is_the_only_one_when_the_file_name_differs() -> None:
    libraries = {"Web/2.0.0": {"type": "project"}, "x/1": {"type": "package"}}
    record = parse({"libraries": libraries}, "app/renamed.deps.json")
    assert {(p.name, p.component_type) for p in record.packages} == {("Web", "application"), ("x", "library")}
    two = {**libraries, "Other/1.0.0": {"type": "project"}}
    assert [p.name for p in parse({"libraries": two}, "app/renamed.deps.json").packages] == ["x"]


def test_bad_library_keys_and_entries() -> None:
    record = parse({"libraries": {"NoVersion": {"type": "package"}, "A/B/1": {"type": "package"},
                                  "Spaced Name/1": {"type": "package"}, "Entry/1": "package", "/1": {"type": "package"},
                                  "Good/1.0": {"type": "package"}}})
    assert [p.name for p in record.packages] == ["Good"] and len(record.notes) == 5


@pytest.mark.parametrize("doc", [[], "x", {"libraries": []}, {"libraries": "x"}])
def test_not_a_deps_json(doc: object) -> None:
    with pytest.raises(CatalogError):
        parse(doc)


def test_no_libraries_is_empty() -> None:
    assert parse({"runtimeTarget": {}}).packages == []
    with pytest.raises(CatalogError):
        parse_deps_json(b"\xef\xbb\xbf{", PATH)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_parse(CATALOGER, PATH, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=edits)
def test_mutated_deps_json(changes: list[tuple[int, bytes, int]]) -> None:
    check_parse(CATALOGER, PATH, apply_edits(json.dumps(DEPS).encode(), changes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values | st.fixed_dictionaries({"libraries": st.dictionaries(
    st.text(alphabet="ab/. 1", max_size=8),
    st.dictionaries(st.sampled_from(["type", "sha512"]), json_values | st.sampled_from(["package", "project"]),
                    max_size=2), max_size=4)}))
def test_documents_of_any_shape(doc: object) -> None:
    check_parse(CATALOGER, PATH, json.dumps(doc).encode())
