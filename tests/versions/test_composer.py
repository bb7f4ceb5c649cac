"""Composer comparator against composer/semver itself (Debian's php-composer-semver, run by php)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import composer
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, composer_semver, ours, run_reference

EDGE_PAIRS = [
    ("1.0", "1.0.0.0"),
    ("v1.0.0", "1.0.0"),
    ("1.0.0-stable", "1.0.0"),
    ("1.0.0-STABLE", "1.0.0"),
    ("1.0.0-stable-dev", "1.0.0"),
    ("1.0.0-beta.1.2", "1.0.0-beta1"),
    ("1.0.0-beta-1", "1.0.0-beta.1"),
    ("1.0.0-p1", "1.0.0-patch1"),
    ("1.0.0-pl1", "1.0.0"),
    ("1.0.0-dev", "1.0.0-alpha"),
    ("1.0.0-alpha1-dev", "1.0.0-alpha1"),
    ("1.0.x-dev", "1.0.9999999"),
    ("2.*-dev", "2.9999999.9999999.9999999"),
    ("1.0@dev", "1.0"),
    ("1.0.0+build.5", "1.0.0"),
    ("1.0.0 as 2.0.0", "1.0.0"),
    ("20100102", "2010.01.02"),
    ("2010-01-02-beta2", "20100102"),
    ("2010.01.02.5", "2010.01.02"),
    ("99999.0", "100000.0"),
    ("1.99999999999999999999", "1.99999999999999999998"),
    ("master", "1.0"),
    ("dev-main", "1.0"),
    ("1.0.0.0.0", "1.0"),
    ("1.0-\n", "1.0"),
    ("1.0\0", "1.0"),
    ("\x001.0", "1.0"),
    (" 1.0 ", "1.0"),
    ("1.0RC1", "1.0-rc1"),
    ("1.0a", "1.0-alpha"),
    ("1.0b2", "1.0.0-beta2"),
]


def test_against_composer_semver() -> None:
    argv = composer_semver()
    pairs = gen.pairs(9, gen.composer_version, 5000, alphabet=gen.COMPOSER_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("composer", pairs, expected, ours(composer.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.0-dev", "1.0.0-alpha1", -1),
        ("1.0.0-alpha1", "1.0.0-beta1", -1),
        ("1.0.0-beta1", "1.0.0-RC1", -1),
        ("1.0.0-RC1", "1.0.0", -1),
        ("1.0.0", "1.0.0-patch1", -1),
        ("v2.1", "2.1.0.0", 0),
        ("1.10", "1.9", 1),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert composer.compare(a, b) == expected
    assert composer.compare(b, a) == -expected


def test_normalize() -> None:
    assert composer.normalize("1.2b3") == "1.2.0.0-beta3"
    assert composer.normalize("1.0-p1") == "1.0.0.0-patch1"
    assert composer.normalize("1.x-dev") == "1.9999999.9999999.9999999-dev"
    assert composer.normalize("dev-main") == "dev-main"


@pytest.mark.parametrize("bad", ["", "master", "dev-main", "1.0.0.0.0", "foo", "1.0-foo", "1.0.0-beta1.", "1.0 1"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        composer.compare(bad, "1.0")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = composer.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert composer.compare(b, a) == -result
