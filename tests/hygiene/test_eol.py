from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fixtures.imagebuilder import TarEntry
from fixtures.recipes.apk import ALPINE_OS_RELEASE
from fixtures.recipes.rpm import OS_RELEASES
from imagescan.findings import EndOfLifeFinding, IncompleteFinding, Severity
from imagescan.hygiene.eol import EolCheck, ago, cycle_candidates, find_cycle, runtime_product, support_status
from imagescan.models import Package, PackageType
from imagescan.scan import ImageAnalysis
from imagescan.vulndb.models import Cycle
from imagescan.vulndb.store import VulnDB
from tests.hygiene.images import DEBIAN_10_OS_RELEASE, NOW, build_image, by_rule, context, debian_base, eols, run

CHECK = EolCheck()
TODAY = NOW.date()



def _os_image(tmp_path: Path, os_release: bytes, *extra: TarEntry) -> ImageAnalysis:
    return build_image(tmp_path, [[TarEntry("etc/os-release", data=os_release), *extra]])


def _cycle(eol: dt.date | bool | None, extended: dt.date | bool | None = None) -> Cycle:
    return Cycle(product="p", cycle="1", eol=eol, extended_support=extended)


def test_support_status() -> None:
    day = dt.timedelta(days=1)
    assert support_status(_cycle(TODAY + 400 * day), TODAY).state == "supported"
    assert support_status(_cycle(False), TODAY).state == "supported"
    soon = support_status(_cycle(TODAY + 90 * day, TODAY + 900 * day), TODAY)
    assert (soon.state, soon.eol) == ("approaching", TODAY + 90 * day)
    assert support_status(_cycle(TODAY + 91 * day), TODAY).state == "supported"
    extended = support_status(_cycle(TODAY - 10 * day, TODAY + 10 * day), TODAY)
    assert (extended.state, extended.extended_end) == ("extended", TODAY + 10 * day)
    ended = support_status(_cycle(TODAY - 900 * day, TODAY - 100 * day), TODAY)
    assert (ended.state, ended.ended_on) == ("ended", TODAY - 100 * day)
    assert support_status(_cycle(TODAY), TODAY).state == "ended"
    assert support_status(_cycle(True), TODAY) == support_status(_cycle(True, False), TODAY)
    assert support_status(_cycle(True), TODAY).ended_on is None
    assert support_status(_cycle(True, TODAY + day), TODAY).state == "extended"
    assert support_status(_cycle(None), TODAY).state == "unknown"


def test_ago_and_cycles() -> None:
    assert ago(TODAY, TODAY) == "0 days" and ago(TODAY - dt.timedelta(days=1), TODAY) == "1 day"
    assert ago(dt.date(2026, 7, 11), TODAY) == "5 months"
    assert ago(dt.date(2024, 6, 30), TODAY) == "2 years"
    assert cycle_candidates("3.18.4") == ["3.18.4", "3.18", "3"]
    assert cycle_candidates("1.8.0_392", "java") == ["8.0", "8"]
    assert cycle_candidates("go1.21.5") == ["1.21.5", "1.21", "1"]
    assert cycle_candidates("v18.19.0") == ["18.19.0", "18.19", "18"]
    assert cycle_candidates("trixie/sid") == []
    cycles = [Cycle(product="debian", cycle="12", codename="Bookworm"), Cycle(product="debian", cycle="3.1")]
    assert find_cycle(cycles, "12.5") is cycles[0] and find_cycle(cycles, None, "bookworm") is cycles[0]
    assert find_cycle(cycles, "3.1") is cycles[1] and find_cycle(cycles, "3.10") is None


def test_debian_10_reached_end_of_life(tmp_path: Path, eol_db: VulnDB) -> None:
    image = build_image(tmp_path, [debian_base(DEBIAN_10_OS_RELEASE, "10.13")])
    [finding] = run(CHECK, image, context(eol_db))
    assert isinstance(finding, EndOfLifeFinding) and finding.severity == Severity.HIGH
    assert finding.title == "Debian 10 reached end of life 2 years ago"
    assert (finding.product, finding.cycle, finding.eol_date, finding.os) == ("debian", "10", "2024-06-30",
                                                                              "debian-10")
    assert finding.description is not None and "Debian LTS on 2024-06-30" in finding.description


def test_debian_12_is_in_lts_only(debian_analysis: ImageAnalysis, eol_db: VulnDB) -> None:
    [finding] = eols(run(CHECK, debian_analysis, context(eol_db)), "eol-extended-support")
    assert finding.severity == Severity.MEDIUM and finding.eol_date == "2026-07-11"
    assert finding.title == "Debian 12 is in Debian LTS only: regular security support ended 5 months ago"
    assert finding.description is not None and "until 2028-06-30" in finding.description


