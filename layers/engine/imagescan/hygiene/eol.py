"""End of life of the OS release and of language runtimes, against the end-of-life table of the database
(``VulnDB.eol``: endoflife.date cycles with ``eol``, ``support`` and ``extended_support`` dates).

States, for today's date: *supported*; *approaching* (regular support ends within 90 days); *extended* (regular
security support has ended but an extended programme, such as Debian LTS, Ubuntu ESM or RHEL ELS, still runs:
shown as such, never as supported); *ended* (no support of any kind). ``eol: true`` in the table means ended on an
unknown date; ``eol: false`` means no end announced.

Runtimes are the components the runtime and binary catalogers report as ``generic`` packages (python, node,
openjdk, go, ruby, php, dotnet...) and Go's ``stdlib``. A runtime installed by an OS package (``Package.owner``
set) is supported by the OS vendor for the OS release's life, so only the OS release is judged for it.
Without end-of-life data, a ``scan-incomplete`` finding says so: the status is never assumed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from imagescan.checks.base import CheckContext
from imagescan.findings import Finding
from imagescan.hygiene.context import EolSource, eol_source, hygiene_options
from imagescan.hygiene.emit import Emitter
from imagescan.hygiene.view import ImageView
from imagescan.models import OSRelease, Package, PackageType
from imagescan.sbom.purl import package_purl
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.models import Cycle

WARN_DAYS = 90

OS_PRODUCTS = {"debian": "debian", "ubuntu": "ubuntu", "alpine": "alpine-linux", "amzn": "amazon-linux",
               "rhel": "rhel", "centos": "centos", "rocky": "rocky-linux", "almalinux": "almalinux",
               "ol": "oracle-linux", "fedora": "fedora", "sles": "sles", "opensuse-leap": "opensuse",
               "photon": "photon", "mariner": "cbl-mariner", "azurelinux": "azure-linux"}
ROLLING = frozenset({"wolfi", "chainguard", "arch", "opensuse-tumbleweed", "gentoo"})
"""Rolling releases: no release cycle, so no end of life."""

RUNTIMES = {
    "python": "python", "python3": "python", "cpython": "python",
    "node": "nodejs", "nodejs": "nodejs", "node.js": "nodejs",
    "openjdk": "java", "java": "java", "jdk": "java", "jre": "java", "temurin": "eclipse-temurin",
    "eclipse-temurin": "eclipse-temurin", "corretto": "amazon-corretto", "amazon-corretto": "amazon-corretto",
    "oracle-jdk": "oracle-jdk",
    "go": "go", "golang": "go",
    "ruby": "ruby", "php": "php",
    "dotnet": "dotnet", ".net": "dotnet", "dotnet-runtime": "dotnet", "dotnet-sdk": "dotnet",
    "aspnetcore": "dotnet", "aspnetcore-runtime": "dotnet", "microsoft.netcore.app": "dotnet",
    "microsoft.aspnetcore.app": "dotnet",
    "openssl": "openssl", "nginx": "nginx", "redis": "redis", "postgresql": "postgresql", "postgres": "postgresql",
    "mysql": "mysql",
}
"""Component names (lower case) → end-of-life product (or an alias the table resolves)."""
JAVA_PRODUCTS = frozenset({"java", "eclipse-temurin", "amazon-corretto", "oracle-jdk"})

NAMES = {"debian": "Debian", "ubuntu": "Ubuntu", "alpine-linux": "Alpine Linux", "amazon-linux": "Amazon Linux",
         "rhel": "RHEL", "centos": "CentOS", "centos-stream": "CentOS Stream", "rocky-linux": "Rocky Linux",
         "almalinux": "AlmaLinux", "python": "Python", "nodejs": "Node.js", "eclipse-temurin": "Java",
         "java": "Java", "amazon-corretto": "Amazon Corretto", "oracle-jdk": "Oracle JDK", "go": "Go",
         "ruby": "Ruby", "php": "PHP", "dotnet": ".NET", "openssl": "OpenSSL", "nginx": "nginx", "redis": "Redis",
         "postgresql": "PostgreSQL", "mysql": "MySQL"}
EXTENDED = {"debian": "Debian LTS", "ubuntu": "Ubuntu ESM (Ubuntu Pro)", "rhel": "RHEL Extended Life Support"}


@dataclass(frozen=True)
class Status:
    state: str
    """``supported``, ``approaching``, ``extended``, ``ended`` or ``unknown``."""
    eol: dt.date | None = None
    """End of regular security support, when known."""
    extended_end: dt.date | None = None
    ended_on: dt.date | None = None
    """When the last support ended (state ``ended``), when known."""


def support_status(cycle: Cycle, today: dt.date, warn_days: int = WARN_DAYS) -> Status:
    eol, ext = cycle.eol, cycle.extended_support
    ext_date = ext if isinstance(ext, dt.date) else None
    if eol is None:
        return Status("unknown", extended_end=ext_date)
    if eol is False:
        return Status("supported", extended_end=ext_date)
    eol_date = eol if isinstance(eol, dt.date) else None
    if eol_date is not None and today < eol_date:
        state = "approaching" if (eol_date - today).days <= warn_days else "supported"
        return Status(state, eol_date, ext_date)
    if ext_date is not None and today < ext_date:
        return Status("extended", eol_date, ext_date)
    dates = [d for d in (eol_date, ext_date) if d is not None]
    return Status("ended", eol_date, ext_date, max(dates) if dates else None)


def ago(then: dt.date, today: dt.date) -> str:
    """``3 days``, ``5 months``, ``2 years``: how long from ``then`` to ``today`` (either order)."""
    days = abs((today - then).days)
    if days < 45:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 548:
        months = round(days / 30.44)
        return f"{months} month{'s' if months != 1 else ''}"
    years = int(days / 365.25)
    return f"{years} year{'s' if years != 1 else ''}"


def cycle_candidates(version: str, product: str = "") -> list[str]:
    """Release cycles a version can belong to, most specific first: ``3.18.4`` → 3.18.4, 3.18, 3."""
    text = re.sub(r"^(?:v|go|jdk-?|openjdk-?)", "", version.strip().lower())
    match = re.match(r"\d+(?:\.\d+)*", text)
    if not match:
        return []
    parts = match.group(0).split(".")
    if product in JAVA_PRODUCTS and parts[0] == "1" and len(parts) > 1:
        parts = parts[1:]  # Java 1.8.0_392 is Java 8
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def find_cycle(cycles: list[Cycle], version: str | None, codename: str | None = None,
               product: str = "") -> Cycle | None:
    by_cycle = {c.cycle.lower(): c for c in cycles}
    for candidate in cycle_candidates(version or "", product):
        if candidate in by_cycle:
            return by_cycle[candidate]
    if codename:
        for c in cycles:
            if c.codename and c.codename.lower() == codename.lower():
                return c
    return None


def os_product(os: OSRelease) -> str | None:
    """The end-of-life product of an OS release, None for rolling releases."""
    if os.id in ROLLING:
        return None
    if os.id == "centos" and "stream" in f"{os.name or ''} {os.pretty_name or ''}".lower():
        return "centos-stream"
    return OS_PRODUCTS.get(os.id, os.id)


def runtime_product(pkg: Package) -> str | None:
    name = pkg.name.lower()
    if pkg.type == PackageType.GOLANG and name == "stdlib":
        return "go"
    if pkg.type == PackageType.GENERIC:
        return RUNTIMES.get(name)
    return None


def os_supplied(pkg: Package, view: ImageView) -> bool:
    """True when an OS package installed the runtime's file: the OS vendor supports it for the release's life."""
    if pkg.owner is not None:
        return True
    path = pkg.path.split("!/", 1)[0]
    return bool(path) and view.owners.get(view.canonical(path)) is not None


def display_name(product: str, cycle: str) -> str:
    return f"{NAMES.get(product, product)} {cycle}"


def _judge(emit: Emitter, source: EolSource, today: dt.date, *, product: str, version: str | None, label: str,
           key: str, rule_id: str, codename: str | None = None, purl: str | None = None,
           os: str | None = None) -> None:
    cycles = source.cycles(product)
    if not cycles:
        emit.incomplete("eol-data-missing", f"{key}:product", f"End-of-life status of {label} could not be checked",
                        f"the end-of-life table has no product {product!r}", subjects=[product])
        return
    product = cycles[0].product
    cycle = find_cycle(cycles, version, codename, product)
    if cycle is None:
        emit.incomplete("eol-data-missing", f"{key}:cycle", f"End-of-life status of {label} could not be checked",
                        f"the end-of-life table has no release of {product} matching {version or codename!r} "
                        f"(its newest is {cycles[0].cycle})", subjects=[product])
        return
    status = support_status(cycle, today)
    name = display_name(product, cycle.cycle)
    extended = EXTENDED.get(product, "extended support")
    key = f"{key}:{product}:{cycle.cycle}"

    def report(rule: str, title: str, eol_date: dt.date | None, detail: str) -> None:
        emit.end_of_life(rule, key, title, product=product, cycle=cycle.cycle, purl=purl, os=os,
                         eol_date=eol_date.isoformat() if eol_date else None, detail=detail)

    if status.state == "unknown":
        emit.incomplete("eol-data-missing", f"{key}:date", f"End-of-life status of {name} could not be checked",
                        f"the end-of-life table gives no end-of-life date for {name}", subjects=[product])
    elif status.state == "approaching" and status.eol:
        after = f" {extended} runs until {status.extended_end}." if status.extended_end else ""
        report("eol-approaching", f"{name} reaches end of life in {ago(status.eol, today)} ({status.eol})",
               status.eol, f"Regular security support of {name} ends on {status.eol}.{after}")
    elif status.state == "extended" and status.extended_end:
        ended = f" {ago(status.eol, today)} ago" if status.eol else ""
        report("eol-extended-support", f"{name} is in {extended} only: regular security support ended{ended}",
               status.eol, f"Regular security support of {name} ended{' on ' + str(status.eol) if status.eol else ''}; "
               f"{extended} runs until {status.extended_end} ({ago(status.extended_end, today)} from now).")
    elif status.state == "ended":
        when = f" {ago(status.ended_on, today)} ago" if status.ended_on else ""
        detail = f"{name} reached end of life" + (f" on {status.ended_on}" if status.ended_on else "") + "."
        if status.extended_end and status.eol and status.extended_end > status.eol:
            detail += f" Regular security support ended on {status.eol}, {extended} on {status.extended_end}."
        report(rule_id, f"{name} reached end of life{when}", status.ended_on, detail)


class EolCheck:
    name = "hygiene-end-of-life"
    version = 1

    def run(self, analysis: ImageAnalysis, context: CheckContext) -> list[Finding]:
        options = hygiene_options(context)
        emit = Emitter(analysis.digest, options.policy)
        today = options.now.date()
        os = analysis.os
        product = os_product(os) if os else None
        view = ImageView(analysis)
        runtimes = [(p, r) for p in analysis.merged.packages
                    if (r := runtime_product(p)) and not os_supplied(p, view)]
        if product is None and not runtimes:
            return []
        source = eol_source(context)
        if not source.available:
            emit.incomplete("eol-data-missing", "no-data", "End-of-life status not checked: no end-of-life data",
                            source.reason)
            return emit.findings
        if os is not None and product is not None:
            label = os.pretty_name or f"{os.id} {os.version_id or ''}".strip()
            if not os.version_id and not os.version_codename:
                emit.incomplete("eol-data-missing", "os:version", f"End-of-life status of {label} could not "
                                "be checked", "the OS version is unknown", subjects=[product])
            else:
                _judge(emit, source, today, product=product, version=os.version_id, label=label, key="os",
                       rule_id="eol-os", codename=os.version_codename, os=os.distro_qualifier() or os.id)
        for pkg, runtime in sorted(runtimes, key=lambda pr: (pr[1], pr[0].version, pr[0].path)):
            purl = package_purl(pkg, os).to_string()
            _judge(emit, source, today, product=runtime, version=pkg.version, label=f"{pkg.name} {pkg.version}",
                   key=f"runtime:{pkg.path}:{pkg.name}:{pkg.version}", rule_id="eol-runtime", purl=purl)
        return emit.findings
