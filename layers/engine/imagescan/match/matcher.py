"""Matching an inventory against the vulnerability database: :func:`match_inventory`.

**One finding per installed (binary) package and vulnerability.** ``libssl3`` and ``openssl``, both built from
the ``openssl`` source, each get their own finding for a CVE of that source, with ``source_package`` saying where
the advisory applies. Packages are what a user upgrades, what an SBOM lists, and what Security Hub and Inspector
show as resources: a finding per package keeps purl, path and layer exact, and its stable id survives an upgrade
of a sibling. The fix guidance (:mod:`.guidance`) then folds the binaries of one source back together, so the
advice is one line per thing to upgrade.

**One finding per vulnerability**, whatever the number of advisories that name it: records are grouped by the
database's alias groups (a PYSEC record, its GHSA and its CVE; a ``DEBIAN-CVE-X`` and ``CVE-X``; a DSA fixing one
CVE). A distribution advisory fixing several CVEs (a DSA, an ALAS) is split into one vulnerability per CVE it
lists under ``upstream``, the advisory id joining each one's aliases. ``vulnerability_id`` is the group's id (its
lowest CVE when it has one, else the lowest GHSA or other id); ``aliases`` are the group's other CVE and GHSA
ids plus the ids (and aliases) of the records that matched, sorted: another distribution's record of the same CVE
(``ALPINE-CVE-X`` on a Debian package, a Debian LTS advisory on a PyPI package) is left out.

Per vulnerability and package: affected when any of its advisories says so (OSV semantics: :mod:`.osv`;
withdrawn records are never read, ``not-affected`` entries never match). ``fixed`` when an advisory gives a fixed
version above the installed one: ``fixed_version`` is the version every such advisory agrees fixes it (the
highest of their smallest fixes); otherwise the vendor's status decides ``end-of-life`` > ``wont-fix`` >
``not-fixed``. Severity: the vendor's rating first (the highest when several advisories rate it), then a rating
computed from a CVSS score, else ``MEDIUM`` with ``severity_source = "unrated"``. ``known_exploited`` when any
CVE of the vulnerability is in CISA KEV; ``epss`` the highest EPSS score of its CVEs.

What was **not** checked is never silently clean: a distribution release or language ecosystem without data in
the database, an unknown distribution, a version the ecosystem's comparator refuses, and advisories that cannot
be evaluated (only GIT ranges) become :class:`MatchNote` entries, which the image check turns into
``scan-incomplete`` findings. Language packages owned by an OS package (Debian's ``python3-yaml`` ships PyYAML's
dist-info) are left to the OS package's vendor advisories, and ``generic`` packages (runtimes found by their
files) are left to the end-of-life check: both are counted in :attr:`MatchResult.skipped`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from imagescan.findings import Cvss, Severity, VulnerabilityFinding, finding_id
from imagescan.match.inventory import Inventory
from imagescan.match.osv import Verdict, check_version, evaluate
from imagescan.match.targets import (
    OS_FAMILY_TYPES,
    UNVERSIONED,
    Target,
    language_target,
    os_ecosystem,
    os_label,
    os_target,
)
from imagescan.models import OS_PACKAGE_TYPES, Package, PackageType
from imagescan.sbom.purl import package_purl
from imagescan.versions import Comparator, InvalidVersion, UnknownEcosystem
from imagescan.vulndb.models import Advisory
from imagescan.vulndb.severity import label_for_score
from imagescan.vulndb.store import VulnDB

MAX_REFERENCES = 16
MAX_DETAILS = 1500

FixState = Literal["fixed", "not-fixed", "wont-fix", "end-of-life"]
NO_FIX_STATES: dict[str, FixState] = {
    "unfixed": "not-fixed",
    "fix-deferred": "not-fixed",
    "under-investigation": "not-fixed",
    "wont-fix": "wont-fix",
    "end-of-life": "end-of-life",
}
"""Vendor status → ``fix_state`` of a vulnerable package with no fix (docs/database.md)."""
UNIVERSAL_ID_PREFIXES = ("CVE-", "GHSA-")
"""Ids that name a vulnerability independently of any one ecosystem's record of it."""
_STATE_RANK = {"end-of-life": 0, "wont-fix": 1, "not-fixed": 2}
_CVSS_PREFERENCE = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}


