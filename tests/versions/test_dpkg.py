"""dpkg comparator against apt_pkg (thousands of pairs) and dpkg itself (hundreds, including refused strings)."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imagescan.versions import dpkg
from imagescan.versions.base import InvalidVersion
from tests.versions import generators as gen
from tests.versions.references import PROGRAMS, assert_agree, missing, ours, run_reference, system_python_with


def test_against_apt_pkg() -> None:
    argv = system_python_with("apt_pkg")
    pairs = gen.pairs(1, gen.dpkg_version, 4000, alphabet=gen.DPKG_ALPHABET)
    # apt_pkg does not validate, so only compare what dpkg accepts (refusals are checked against dpkg below).
    pairs = [(a, b) for a, b in pairs if ours(dpkg.compare, [(a, b)])[0] not in ("EA", "EB") and " " not in a + b]
    expected = run_reference([*argv, str(PROGRAMS / "ref_apt.py")], pairs)
    assert_agree("dpkg/apt_pkg", pairs, expected, ours(dpkg.compare, pairs), min_ordered=1.0)


def _dpkg_reference(a: str, b: str) -> str:
    """``dpkg --compare-versions``: lt / eq answers, or EA / EB when dpkg reports bad syntax."""
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], capture_output=True, text=True, check=False)
    if lt.returncode not in (0, 1):
        return "EA" if f"'{a}' has bad syntax" in lt.stderr else "EB"
    if lt.returncode == 0:
        return "-1"
    eq = subprocess.run(["dpkg", "--compare-versions", a, "eq", b], capture_output=True, check=False)
    return "0" if eq.returncode == 0 else "1"


def test_against_dpkg_itself() -> None:
    if shutil.which("dpkg") is None:
        missing("dpkg")
    rng = random.Random(2)
    pairs = gen.pairs(2, gen.dpkg_version, 300, alphabet=gen.DPKG_ALPHABET + "é\t")
    pairs += [
        ("1.0", " 1.0 "), ("1:", "1"), ("a:1", "1"), ("+1:1", "1:1"), ("1.0-", "1"), ("1 0", "1"),
        ("99999999999:1", "1"), ("2147483647:1", "2147483648:1"), ("0:1-", "1"), ("1:-1", "1"), ("1-1-", "1"),
        ("1.0é", "1.0a"), ("1.0é", "1.0+"), ("1\t", "1"), ("\t1", "1"), ("1.0~~", "1.0~~a"), ("a", "1"),
    ]  # fmt: skip
    # dpkg treats an empty string as "no version" rather than an error, and takes "-..." for an option.
    pairs = [(a, b) for a, b in pairs if a.strip(" \t") and b.strip(" \t") and "-" not in (a[:1], b[:1])]
    rng.shuffle(pairs)
    expected = [_dpkg_reference(a, b) for a, b in pairs]
    assert_agree("dpkg", pairs, expected, ours(dpkg.compare, pairs), min_ordered=0.5)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),
        ("1.0~~", "1.0~", -1),
        ("1.0", "1.0+b1", -1),
        ("1.0a", "1.0+", -1),
        ("1:0.9", "2.0", 1),
        ("0:1.0", "1.0", 0),
        ("1.0", "1.0-0", 0),
        ("1.0-1", "1.0-1ubuntu1", -1),
        ("2.30-1~bpo11+1", "2.30-1", -1),
        ("1.01", "1.1", 0),
        ("1a", "1a0", 0),
        ("7.6p1-4", "7.6-4", 1),
        ("1.2.3-4+deb12u1", "1.2.3-4+deb12u2", -1),
        ("1:2.0-1", "1:2.0-1", 0),
        (" 1.0 ", "1.0", 0),
        ("1.0-a-b", "1.0-a", 1),
    ],
)
def test_known_orderings(a: str, b: str, expected: int) -> None:
    assert dpkg.compare(a, b) == expected
    assert dpkg.compare(b, a) == -expected


@pytest.mark.parametrize("bad", ["", "   ", "1 0", "a:1", "-1:1", "1:", "1.0-", ":1", "99999999999:1", "1:-1", "1\0"])
def test_refused(bad: str) -> None:
    with pytest.raises(InvalidVersion):
        dpkg.compare(bad, "1")


@given(st.text(max_size=30), st.text(max_size=30))
def test_any_text_compares_or_is_refused(a: str, b: str) -> None:
    try:
        result = dpkg.compare(a, b)
    except InvalidVersion:
        return
    assert result in (-1, 0, 1)
    assert dpkg.compare(b, a) == -result
    assert dpkg.compare(a, a) == 0
