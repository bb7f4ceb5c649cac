"""The Composer cataloger: vendor/composer/installed.json in Composer 1 and Composer 2 formats."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.php import ComposerCataloger, parse_installed_json
from imagescan.models import PackageType, PathRecord
from tests.catalog.mutate import apply_edits, check_parse, edits, json_values

CATALOGER = ComposerCataloger()
PATH = "var/www/html/vendor/composer/installed.json"
# Entries as Composer writes them (trimmed to the fields that matter plus a few it always writes).
ENTRIES: list[dict[str, Any]] = [
    {"name": "monolog/monolog", "version": "2.3.5", "version_normalized": "2.3.5.0",
     "source": {"type": "git", "url": "https://github.com/Seldaek/monolog.git", "reference": "fd4380d"},
     "require": {"php": ">=7.2", "psr/log": "^1.0.1"}, "type": "library", "license": ["MIT"],
     "install-path": "../monolog/monolog"},
    {"name": "symfony/polyfill-mbstring", "version": "v1.23.1", "version_normalized": "1.23.1.0",
     "type": "library", "license": ["MIT"], "install-path": "../symfony/polyfill-mbstring"},
    {"name": "phpunit/php-timer", "version": "5.0.3", "license": ["BSD-3-Clause", "MIT"]},
    {"name": "acme/legacy", "version": "dev-main", "license": "proprietary"},
]  # fmt: skip


def parse(doc: object, path: str = PATH) -> PathRecord:
    data = json.dumps(doc).encode()
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "composer" and record.path == path
    return record


@pytest.mark.parametrize(("path", "wanted"), [
    (PATH, True), ("vendor/composer/installed.json", True), ("app/lib/composer/installed.json", True),
    ("vendor/composer/installed.php", False), ("vendor/installed.json", False), ("composer.lock", False),
    ("vendor/composer/installed.json.bak", False),
])  # fmt: skip
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


def _rows(record: PathRecord) -> list[tuple[Any, ...]]:
    return [(p.type, p.namespace, p.name, p.version, p.license, p.path) for p in record.packages]


EXPECTED = [
    (PackageType.COMPOSER, "monolog", "monolog", "2.3.5", "MIT", PATH),
    (PackageType.COMPOSER, "symfony", "polyfill-mbstring", "v1.23.1", "MIT", PATH),
    (PackageType.COMPOSER, "phpunit", "php-timer", "5.0.3", "BSD-3-Clause, MIT", PATH),
    (PackageType.COMPOSER, "acme", "legacy", "dev-main", "proprietary", PATH),
]


def test_composer2_format() -> None:
    record = parse({"packages": ENTRIES, "dev": True, "dev-package-names": ["phpunit/php-timer"]})
    assert _rows(record) == EXPECTED and record.notes == []


def test_composer1_format() -> None:
    assert _rows(parse(ENTRIES)) == EXPECTED


def test_bad_entries_are_noted_and_skipped() -> None:
    record = parse({"packages": [ENTRIES[0], "x", {"name": "a/b"}, {"name": "a/b", "version": 1},
                                 {"name": "/b", "version": "1"}, {"name": "a/b/c", "version": "1"},
                                 {"name": "a b", "version": "1"}, {"name": "solo", "version": "1.0"}]})
    assert [(p.namespace, p.name) for p in record.packages] == [("monolog", "monolog"), (None, "solo")]
    assert len(record.notes) == 6


def test_notes_are_capped() -> None:
    record = parse({"packages": [{}] * 100})
    assert record.packages == [] and len(record.notes) == 21 and record.notes[-1].startswith("80 more")


@pytest.mark.parametrize("doc", [{"packages": {}}, {"other": []}, "text", 3, None])
def test_not_installed_json(doc: object) -> None:
    with pytest.raises(CatalogError):
        parse(doc)


def test_invalid_json() -> None:
    with pytest.raises(CatalogError):
        parse_installed_json(b"{\"packages\": [", PATH)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check_parse(CATALOGER, PATH, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=edits)
def test_mutated_installed_json(changes: list[tuple[int, bytes, int]]) -> None:
    check_parse(CATALOGER, PATH, apply_edits(json.dumps({"packages": ENTRIES}).encode(), changes))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values | st.fixed_dictionaries({"packages": st.lists(
    st.dictionaries(st.sampled_from(["name", "version", "license"]), json_values, max_size=3), max_size=4)}))
def test_documents_of_any_shape(doc: object) -> None:
    check_parse(CATALOGER, PATH, json.dumps(doc).encode())
