"""Fix guidance: what to upgrade, to which version, and what that fixes.

Vulnerability findings are grouped by the thing a user upgrades: one installed copy of a language package (type,
name, version, path), or one source package of the distribution at one version (``libssl3`` and ``openssl`` from
the ``openssl`` source upgrade together, to versions built from the same source). For each group with at least
one fixable finding: "upgrade X from A to B fixes N vulnerabilities (M known exploited)", where B is the smallest
version that fixes all of the group's fixable findings: the highest of their ``fixed_version`` (each finding's
fixed version is already the smallest one that fixes it). This assumes a fix, once made, stays in later versions
of the line, which is how fixed versions are published; a regression re-introduced later would be a new advisory.

Versions are on the scale advisories use: a Debian source version (``source_version`` of the findings) when it
differs from the binary's. Guidance is computed from the findings alone, so it follows ``--severity`` filters and
works the same for an image and for a re-matched SBOM.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from packageurl import PackageURL
from pydantic import BaseModel, ConfigDict

from imagescan.findings import Finding, Severity, VulnerabilityFinding
from imagescan.versions import Comparator, InvalidVersion, UnknownEcosystem, comparator_for


class FixGuidance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package: str
    """What to upgrade: the source package of OS packages built from another source, else the package."""
    packages: list[str]
    """The installed packages it covers (binary packages of one source, or the one language package)."""
    type: str
    """purl type (``deb``, ``pypi``...)."""
    path: str | None = None
    installed_version: str
    fixed_version: str
    fixes: int
    """Distinct vulnerabilities the upgrade fixes."""
    known_exploited: int
    """How many of those are in CISA KEV."""
    highest_severity: Severity
    vulnerabilities: list[str]
    """The vulnerability ids fixed, most severe first."""
    unfixed: int = 0
    """Vulnerabilities of these packages that have no fix yet (``not-fixed``, ``wont-fix``, ``end-of-life``)."""
    text: str
    """The advice in one line."""


def _purl_type(purl: str) -> str:
    try:
        return str(PackageURL.from_string(purl).type)
    except ValueError:
        return purl.removeprefix("pkg:").split("/", 1)[0]


def _compare(purl_type: str) -> Comparator | None:
    try:
        return comparator_for(purl_type)
    except UnknownEcosystem:
        return None


def highest_version(versions: Iterable[str], compare: Comparator | None) -> str:
    """The highest of ``versions`` under ``compare`` (string order where a version is refused)."""

    def order(a: str, b: str) -> int:
        if compare is not None:
            try:
                return compare(a, b)
            except InvalidVersion:
                pass
        return (a > b) - (a < b)

    return max(versions, key=functools.cmp_to_key(order))


def _plural(n: int) -> str:
    return f"{n} vulnerabilit{'y' if n == 1 else 'ies'}"


def _text(entry: FixGuidance) -> str:
    names = ", ".join(entry.packages)
    if entry.packages != [entry.package]:
        names += f" (source {entry.package})"
    text = f"upgrade {names} from {entry.installed_version} to {entry.fixed_version} fixes {_plural(entry.fixes)}"
    extra = [f"{entry.known_exploited} known exploited"] if entry.known_exploited else []
    extra.append(f"highest {entry.highest_severity.value}")
    if entry.unfixed:
        extra.append(f"{_plural(entry.unfixed)} left without a fix")
    return f"{text} ({', '.join(extra)})"


def fix_guidance(findings: Sequence[Finding]) -> list[FixGuidance]:
    """One entry per upgradable package (see the module documentation), most urgent first: known exploited
    vulnerabilities fixed, then highest severity, then number fixed."""
    groups: dict[tuple[str, str, str, str], list[VulnerabilityFinding]] = {}
    for f in findings:
        if isinstance(f, VulnerabilityFinding):
            key = (_purl_type(f.purl), f.source_package or f.package_name, f.source_version or f.installed_version,
                   f.path or "")
            groups.setdefault(key, []).append(f)
    out: list[FixGuidance] = []
    for (purl_type, package, installed, path), members in groups.items():
        fixable = [f for f in members if f.fix_state == "fixed" and f.fixed_version]
        if not fixable:
            continue
        fixed_ids = {f.vulnerability_id for f in fixable}
        by_id: dict[str, VulnerabilityFinding] = {}
        for f in sorted(fixable, key=lambda f: (f.severity.rank, not f.known_exploited)):
            by_id.setdefault(f.vulnerability_id, f)  # the most severe copy of each vulnerability
        ordered = sorted(by_id.values(), key=lambda f: (f.severity.rank, not f.known_exploited, f.vulnerability_id))
        entry = FixGuidance(
            package=package,
            packages=sorted({f.package_name for f in members}),
            type=purl_type,
            path=path or None,
            installed_version=installed,
            fixed_version=highest_version((f.fixed_version for f in fixable if f.fixed_version), _compare(purl_type)),
            fixes=len(fixed_ids),
            known_exploited=len({f.vulnerability_id for f in fixable if f.known_exploited}),
            highest_severity=min((f.severity for f in fixable), key=lambda s: s.rank),
            vulnerabilities=[f.vulnerability_id for f in ordered],
            unfixed=len({f.vulnerability_id for f in members} - fixed_ids),
            text="",
        )
        entry.text = _text(entry)
        out.append(entry)
    return sorted(out, key=lambda g: (-g.known_exploited, g.highest_severity.rank, -g.fixes, g.package, g.path or ""))
