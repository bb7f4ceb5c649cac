"""Purpose-made test images for the hygiene checks, built with fixtures.imagebuilder into a temp dir, and helpers to
run one check and pick findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from fixtures.imagebuilder import HistoryEntry, ImageSpec, TarEntry, build_layer, write_oci_layout
from fixtures.recipes.debdata import DebPkg, status_file
from imagescan.checks.base import CheckContext, ImageCheck
from imagescan.findings import EndOfLifeFinding, Finding, MisconfigurationFinding, UnwantedSoftwareFinding
from imagescan.scan import ImageAnalysis, ScanOptions, analyze_image
from imagescan.vulndb.store import VulnDB

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
"""All time-dependent results are computed for this date (the end-of-life table is a 2026 snapshot)."""

DEBIAN_10_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 10 (buster)"
NAME="Debian GNU/Linux"
VERSION_ID="10"
VERSION="10 (buster)"
VERSION_CODENAME=buster
ID=debian
"""
DEBIAN_12_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
_counter = itertools.count()


def deb(name: str, version: str = "1.0-1", files: dict[str, bytes] | None = None,
        symlinks: dict[str, str] | None = None) -> DebPkg:
    return DebPkg(name=name, version=version, description=f"{name} (hygiene test package)\n{name} for tests.",
                  maintainer="Tests <tests@example.org>", files=dict(files or {}), symlinks=dict(symlinks or {}))


def debian_base(os_release: bytes = DEBIAN_12_OS_RELEASE, debian_version: str = "12.5",
                packages: Sequence[DebPkg] = (), modes: dict[str, int] | None = None) -> list[TarEntry]:
    """A Debian-like root: base-files (os-release, debian_version), the given packages with their files and dpkg
    database, and ``modes`` (path → permission bits) applied to the packages' files."""
    base = deb("base-files", "12.4+deb12u5", {"/usr/lib/os-release": os_release,
                                              "/etc/debian_version": f"{debian_version}\n".encode()},
               {"/etc/os-release": "../usr/lib/os-release"})
    pkgs = [base, *packages]
    entries = [status_file(pkgs)]
    for p in pkgs:
        entries += p.entries()
    return with_modes(entries, modes or {})


def with_modes(entries: Iterable[TarEntry], modes: dict[str, int], owners: dict[str, tuple[int, int]] | None = None
               ) -> list[TarEntry]:
    owners = owners or {}
    out = []
    for e in entries:
        if e.path in modes:
            e = dataclasses.replace(e, mode=modes[e.path])
        if e.path in owners:
            e = dataclasses.replace(e, uid=owners[e.path][0], gid=owners[e.path][1])
        out.append(e)
    return out


def build_image(root: Path, layers: Sequence[Sequence[TarEntry]], *, history: list[HistoryEntry] | None = None,
                parents: bool = True, **config: Any) -> ImageAnalysis:
    """An OCI layout of ``layers`` (bottom first) with the given ImageSpec config fields, analysed. Without
    ``parents`` the layers hold no entries for directories that are not listed."""
    work = root / f"image-{next(_counter)}"
    built = [build_layer(sorted(layer, key=lambda e: e.path), "gzip", work / "layers", parents=parents)
             for layer in layers]
    if history is None:
        history = [HistoryEntry(f"RUN /bin/sh -c step {i} # buildkit") for i in range(len(built))]
    written = write_oci_layout(work / "oci", ImageSpec(built, history=history, **config), tag="latest")
    return analyze_image(f"oci:{written.path}", ScanOptions(workers=1))


def context(db: VulnDB | None = None, **extras: object) -> CheckContext:
    return CheckContext(vulndb=db, extras={"now": NOW, **extras})


def run(check: ImageCheck, analysis: ImageAnalysis, ctx: CheckContext | None = None) -> list[Finding]:
    return check.run(analysis, ctx or context())


def by_rule(findings: Iterable[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if getattr(f, "rule", None) == rule or getattr(f, "code", None) == rule]


def rules_of(findings: Iterable[Finding]) -> set[str]:
    return {str(getattr(f, "rule", None) or getattr(f, "code", None)) for f in findings}


def misconfigs(findings: Sequence[Finding], rule: str) -> list[MisconfigurationFinding]:
    out = [f for f in by_rule(findings, rule) if isinstance(f, MisconfigurationFinding)]
    assert len(out) == len(by_rule(findings, rule))
    return out


def unwanted(findings: Sequence[Finding], rule: str) -> list[UnwantedSoftwareFinding]:
    out = [f for f in by_rule(findings, rule) if isinstance(f, UnwantedSoftwareFinding)]
    assert len(out) == len(by_rule(findings, rule))
    return out


def eols(findings: Sequence[Finding], rule: str) -> list[EndOfLifeFinding]:
    out = [f for f in by_rule(findings, rule) if isinstance(f, EndOfLifeFinding)]
    assert len(out) == len(by_rule(findings, rule))
    return out
