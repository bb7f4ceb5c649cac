"""rpm comparator against rpm's own Python bindings (rpmvercmp through labelCompare, EVR through rpm.ver)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import rpm
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import PROGRAMS, assert_agree, ours, run_reference, system_python_with


def test_vercmp_against_rpm() -> None:
    argv = system_python_with("rpm")
    pairs = gen.pairs(3, gen.rpm_version, 4000, alphabet=gen.RPM_ALPHABET + "é ")
    expected = run_reference([*argv, str(PROGRAMS / "ref_rpm.py"), "vercmp"], pairs)
    assert_agree("rpmvercmp", pairs, expected, ours(rpm.vercmp, pairs), min_ordered=1.0)


def test_evr_against_rpm() -> None:
    argv = system_python_with("rpm")
    pairs = gen.pairs(4, gen.rpm_evr, 4000, alphabet=gen.RPM_ALPHABET)
    pairs += [("1.0", "1.0-1"), ("0:1.0-1", "1.0-1"), (":1.0", "0:1.0"), ("1:1.0", "1.0"), ("a:1.0", "1.0")]
    answers = run_reference([*argv, str(PROGRAMS / "ref_rpm.py"), "evr"], pairs)
    # rpm refuses to compare an EVR whose version part is empty ("1:", "-1"); we order it like rpmvercmp does.
    refused = [pair for pair, answer in zip(pairs, answers, strict=True) if answer == "N"]
    assert all("" in (rpm.split_evr(a)[1], rpm.split_evr(b)[1]) for a, b in refused)
    assert len(refused) < len(pairs) // 20
    kept = [(pair, answer) for pair, answer in zip(pairs, answers, strict=True) if answer != "N"]
    pairs, expected = [p for p, _ in kept], [e for _, e in kept]
    assert_agree("rpm EVR", pairs, expected, ours(rpm.compare_evr, pairs), min_ordered=1.0)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),
        ("1.0~rc1", "1.0~rc2", -1),
        ("1.0", "1.0^git1", -1),
        ("1.0^git1", "1.0.1", -1),
        ("1.0^", "1.0", 1),
        ("1.0a", "1.0^", 1),
        ("1.0", "1.0a", -1),
        ("1.a", "1.1", -1),
        ("1.0", "1_0", 0),
        ("1.0.", "1.0", 0),
        ("001", "1", 0),
        ("2.el8", "10.el8", -1),
        ("1.0~~", "1.0~", -1),
    ],
)
def test_vercmp_known(a: str, b: str, expected: int) -> None:
    assert rpm.vercmp(a, b) == expected
    assert rpm.vercmp(b, a) == -expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1:1.0-1", "2.0-1", 1),
        ("0:1.0-1", "1.0-1", 0),
        ("1.0-1.el8", "1.0-1.el8_9", -1),
        ("1.0", "1.0-1", -1),
        ("2.17-326.el7_9.3", "2.17-326.el7_9", 1),
        ("1:2.0", "1:2.0-0", -1),
    ],
)
def test_evr_known(a: str, b: str, expected: int) -> None:
    assert rpm.compare_evr(a, b) == expected
    assert rpm.compare(b, a) == -expected


def test_split_evr() -> None:
    assert rpm.split_evr("1:2.3-4.el8") == ("1", "2.3", "4.el8")
    assert rpm.split_evr("2.3") == (None, "2.3", None)
    assert rpm.split_evr(":2.3-1-2") == ("0", "2.3-1", "2")
    assert rpm.split_evr("a:2.3") == (None, "a:2.3", None)


def test_nul_refused() -> None:
    with pytest.raises(InvalidVersion):
        rpm.compare("1\0", "1")


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30))
def test_any_text_is_a_total_order(a: str, b: str, c: str) -> None:
    try:
        ab, bc, ac = rpm.compare(a, b), rpm.compare(b, c), rpm.compare(a, c)
    except InvalidVersion:
        assert "\0" in a + b + c
        return
    assert rpm.compare(b, a) == -ab
    if ab <= 0 and bc <= 0:
        assert ac <= 0