class MatchNote(BaseModel):
    """Something matching could not check, and why."""

    model_config = ConfigDict(extra="forbid")

    code: str
    """``no-advisory-data`` (a distribution release or ecosystem the database has nothing for), ``unknown-distro``
    (OS packages in an image whose distribution is unknown), ``invalid-version`` (a version the ecosystem's
    comparator refuses), ``unmatchable-advisory`` (advisories whose ranges cannot be evaluated)."""
    subject: str
    """What it is about: an ecosystem (``Debian:12``, ``npm``) or a package (``TYPE/NAME@VERSION``)."""
    message: str
    packages: int = 1
    """How many packages were left unchecked."""
    path: str | None = None
    layer_diff_id: str | None = None


class MatchResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: list[VulnerabilityFinding] = Field(default_factory=list)
    notes: list[MatchNote] = Field(default_factory=list)
    checked: int = 0
    """Packages looked up in the database."""
    skipped: dict[str, int] = Field(default_factory=dict)
    """Packages deliberately not looked up, by reason: ``owned-by-os-package``, ``generic``, ``unversioned``."""


@dataclass
class MatchCache:
    """Lookups that do not depend on the image. Reuse one across :func:`match_inventory` calls on the **same**
    database (re-matching many SBOMs) to query each package and id once."""

    advisories: dict[tuple[str, str], list[Advisory]] = field(default_factory=dict)
    ecosystems: dict[str, bool] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    kev: dict[str, bool] = field(default_factory=dict)
    epss: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class _Hit:
    advisory: Advisory
    verdict: Verdict

    @property
    def fix_state(self) -> FixState:
        if self.advisory.status in NO_FIX_STATES:
            return NO_FIX_STATES[self.advisory.status]
        return "fixed" if self.verdict.fixed else "not-fixed"


def _pkg_key(pkg: Package) -> str:
    return f"{pkg.type}/{pkg.namespace + '/' if pkg.namespace else ''}{pkg.name}@{pkg.version}"


def _cvss_version(kind: str, vector: str) -> str:
    if vector.startswith("CVSS:"):
        return vector.split("/", 1)[0][5:]
    return {"CVSS_V2": "2.0", "CVSS_V3": "3.0", "CVSS_V4": "4.0"}.get(kind, kind)


def _max_version(versions: Iterable[str], compare: Comparator) -> str:
    def order(a: str, b: str) -> int:
        try:
            return compare(a, b)
        except InvalidVersion:
            return (a > b) - (a < b)

    return max(versions, key=functools.cmp_to_key(order))


def _remediation(pkg: Package, target: Target, fixed_version: str | None, source_differs: bool) -> str | None:
    if fixed_version is None:
        return None
    if source_differs or (pkg.type == PackageType.DEB and target.version != pkg.version):
        return f"Upgrade {pkg.name} to a version built from {target.name} {fixed_version} or later"
    return f"Upgrade {pkg.name} to {fixed_version} or later"


