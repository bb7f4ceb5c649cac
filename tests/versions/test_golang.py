"""Go comparator against golang.org/x/mod/semver itself (built offline from Debian's golang-golang-x-mod-dev)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import golang
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, go_semver, ours, run_reference

EDGE_PAIRS = [
    ("v1", "v1.0.0"),
    ("1.2", "v1.2.0"),
    ("v1-pre", "v1.0.0"),
    ("v1.2-pre", "v1.2.0"),
    ("v01.0.0", "v1.0.0"),
    ("v1.0.0-01", "v1.0.0"),
    ("v1.0.0-0", "v1.0.0-00a"),
    ("v2.0.0+incompatible", "v2.0.0"),
    ("v1.0.0+", "v1.0.0"),
    ("v1.0.0+a..b", "v1.0.0"),
    ("vv1.0.0", "v1.0.0"),
    ("V1.0.0", "v1.0.0"),
    ("", "v0.0.0"),
    ("v", "v0.0.0"),
    ("v0.0.0-20210101000000-abcdef123456", "v0.0.0"),
    ("v1.2.4-0.20210101000000-abcdef123456", "v1.2.3"),
    ("v1.2.4-0.20210101000000-abcdef123456", "v1.2.4-pre"),
    ("v1.2.3-pre.0.20210101000000-abcdef123456", "v1.2.3-pre"),
    ("v123456789012345678901234567890.0.0", "v123456789012345678901234567891.0.0"),
]


def test_against_x_mod_semver() -> None:
    argv = go_semver()
    pairs = gen.pairs(6, gen.go_version, 5000, alphabet=gen.GO_ALPHABET) + EDGE_PAIRS
    expected = run_reference(argv, pairs)
    assert_agree("go", pairs, expected, ours(golang.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0.0.0-20210101000000-abcdef123456", "0.0.1", -1),
        ("1.2.4-0.20210101000000-abcdef123456", "1.2.3", 1),
        ("1.2.4-0.20210101000000-abcdef123456", "1.2.4", -1),
        ("1.2.4-0.20210101000000-abcdef123456", "1.2.4-0.20220101000000-abcdef123456", -1),
        ("2.0.0+incompatible", "2.0.0", 0),
        ("v1.2", "1.2.0", 0),
        ("1.21.0-rc.2", "1.21.0", -1),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert golang.compare(a, b) == expected
    assert golang.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "v", "1.2.3.4", "v01.2.3", "1.2-pre", "1.2.3-01", "1.2.3-", "1.2.3+", "V1.2.3"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        golang.compare(bad, "1.0.0")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = golang.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert golang.compare(b, a) == -result
