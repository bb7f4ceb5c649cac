"""Cargo comparator against the semver crate itself (Debian's librust-semver-dev, built offline with cargo)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import cargo
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, cargo_semver, ours, run_reference

EDGE_PAIRS = [
    ("18446744073709551615.0.0", "18446744073709551614.0.0"),
    ("18446744073709551616.0.0", "1.0.0"),
    ("1.0.0-0", "1.0.0-00"),
    ("1.0.0+001", "1.0.0"),
    ("1.0.0-a.", "1.0.0"),
    ("1.0.0-", "1.0.0"),
    ("1.0.0+", "1.0.0"),
    ("v1.0.0", "1.0.0"),
    (" 1.0.0", "1.0.0"),
    ("1.0.0-\u03b1", "1.0.0"),
    ("1.0.0-99999999999999999999999", "1.0.0-99999999999999999999998"),
]


def test_against_semver_crate() -> None:
    argv = cargo_semver()
    pairs = gen.pairs(10, gen.cargo_version, 5000, alphabet=gen.SEMVER_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("cargo", pairs, expected, ours(cargo.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        *gen.SEMVER_SPEC_ORDER,
        ("1.0.0+a", "1.0.0+b", 0),
    ],
)
def test_semver_spec_order(a: str, b: str, expected: int) -> None:
    assert cargo.compare(a, b) == expected
    assert cargo.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0 ", "1.0.0.0"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        cargo.compare(bad, "1.0.0")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = cargo.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert cargo.compare(b, a) == -result