class _Matcher:
    def __init__(self, inventory: Inventory, db: VulnDB, cache: MatchCache) -> None:
        self.inventory = inventory
        self.db = db
        self.cache = cache
        self.result = MatchResult()

    # -- database lookups, cached -------------------------------------------------------------------------------
    def has_ecosystem(self, ecosystem: str) -> bool:
        if ecosystem not in self.cache.ecosystems:
            self.cache.ecosystems[ecosystem] = self.db.has_ecosystem(ecosystem)
        return self.cache.ecosystems[ecosystem]

    def advisories(self, target: Target) -> list[Advisory]:
        key = (target.ecosystem, target.name)
        if key not in self.cache.advisories:
            self.cache.advisories[key] = self.db.advisories(target.ecosystem, target.name)
        return self.cache.advisories[key]

    def group_id(self, ident: str) -> str:
        if ident not in self.cache.groups:
            self.cache.groups[ident] = self.db.group_id(ident)
        return self.cache.groups[ident]

    def alias_group(self, group: str) -> list[str]:
        if group not in self.cache.aliases:
            self.cache.aliases[group] = self.db.alias_group(group)
        return self.cache.aliases[group]

    def known_exploited(self, cve: str) -> bool:
        if cve not in self.cache.kev:
            self.cache.kev[cve] = self.db.kev(cve) is not None
        return self.cache.kev[cve]

    def epss(self, cve: str) -> float | None:
        if cve not in self.cache.epss:
            score = self.db.epss(cve)
            self.cache.epss[cve] = None if score is None else score.score
        return self.cache.epss[cve]

    # -- notes ----------------------------------------------------------------------------------------------------
    def note(self, code: str, subject: str, message: str, packages: int = 1, pkg: Package | None = None) -> None:
        self.result.notes.append(MatchNote(
            code=code, subject=subject, message=message, packages=packages,
            path=pkg.path or None if pkg else None, layer_diff_id=pkg.layer_diff_id if pkg else None,
        ))

    def skip(self, reason: str) -> None:
        self.result.skipped[reason] = self.result.skipped.get(reason, 0) + 1

    # -- the walk -------------------------------------------------------------------------------------------------
    def run(self) -> MatchResult:
        os_packages: dict[str, list[Package]] = {}
        language: dict[str, list[tuple[Package, Target]]] = {}
        for pkg in self.inventory.packages:
            if pkg.type in OS_PACKAGE_TYPES:
                os_packages.setdefault(str(pkg.type), []).append(pkg)
            elif pkg.owner:
                self.skip("owned-by-os-package")
            elif not pkg.version.strip() or pkg.version.strip() in UNVERSIONED:
                self.skip("unversioned")
            else:
                target = language_target(pkg)
                if target is None:
                    self.skip(str(pkg.type) if pkg.type == PackageType.GENERIC else "no-ecosystem")
                else:
                    language.setdefault(target.ecosystem, []).append((pkg, target))
        for pkg_type, packages in sorted(os_packages.items()):
            self.match_os(pkg_type, packages)
        for ecosystem, entries in sorted(language.items()):
            if not self.has_ecosystem(ecosystem):
                self.note("no-advisory-data", ecosystem,
                          f"No advisory data for {ecosystem} in the vulnerability database: {len(entries)} "
                          f"{entries[0][0].type} package(s) were not checked", packages=len(entries))
                continue
            for pkg, target in entries:
                self.match_package(pkg, target)
        unique = {f.id: f for f in self.result.findings}
        self.result.findings = sorted(unique.values(), key=lambda f: (
            f.severity.rank, f.vulnerability_id, f.package_name, f.installed_version, f.path or ""))
        return self.result

    def match_os(self, pkg_type: str, packages: list[Package]) -> None:
        os = self.inventory.os
        count = len(packages)
        ecosystem = os_ecosystem(os)
        if os is None:
            self.note("unknown-distro", pkg_type, f"The distribution is unknown: {count} {pkg_type} package(s) were "
                      "not checked for vulnerabilities", packages=count)
            return
        label = os_label(os)
        if ecosystem is None:
            self.note("no-advisory-data", label, f"No advisory source for {label}: {count} {pkg_type} package(s) "
                      "were not checked for vulnerabilities", packages=count)
            return
        family = ecosystem.split(":", 1)[0]
        if OS_FAMILY_TYPES.get(family) != pkg_type:
            self.note("no-advisory-data", f"{ecosystem} {pkg_type}", f"{count} {pkg_type} package(s) on {label} "
                      f"were not checked: {family} advisories are about other packages", packages=count)
            return
        if not self.has_ecosystem(ecosystem):
            self.note("no-advisory-data", ecosystem, f"No advisory data for {label} ({ecosystem}) in the "
                      f"vulnerability database: {count} {pkg_type} package(s) were not checked", packages=count)
            return
        for pkg in packages:
            try:
                target = os_target(pkg, ecosystem)
            except UnknownEcosystem:
                self.note("no-advisory-data", ecosystem, f"No version comparison for {ecosystem}", packages=count)
                return
            self.match_package(pkg, target)

    def vulnerability_keys(self, advisory: Advisory) -> list[str]:
        """The vulnerabilities an advisory is about: its alias group, or each CVE of a multi-CVE vendor advisory."""
        if len(advisory.upstream) >= 2:
            return sorted({self.group_id(ident) for ident in advisory.upstream})
        return [advisory.group_id]

    def match_package(self, pkg: Package, target: Target) -> None:
        try:
            check_version(target.version, target.compare)
        except InvalidVersion as exc:
            self.note("invalid-version", _pkg_key(pkg), f"{pkg.name} {pkg.version} was not checked for "
                      f"vulnerabilities: {exc}", pkg=pkg)
            return
        self.result.checked += 1
        hits: dict[str, list[_Hit]] = {}
        decided: set[str] = set()
        undecided: dict[str, list[str]] = {}
        for advisory in self.advisories(target):
            keys = self.vulnerability_keys(advisory)
            if advisory.status == "not-affected":
                decided.update(keys)
                continue
            if advisory.status in NO_FIX_STATES and not advisory.ranges and not advisory.versions:
                verdict = Verdict(True)  # the vendor says this release is vulnerable, whatever the version
            else:
                try:
                    verdict = evaluate(target.version, advisory.ranges, advisory.versions, target.compare,
                                       target.semver)
                except (InvalidVersion, ValueError) as exc:
                    verdict = Verdict(False, decidable=False, broken=(str(exc),))
            for key in keys:
                if verdict.affected:
                    hits.setdefault(key, []).append(_Hit(advisory, verdict))
                elif verdict.decidable:
                    decided.add(key)
                else:
                    why = "; ".join(verdict.broken) or "only GIT (commit) ranges and no list of affected versions"
                    undecided.setdefault(key, []).append(f"{advisory.vuln_id} ({why})")
        for key in sorted(hits):
            self.result.findings.append(self.finding(pkg, target, key, hits[key]))
        unknown = sorted({why for key, whys in undecided.items() if key not in hits and key not in decided
                          for why in whys})
        if unknown:
            self.note("unmatchable-advisory", _pkg_key(pkg), f"{pkg.name} {pkg.version}: {len(unknown)} "
                      f"advisor{'y' if len(unknown) == 1 else 'ies'} could not be evaluated: {', '.join(unknown)}",
                      pkg=pkg)

    # -- one finding ----------------------------------------------------------------------------------------------
    def finding(self, pkg: Package, target: Target, key: str, hits: list[_Hit]) -> VulnerabilityFinding:
        advisories = [h.advisory for h in hits]
        # Universal ids of the group, plus the ids of the records that matched: another distribution's record of
        # the same CVE (ALPINE-CVE-X on a Debian package, a DLA on a PyPI package) says nothing about this package.
        ids: set[str] = {i for i in self.alias_group(key) if i.startswith(UNIVERSAL_ID_PREFIXES)}
        for advisory in advisories:
            ids.add(advisory.vuln_id)
            ids.update(advisory.aliases)
            if len(advisory.upstream) <= 1:
                ids.update(advisory.upstream)
        vuln_id = key
        ids.discard(vuln_id)
        cves = sorted(i for i in ids | {vuln_id} if i.startswith("CVE-"))

        fixed = [h.verdict.fixed for h in hits if h.fix_state == "fixed" and h.verdict.fixed]
        reason: str | None = None
        fix_state: FixState
        fixed_version: str | None = None
        if fixed:
            fix_state, fixed_version = "fixed", _max_version(fixed, target.compare)
        else:
            fix_state = min((h.fix_state for h in hits), key=lambda s: _STATE_RANK.get(s, 9))
            deciding = [h.advisory for h in hits if h.fix_state == fix_state]
            reason = next((a.status_reason for a in deciding if a.status_reason), None) or "; ".join(
                sorted({f"{a.data_source}: " + (f"status {a.status}" if a.status != "affected"
                                                else "affected, no fixed version") for a in deciding}))
        severity, severity_source = self.severity(advisories)
        scores = [self.epss(c) for c in cves]
        known = [s for s in scores if s is not None]
        source_differs = pkg.type in OS_PACKAGE_TYPES and target.name != pkg.name
        return VulnerabilityFinding(
            id=finding_id(self.inventory.digest, "vulnerability", vuln_id, _pkg_key(pkg), pkg.arch or "", pkg.path),
            severity=severity,
            title=f"{vuln_id} in {pkg.name} {pkg.version}",
            description=self.description(advisories),
            remediation=_remediation(pkg, target, fixed_version, source_differs),
            vulnerability_id=vuln_id,
            aliases=sorted(ids),
            purl=package_purl(pkg, self.inventory.os).to_string(),
            package_name=pkg.name,
            installed_version=pkg.version,
            fixed_version=fixed_version,
            fix_state=fix_state,
            known_exploited=any(self.known_exploited(c) for c in cves),
            epss=max(known) if known else None,
            cvss=self.cvss(advisories),
            data_source=", ".join(sorted({a.data_source for a in advisories})),
            layer_diff_id=pkg.layer_diff_id,
            path=pkg.path or None,
            references=self.references(advisories),
            source_package=target.name if source_differs else None,
            source_version=target.version if target.version != pkg.version else None,
            severity_source=severity_source,
            fix_state_reason=reason,
        )

    @staticmethod
    def severity(advisories: list[Advisory]) -> tuple[Severity, str]:
        def rated(vendor: bool) -> list[tuple[Severity, str]]:
            return [(Severity(a.severity), a.severity_source or "advisory") for a in advisories
                    if a.severity is not None and a.severity in Severity.__members__
                    and (a.severity_source or "").startswith("cvss") != vendor]

        for group in (rated(True), rated(False)):
            if group:
                return min(group, key=lambda rating: rating[0].rank)
        scores = [c.score for a in advisories for c in a.cvss if c.score is not None]
        if scores:
            return Severity(label_for_score(max(scores))), "cvss"
        return Severity.MEDIUM, "unrated"

    @staticmethod
    def cvss(advisories: list[Advisory]) -> Cvss | None:
        entries = [c for a in advisories for c in a.cvss if c.vector]
        if not entries:
            return None
        best = min(entries, key=lambda c: (c.score is None, _CVSS_PREFERENCE.get(c.type, 9), -(c.score or 0.0)))
        return Cvss(vector=best.vector, score=best.score, version=_cvss_version(best.type, best.vector))

    @staticmethod
    def description(advisories: list[Advisory]) -> str | None:
        primary = advisories[0]
        parts = [p for p in (primary.summary, primary.details) if p]
        if len(parts) == 2 and parts[1].startswith(parts[0]):
            parts = parts[1:]
        text = "\n\n".join(parts)
        if len(text) > MAX_DETAILS:
            text = text[:MAX_DETAILS].rsplit(" ", 1)[0] + "…"
        return text or None

    @staticmethod
    def references(advisories: list[Advisory]) -> list[str]:
        urls: list[str] = []
        for advisory in advisories:
            for ref in advisory.references:
                if ref.url not in urls:
                    urls.append(ref.url)
        return urls[:MAX_REFERENCES]


def match_inventory(inventory: Inventory, db: VulnDB, *, cache: MatchCache | None = None) -> MatchResult:
    """Match every package of ``inventory`` against ``db`` (see the module documentation for the rules).

    Never raises for bad package data (it becomes a note); raises :class:`imagescan.vulndb.errors.VulnDBError` when the
    database cannot be read."""
    return _Matcher(inventory, db, cache or MatchCache()).run()
