"""OSV range semantics: is one installed version affected by one advisory entry, and which version fixes it.

This follows the evaluation of the OSV schema (``IsVulnerable``), with the database's entry layout
(:class:`imagescan.vulndb.models.Advisory`: ``ranges`` and ``versions``):

* a version is affected when it is listed in ``versions`` (equal as a string, or equal under the ecosystem's
  comparison: PEP 440 ``2.20`` is ``2.20.0``) or lies inside **any** range;
* inside one range, events are sorted by version (``introduced: "0"`` sorts before every version; events of
  equal version keep the order given) and walked: ``introduced`` at or below the version makes it affected,
  ``fixed`` at or below it makes it unaffected, ``last_affected`` below it makes it unaffected;
* ``limit`` events bound the range: when a range has any, the version must be below one of them (``"*"`` is
  infinity);
* ``SEMVER`` ranges compare with SemVer 2.0 (the ecosystem's own comparator where the ecosystem *is* SemVer:
  npm, Go, crates.io), ``ECOSYSTEM`` ranges with the ecosystem's comparator, and ``GIT`` ranges hold commits:
  they cannot be evaluated against a version and are ignored. An entry whose only data is ``GIT`` ranges (no
  ``versions`` list) cannot tell: :attr:`Verdict.decidable` is False.

A range whose event version the comparator refuses (bad advisory data) is skipped and reported in
:attr:`Verdict.broken`: when no other range or listed version decides, the verdict is undecidable, never a
silent "not affected". The installed version must have been validated by the caller (:func:`check_version`).

The fix: the smallest ``fixed`` event above the installed version, across all ranges, that is not itself
affected by the entry (a later range may re-introduce the flaw); None when there is none (only
``last_affected``, or no upper bound at all).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from imagescan.versions import Comparator, InvalidVersion
from imagescan.vulndb.models import Range

EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


@dataclass(frozen=True)
class Verdict:
    affected: bool
    fixed: str | None = None
    """The smallest fixing version above the installed one (only when affected)."""
    decidable: bool = True
    """False for "not affected" verdicts that cannot be trusted: nothing in the entry could be evaluated (only GIT
    ranges, no ``versions`` list), or a range had to be skipped."""
    broken: tuple[str, ...] = field(default=())
    """Why ranges were skipped (an event version the comparator refuses)."""


def check_version(version: str, compare: Comparator) -> None:
    """Raise :class:`InvalidVersion` when ``compare`` refuses ``version``. Call once per installed version."""
    compare(version, version)


def _event(event: dict[str, str]) -> tuple[str, str] | None:
    for kind in EVENT_KINDS:
        if kind in event:
            return kind, event[kind]
    return None


def _is_zero(kind: str, value: str) -> bool:
    return kind == "introduced" and value == "0"


def _is_infinity(kind: str, value: str) -> bool:
    return kind == "limit" and "*" in value


def _sorted_events(events: list[tuple[str, str]], compare: Comparator) -> list[tuple[str, str]]:
    def order(a: tuple[str, str], b: tuple[str, str]) -> int:
        a_low, b_low = _is_zero(*a), _is_zero(*b)
        a_high, b_high = _is_infinity(*a), _is_infinity(*b)
        if a_low or b_low or a_high or b_high:
            return (b_low - a_low) or (a_high - b_high)
        return compare(a[1], b[1])

    return sorted(events, key=functools.cmp_to_key(order))  # stable: equal versions keep the given order


def in_range(version: str, events: Sequence[dict[str, str]], compare: Comparator) -> bool:
    """True when ``version`` lies inside one range's events. Raises :class:`InvalidVersion` when an event version
    is refused by ``compare``."""
    parsed = [e for e in (_event(dict(ev)) for ev in events) if e is not None]
    limits = [value for kind, value in parsed if kind == "limit"]
    if limits and not any("*" in value or compare(version, value) < 0 for value in limits):
        return False
    affected = False
    for kind, value in _sorted_events([e for e in parsed if e[0] != "limit"], compare):
        if kind == "introduced":
            if value == "0" or compare(version, value) >= 0:
                affected = True
        elif kind == "fixed":
            if compare(version, value) >= 0:
                affected = False
        elif compare(version, value) > 0:  # last_affected
            affected = False
    return affected


def _listed(version: str, versions: Sequence[str], compare: Comparator) -> bool:
    if version in versions:
        return True
    for listed in versions:
        try:
            if compare(version, listed) == 0:
                return True
        except InvalidVersion:
            continue  # a listed string the comparator refuses cannot be equal to a valid version
    return False


def _affected(
    version: str, ranges: Sequence[Range], versions: Sequence[str], compare: Comparator, semver: Comparator
) -> tuple[bool, int, list[str]]:
    """(affected, evaluable ranges/lists, why ranges were skipped)."""
    evaluable = 1 if versions else 0
    if versions and _listed(version, versions, compare):
        return True, evaluable, []
    broken: list[str] = []
    for rng in ranges:
        kind = rng.type.upper()
        if kind == "GIT":
            continue
        cmp = semver if kind == "SEMVER" else compare
        try:
            inside = in_range(version, rng.events, cmp)
        except InvalidVersion as exc:
            broken.append(f"{kind} range: {exc}")
            continue
        evaluable += 1
        if inside:
            return True, evaluable, broken
    return False, evaluable, broken


def _fix(
    version: str, ranges: Sequence[Range], versions: Sequence[str], compare: Comparator, semver: Comparator
) -> str | None:
    candidates: list[str] = []
    for rng in ranges:
        kind = rng.type.upper()
        if kind == "GIT":
            continue
        cmp = semver if kind == "SEMVER" else compare
        for event in rng.events:
            fixed = event.get("fixed")
            if fixed is None or fixed in candidates:
                continue
            try:
                if cmp(fixed, version) > 0:
                    candidates.append(fixed)
            except InvalidVersion:
                continue
    if not candidates:
        return None

    def order(a: str, b: str) -> int:
        try:
            return compare(a, b)
        except InvalidVersion:
            return semver(a, b)

    try:
        candidates.sort(key=functools.cmp_to_key(order))
    except InvalidVersion:
        candidates.sort()
    for candidate in candidates:
        try:
            still, _, _ = _affected(candidate, ranges, versions, compare, semver)
        except InvalidVersion:
            still = False
        if not still:
            return candidate
    return candidates[-1]


def evaluate(
    version: str,
    ranges: Sequence[Range],
    versions: Sequence[str],
    compare: Comparator,
    semver: Comparator | None = None,
) -> Verdict:
    """Whether ``version`` (already validated) is affected by an entry with these ``ranges`` and ``versions``,
    and the version that fixes it. ``semver`` compares ``SEMVER`` ranges (default: ``compare``)."""
    semver = semver or compare
    affected, evaluable, broken = _affected(version, ranges, versions, compare, semver)
    if affected:
        return Verdict(True, _fix(version, ranges, versions, compare, semver), True, tuple(broken))
    return Verdict(False, None, evaluable > 0 and not broken, tuple(broken))
