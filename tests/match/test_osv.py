"""OSV range evaluation: tables of ranges x installed versions, with the real comparators."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.match.osv import Verdict, check_version, evaluate, in_range
from imagescan.versions import InvalidVersion, comparator_for
from imagescan.vulndb.models import Range

PEP440 = comparator_for("PyPI")
DPKG = comparator_for("Debian:12")
NPM = comparator_for("npm")


def rng(*events: tuple[str, str], kind: str = "ECOSYSTEM") -> Range:
    return Range(type=kind, events=[{k: v} for k, v in events])


def verdict(version: str, ranges: list[Range], versions: list[str] | None = None, compare: Any = PEP440) -> Verdict:
    return evaluate(version, ranges, versions or [], compare)


INTRO_FIXED = [rng(("introduced", "1.0"), ("fixed", "1.5"))]


@pytest.mark.parametrize(("version", "affected"), [
    ("0.9", False), ("1.0", True), ("1.0.1", True), ("1.4.99", True), ("1.5", False), ("1.5.0", False), ("2.0", False),
    ("1.5rc1", True),  # a pre-release of the fix is still before it
])
def test_introduced_fixed(version: str, affected: bool) -> None:
    v = verdict(version, INTRO_FIXED)
    assert v.affected is affected and v.decidable
    assert v.fixed == ("1.5" if affected else None)


@pytest.mark.parametrize(("version", "affected"), [("0", True), ("0.0.1", True), ("99.0", True)])
def test_introduced_zero_is_the_beginning(version: str, affected: bool) -> None:
    v = verdict(version, [rng(("introduced", "0"))])
    assert v.affected is affected and v.fixed is None  # no fix known: not-fixed


@pytest.mark.parametrize(("version", "with_fixed", "with_last_affected"), [
    ("2.1.213", True, True),
    ("2.1.214", False, True),  # fixed: the fix itself is clean; last_affected: still affected
    ("2.1.215", False, False),
])
def test_last_affected_versus_fixed(version: str, with_fixed: bool, with_last_affected: bool) -> None:
    fixed = verdict(version, [rng(("introduced", "0"), ("fixed", "2.1.214"))])
    last = verdict(version, [rng(("introduced", "0"), ("last_affected", "2.1.214"))])
    assert fixed.affected is with_fixed
    assert last.affected is with_last_affected
    assert last.fixed is None  # last_affected names no fixed version


@pytest.mark.parametrize(("version", "affected"), [("0.5", True), ("1.9", True), ("2.0", False), ("3.0", False)])
def test_limit_bounds_the_range(version: str, affected: bool) -> None:
    assert verdict(version, [rng(("introduced", "0"), ("limit", "2.0"))]).affected is affected
    assert verdict(version, [rng(("introduced", "0"), ("limit", "*"))]).affected is True


def test_several_limits_any_one_bounds() -> None:
    ranges = [rng(("introduced", "0"), ("limit", "1.0"), ("limit", "3.0"))]
    assert verdict("2.0", ranges).affected
    assert not verdict("3.0", ranges).affected


MULTI = [rng(("introduced", "1.0.0"), ("fixed", "1.0.2"), ("introduced", "3.0.0"), ("fixed", "3.2.5"), kind="SEMVER")]


@pytest.mark.parametrize(("version", "affected", "fixed"), [
    ("0.9.0", False, None), ("1.0.0", True, "1.0.2"), ("1.0.1", True, "1.0.2"), ("1.0.2", False, None),
    ("2.5.0", False, None), ("3.0.0", True, "3.2.5"), ("3.2.4", True, "3.2.5"), ("3.2.5", False, None),
])
def test_several_introduced_fixed_pairs_in_one_range(version: str, affected: bool, fixed: str | None) -> None:
    v = evaluate(version, MULTI, [], NPM)
    assert (v.affected, v.fixed) == (affected, fixed)


def test_events_are_sorted_before_walking() -> None:
    shuffled = [rng(("fixed", "3.2.5"), ("introduced", "3.0.0"), ("fixed", "1.0.2"), ("introduced", "1.0.0"))]
    for version in ("0.9.0", "1.0.1", "2.0.0", "3.1.0", "4.0.0"):
        assert evaluate(version, shuffled, [], NPM).affected == evaluate(version, MULTI, [], NPM).affected


def test_any_range_affects_and_smallest_fix_across_ranges() -> None:
    ranges = [rng(("introduced", "2.0"), ("fixed", "2.5")), rng(("introduced", "0"), ("fixed", "1.5"))]
    v = verdict("1.2", ranges)
    assert v.affected and v.fixed == "1.5"  # the smallest fixed version above 1.2, from the second range
    assert verdict("2.1", ranges).fixed == "2.5"
    assert not verdict("1.7", ranges).affected
    assert verdict("1.7", ranges).decidable


def test_overlapping_ranges_fix_must_clear_all() -> None:
    ranges = [rng(("introduced", "0"), ("fixed", "2.0")), rng(("introduced", "1.0"), ("fixed", "1.8"))]
    assert verdict("1.2", ranges).fixed == "2.0"  # 1.8 is still inside the first range


def test_fix_that_a_later_range_reintroduces_is_skipped() -> None:
    ranges = [rng(("introduced", "0"), ("fixed", "1.2")), rng(("introduced", "1.2"), ("fixed", "1.4"))]
    v = verdict("1.0", ranges)
    assert v.affected and v.fixed == "1.4"  # 1.2 is inside the second range


def test_versions_list() -> None:
    v = verdict("2.20", [], ["2.19.0", "2.20.0"])
    assert v.affected and v.fixed is None  # PEP 440: 2.20 == 2.20.0
    assert not verdict("2.21.0", [], ["2.19.0", "2.20.0"]).affected
    assert verdict("2.21.0", [], ["2.19.0", "2.20.0"]).decidable
    assert verdict("1.0", [], ["not a version!", "1.0"]).affected  # a refused entry does not spoil the list


def test_versions_list_and_ranges_combine() -> None:
    v = verdict("0.5", INTRO_FIXED, ["0.5"])
    assert v.affected and v.fixed == "1.5"


def test_git_only_cannot_tell() -> None:
    git = [Range(type="GIT", repo="https://example.invalid/repo",
                 events=[{"introduced": "0"}, {"fixed": "a" * 40}])]
    assert verdict("1.0", git) == Verdict(affected=False, decidable=False)
    assert verdict("1.0", git, ["1.0"]).affected  # with a versions list it can tell
    assert verdict("1.1", git, ["1.0"]).decidable
    assert verdict("1.2", [*git, *INTRO_FIXED]).affected  # GIT ignored, ECOSYSTEM decides
    assert verdict("2.0", [*git, *INTRO_FIXED]).decidable


def test_refused_event_version_makes_the_range_undecidable() -> None:
    broken = [rng(("introduced", "0"), ("fixed", "not a version!"))]
    v = verdict("1.0", broken)
    assert not v.affected and not v.decidable and v.broken
    both = verdict("1.2", [*broken, *INTRO_FIXED])
    assert both.affected and both.fixed == "1.5"  # another range still decides "affected"
    assert not verdict("2.0", [*broken, *INTRO_FIXED]).decidable  # but never a confident "not affected"


def test_semver_ranges_use_the_semver_comparator() -> None:
    ranges = [rng(("introduced", "0"), ("fixed", "1.16.1"), kind="SEMVER")]
    go = comparator_for("Go")
    assert evaluate("1.16.0", ranges, [], comparator_for("PyPI"), go).affected
    assert not evaluate("v1.16.1", ranges, [], go, go).affected


def test_dpkg_epochs_and_tildes() -> None:
    ranges = [rng(("introduced", "0"), ("fixed", "3.0.16-1~deb12u1"))]
    assert evaluate("3.0.15-1~deb12u1", ranges, [], DPKG).fixed == "3.0.16-1~deb12u1"
    assert not evaluate("3.0.16-1", ranges, [], DPKG).affected  # ~deb12u1 sorts before -1
    assert not evaluate("1:1.0-1", ranges, [], DPKG).affected  # an epoch outranks any version


def test_in_range_raises_on_refused_event() -> None:
    with pytest.raises(InvalidVersion):
        in_range("1.0", [{"introduced": "0"}, {"fixed": "###"}], NPM)


def test_check_version() -> None:
    check_version("1.2.3", NPM)
    with pytest.raises(InvalidVersion):
        check_version("latest", NPM)


VERSION_TEXT = st.text(alphabet="0123456789.-+~:abrcv", min_size=1, max_size=12)
EVENT = st.tuples(st.sampled_from(["introduced", "fixed", "last_affected", "limit"]), VERSION_TEXT)


@settings(max_examples=300, deadline=None)
@given(version=VERSION_TEXT, events=st.lists(EVENT, max_size=6), listed=st.lists(VERSION_TEXT, max_size=3),
       scheme=st.sampled_from(["PyPI", "npm", "Debian:12", "Go", "Maven", "Alpine:v3.18", "Amazon Linux:2023"]))
def test_random_ranges_never_raise(version: str, events: list[tuple[str, str]], listed: list[str], scheme: str) -> None:
    compare = comparator_for(scheme)
    try:
        check_version(version, compare)
    except InvalidVersion:
        return  # the matcher notes such a package instead of evaluating it
    ranges = [rng(("introduced", "0"), *events), rng(*events, kind="SEMVER")]
    v = evaluate(version, ranges, listed, compare, comparator_for("npm"))
    assert isinstance(v.affected, bool)
    if v.fixed is not None:
        assert v.affected