def test_alpine_318_and_amazon_linux_2(apk_analysis: ImageAnalysis, tmp_path: Path, eol_db: VulnDB) -> None:
    [alpine] = eols(run(CHECK, apk_analysis, context(eol_db)), "eol-os")
    assert (alpine.product, alpine.cycle, alpine.eol_date) == ("alpine-linux", "3.18", "2025-05-09")
    assert alpine.title == "Alpine Linux 3.18 reached end of life 1 year ago"
    amazon = _os_image(tmp_path, OS_RELEASES["amzn-2"][0].encode())
    [al2] = eols(run(CHECK, amazon, context(eol_db)), "eol-os")
    assert (al2.product, al2.cycle, al2.eol_date, al2.severity) == ("amazon-linux", "2", "2026-06-30", Severity.HIGH)
    assert al2.title == "Amazon Linux 2 reached end of life 5 months ago"


def test_supported_and_approaching(tmp_path: Path, eol_db: VulnDB) -> None:
    image = _os_image(tmp_path, ALPINE_OS_RELEASE.replace(b"3.18.4", b"3.22.2"))
    assert run(CHECK, image, context(eol_db)) == []
    later = context(eol_db, now=dt.datetime(2027, 3, 1, tzinfo=dt.UTC))
    [soon] = eols(run(CHECK, image, later), "eol-approaching")
    assert soon.severity == Severity.LOW
    assert soon.title == "Alpine Linux 3.22 reaches end of life in 2 months (2027-05-01)"


def test_no_data_is_never_silent(tmp_path: Path, eol_db: VulnDB, debian_analysis: ImageAnalysis) -> None:
    [missing] = run(CHECK, debian_analysis, context(None))
    assert isinstance(missing, IncompleteFinding) and missing.code == "eol-data-missing"
    assert missing.reason is not None and "no vulnerability database" in missing.reason
    oracle = _os_image(tmp_path, b'ID="ol"\nVERSION_ID="8.9"\nPRETTY_NAME="Oracle Linux Server 8.9"\n')
    [unknown] = run(CHECK, oracle, context(eol_db))
    assert isinstance(unknown, IncompleteFinding) and unknown.reason == "the end-of-life table has no product " \
        "'oracle-linux'"
    future = _os_image(tmp_path, b'ID=debian\nVERSION_ID="15"\nPRETTY_NAME="Debian GNU/Linux 15 (duke)"\n')
    [newer] = run(CHECK, future, context(eol_db))
    assert isinstance(newer, IncompleteFinding) and "no release of debian matching '15'" in (newer.reason or "")
    assert run(CHECK, _os_image(tmp_path, b"ID=wolfi\nNAME=Wolfi\n"), context(eol_db)) == []  # rolling
    assert run(CHECK, build_image(tmp_path, [[TarEntry("app", data=b"x")]]), context(None)) == []  # nothing to judge


def test_runtimes(tmp_path: Path, eol_db: VulnDB) -> None:
    node_h = b"#define NODE_MAJOR_VERSION 16\n#define NODE_MINOR_VERSION 20\n#define NODE_PATCH_VERSION 2\n"
    entries = [
        TarEntry("usr/local/include/node/node_version.h", data=node_h),
        TarEntry("usr/local/bin/python3.8", data=b"\x7fELF\x00\x003.8.10\x00 (default)", mode=0o755),
        TarEntry("opt/java/openjdk/release", data=b'JAVA_VERSION="1.8.0_392"\n'),
        TarEntry("usr/local/go/VERSION", data=b"go1.26.3\ntime 2026-05-01\n"),
    ]
    findings = run(CHECK, build_image(tmp_path, [entries]), context(eol_db))
    runtimes = {f.product: f for f in eols(findings, "eol-runtime")}
    assert set(runtimes) == {"nodejs", "python"}  # Java 8 (Temurin) and Go 1.26 are supported
    assert runtimes["nodejs"].title == "Node.js 16 reached end of life 3 years ago"
    assert runtimes["nodejs"].purl == "pkg:generic/node@16.20.2" and runtimes["nodejs"].eol_date == "2023-09-11"
    assert runtimes["python"].title == "Python 3.8 reached end of life 2 years ago"
    assert all(f.severity == Severity.HIGH for f in runtimes.values())


def test_runtime_from_an_os_package_is_left_to_the_os(demo_analysis: ImageAnalysis, eol_db: VulnDB) -> None:
    assert any(p.type == PackageType.GENERIC and p.name == "python" for p in demo_analysis.merged.packages)
    findings = run(CHECK, demo_analysis, context(eol_db))
    assert not by_rule(findings, "eol-runtime") and [f.product for f in eols(findings, "eol-extended-support")] == [
        "debian"]


@pytest.mark.parametrize(("package", "product"), [
    (Package(type=PackageType.GENERIC, name="python", version="3.12.1"), "python"),
    (Package(type=PackageType.GENERIC, name="node", version="20.1.0"), "nodejs"),
    (Package(type=PackageType.GENERIC, name="openjdk", version="17.0.8"), "java"),
    (Package(type=PackageType.GOLANG, name="stdlib", version="v1.21.5"), "go"),
    (Package(type=PackageType.GENERIC, name="busybox", version="1.36.1"), None),
    (Package(type=PackageType.PYPI, name="python", version="1.0"), None),
])
def test_runtime_product(package: Package, product: str | None) -> None:
    assert runtime_product(package) == product
