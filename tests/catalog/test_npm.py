"""The npm cataloger: which package.json files are packages, what they say, and which applications are kept."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.npm import NpmCataloger, keep_applications, manifest_kind, parse_package_json, split_name
from imagescan.models import Package, PackageType, PathRecord
from tests.catalog.mutate import apply_edits, check_parse, edits, json_values

CATALOGER = NpmCataloger()
LODASH = {"name": "lodash", "version": "4.17.15", "license": "MIT", "description": "Lodash modular utilities.",
          "main": "lodash.js", "_resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz"}


def parse(path: str, doc: object) -> PathRecord:
    data = json.dumps(doc).encode()
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "npm" and record.path == path
    return record


@pytest.mark.parametrize(("path", "kind"), [
    ("app/node_modules/lodash/package.json", "library"),
    ("app/node_modules/@types/node/package.json", "library"),
    ("app/node_modules/debug/node_modules/ms/package.json", "library"),
    ("app/node_modules/a/node_modules/@s/b/node_modules/c/package.json", "library"),
    ("node_modules/x/package.json", "library"),
    ("usr/lib/node_modules/npm/package.json", "library"),
    ("usr/local/lib/node_modules/npm/node_modules/semver/package.json", "library"),
    ("app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json", "library"),
    ("usr/share/nodejs/ms/package.json", "library"),
    ("usr/share/nodejs/@types/node/package.json", "library"),
    ("usr/lib/nodejs/acorn/package.json", "library"),
    ("usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json", "library"),
    ("app/package.json", "application"),
    ("package.json", "application"),
    ("srv/web/client/package.json", "application"),
    # not packages: files deeper inside a package, scope directories, hidden directories
    ("app/node_modules/resolve/test/resolver/multirepo/packages/package-a/package.json", None),
    ("app/node_modules/resolve/test/resolver/baz/package.json", None),
    ("app/node_modules/lodash/fp/package.json", None),
    ("app/node_modules/@types/package.json", None),
    ("app/node_modules/.package-lock.json", None),
    ("app/node_modules/.bin/package.json", None),
    ("app/node_modules/@/x/package.json", None),
    ("usr/share/nodejs/ms/lib/package.json", None),
    ("app/node_modules/lodash/package.json.bak", None),
    ("app/node_modules/lodash/xpackage.json", None),
])  # fmt: skip
def test_which_manifests(path: str, kind: str | None) -> None:
    assert manifest_kind(path) == kind
    assert CATALOGER.wants(path) is (kind is not None)


def test_library_fields() -> None:
    (pkg,) = parse("app/node_modules/lodash/package.json", LODASH).packages
    assert (pkg.type, pkg.namespace, pkg.name, pkg.version, pkg.license, pkg.component_type) == (
        PackageType.NPM, None, "lodash", "4.17.15", "MIT", "library")
    assert pkg.path == "app/node_modules/lodash/package.json"


def test_scoped_name_is_namespace() -> None:
    (pkg,) = parse("app/node_modules/@types/node/package.json", {"name": "@types/node", "version": "18.11.9"}).packages
    assert (pkg.namespace, pkg.name, pkg.version) == ("@types", "node", "18.11.9")


def test_application_candidate() -> None:
    (pkg,) = parse("app/package.json", {"name": "my-app", "version": "1.0.0", "private": True}).packages
    assert pkg.component_type == "application"


@pytest.mark.parametrize(("doc", "license"), [
    ({"license": "(MIT OR Apache-2.0)"}, "(MIT OR Apache-2.0)"),
    ({"license": {"type": "BSD", "url": "http://x"}}, "BSD"),
    ({"licenses": [{"type": "MIT"}, {"type": "GPL-2.0"}, {"type": "MIT"}]}, "MIT, GPL-2.0"),
    ({"licenses": ["ISC"]}, "ISC"),
    ({"license": "", "licenses": "MIT"}, None),
    ({"license": 7}, None),
    ({}, None),
])  # fmt: skip
def test_license_forms(doc: dict[str, object], license: str | None) -> None:
    (pkg,) = parse("node_modules/x/package.json", {"name": "x", "version": "1.0.0", **doc}).packages
    assert pkg.license == license


@pytest.mark.parametrize("doc", [
    {"name": "x"}, {"version": "1.0.0"}, {"name": "", "version": "1"}, {"name": "x", "version": 1},
    {"name": ["x"], "version": "1"}, {"name": "@scope", "version": "1"}, {"name": "a/b", "version": "1"},
    {"name": "@s/a/b", "version": "1"}, {"name": "x y", "version": "1"}, {"name": "x", "version": "1 2"},
    {"type": "module"},
])  # fmt: skip
def test_without_usable_name_or_version_is_skipped(doc: dict[str, object]) -> None:
    assert parse("node_modules/x/package.json", doc).packages == []


@pytest.mark.parametrize("data", [b"", b"{", b"[1, 2]", b'"x"', b"\xff\xfe{}", b"[" * 100_000 + b"]" * 100_000,
                                  b'{"name": "x", "version": "1", "n": 1' + b"1" * 5000 + b"}"])
def test_invalid_json(data: bytes) -> None:
    with pytest.raises(CatalogError):
        CATALOGER.parse("node_modules/x/package.json", io.BytesIO(data), len(data))


def test_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(LODASH).encode()
    record = CATALOGER.parse("node_modules/lodash/package.json", io.BytesIO(data), len(data))
    assert record is not None and [p.name for p in record.packages] == ["lodash"]


def test_split_name() -> None:
    assert split_name("@babel/core") == ("@babel", "core")
    assert split_name("core") == (None, "core")
    assert split_name("@babel/") is None and split_name("/x") is None and split_name(".x") is None


def _app(path: str) -> Package:
    return Package(type=PackageType.NPM, name="a", version="1", path=path, component_type="application")


def test_keep_applications() -> None:
    beside = _app("app/package.json")
    workdir = _app("srv/api/package.json")
    stray = _app("usr/share/doc/thing/package.json")
    root = _app("package.json")
    library = Package(type=PackageType.NPM, name="ms", version="2.0.0", path="app/node_modules/ms/package.json")
    other = Package(type=PackageType.PYPI, name="x", version="1", path="y", component_type="application")
    files = {"app/node_modules/ms/package.json": 1, "app/package.json": 1, "node_modules": 1,
             "srv/node_modules_backup/x": 1, "usr/share/doc/thing/package.json": 1}
    kept = keep_applications([beside, workdir, stray, root, library, other], files, "/srv/api/")
    assert kept == [beside, workdir, root, library, other]
    assert keep_applications([stray, library], files, None) == [library]
    assert keep_applications([library], {}, None) == [library]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_parse(CATALOGER, "node_modules/x/package.json", data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=edits)
def test_mutated_package_json(changes: list[tuple[int, bytes, int]]) -> None:
    check_parse(CATALOGER, "node_modules/lodash/package.json", apply_edits(json.dumps(LODASH).encode(), changes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=st.dictionaries(st.sampled_from(["name", "version", "license", "licenses", "x"]), json_values,
                           max_size=5))
def test_fields_of_any_type(doc: dict[str, object]) -> None:
    check_parse(CATALOGER, "app/package.json", json.dumps(doc).encode())
    assert parse_package_json(json.dumps(doc).encode(), "p") is None or isinstance(doc.get("name"), str)
