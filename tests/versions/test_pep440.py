"""PEP 440 comparator: a cached wrapper of ``packaging`` (the reference); checked against pip's vendored copy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import pep440
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import assert_agree, ours

pip_version = pytest.importorskip("pip._vendor.packaging.version")


def _pip_reference(a: str, b: str) -> str:
    try:
        va = pip_version.Version(a)
    except ValueError:
        return "EA"
    try:
        vb = pip_version.Version(b)
    except ValueError:
        return "EB"
    return str((va > vb) - (va < vb))


def test_against_pip_vendored_packaging() -> None:
    pairs = gen.pairs(12, gen.pep440_version, 3000, alphabet=gen.PEP440_ALPHABET)
    expected = [_pip_reference(a, b) for a, b in pairs]
    assert_agree("pep440", pairs, expected, ours(pep440.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0.dev0", "1.0a1", -1),
        ("1.0a1", "1.0b1", -1),
        ("1.0b1", "1.0rc1", -1),
        ("1.0rc1", "1.0", -1),
        ("1.0", "1.0.post1", -1),
        ("1.0.post1", "1.0.1", -1),
        ("1!0.1", "2.0", 1),
        ("1.0+local", "1.0", 1),
        ("1.0RC1", "1.0rc1", 0),
        ("v1.0", "1.0", 0),
        ("1.0-1", "1.0.post1", 0),
        ("1.0", "1.0.0", 0),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert pep440.compare(a, b) == expected
    assert pep440.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "2004d", "1.0-foo", "1.0+", "french toast", "1" * 5000])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        pep440.compare(bad, "1.0")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = pep440.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert pep440.compare(b, a) == -result
