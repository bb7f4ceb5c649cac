"""The ecosystem -> comparator registry."""

from __future__ import annotations

from functools import cmp_to_key

import pytest

from imagescan.versions import (
    UnknownEcosystem,
    apk,
    cargo,
    comparator_for,
    compare,
    composer,
    dpkg,
    golang,
    maven,
    nuget,
    pep440,
    rpm,
    rubygems,
    semver_npm,
)


@pytest.mark.parametrize(
    ("ecosystem", "comparator"),
    [
        ("Debian", dpkg.compare),
        ("Debian:12", dpkg.compare),
        ("Ubuntu:22.04", dpkg.compare),
        ("Ubuntu:Pro:18.04:LTS", dpkg.compare),
        ("Alpine:v3.18", apk.compare),
        ("Amazon Linux:2023", rpm.compare_evr),
        ("Red Hat", rpm.compare_evr),
        ("Red Hat:enterprise_linux:9::baseos", rpm.compare_evr),
        ("Rocky Linux", rpm.compare_evr),
        ("Rocky Linux:9", rpm.compare_evr),
        ("AlmaLinux", rpm.compare_evr),
        ("AlmaLinux:8", rpm.compare_evr),
        ("SUSE", rpm.compare_evr),
        ("SUSE:Linux Enterprise Server 15 SP5", rpm.compare_evr),
        ("openSUSE", rpm.compare_evr),
        ("openSUSE:Leap 15.5", rpm.compare_evr),
        ("PyPI", pep440.compare),
        ("npm", semver_npm.compare),
        ("Go", golang.compare),
        ("Maven", maven.compare),
        ("RubyGems", rubygems.compare),
        ("Packagist", composer.compare),
        ("NuGet", nuget.compare),
        ("crates.io", cargo.compare),
        ("deb", dpkg.compare),
        ("rpm", rpm.compare_evr),
        ("apk", apk.compare),
        ("pypi", pep440.compare),
        ("golang", golang.compare),
        ("maven", maven.compare),
        ("gem", rubygems.compare),
        ("composer", composer.compare),
        ("nuget", nuget.compare),
        ("cargo", cargo.compare),
    ],
)
def test_comparator_for(ecosystem: str, comparator: object) -> None:
    assert comparator_for(ecosystem) is comparator


@pytest.mark.parametrize("ecosystem", ["", "Hackage", "conan", "Debian12", None])
def test_unknown(ecosystem: object) -> None:
    with pytest.raises(UnknownEcosystem, match="no version comparator"):
        comparator_for(ecosystem)  # type: ignore[arg-type]


def test_compare_and_sort_with_cmp_to_key() -> None:
    assert compare("Debian:12", "1.0~rc1", "1.0") == -1
    versions = ["1.0", "1.0~rc1", "1:0.5", "1.0-1", "0.9", "1.0+b1"]
    ordered = sorted(versions, key=cmp_to_key(comparator_for("Debian")))
    assert ordered == ["0.9", "1.0~rc1", "1.0", "1.0-1", "1.0+b1", "1:0.5"]


@pytest.mark.parametrize(
    ("ecosystem", "low", "high"),
    [
        ("Debian", "2.36-9+deb12u3", "2.36-9+deb12u4"),
        ("Alpine", "3.1.4-r5", "3.1.4-r6"),
        ("Red Hat", "0:1.1.1k-7.el8_6", "1:1.1.1k-6.el8"),
        ("PyPI", "2.0.0rc1", "2.0.0"),
        ("npm", "4.17.20", "4.17.21"),
        ("Go", "0.0.0-20220315160706-3147a52a75dd", "0.1.0"),
        ("Maven", "2.14.0-rc1", "2.14.0"),
        ("RubyGems", "6.1.7.rc1", "6.1.7"),
        ("Packagist", "5.4.0-RC1", "5.4.0"),
        ("NuGet", "13.0.1-beta1", "13.0.1"),
        ("crates.io", "1.0.0-alpha.1", "1.0.0"),
    ],
)
def test_real_world_fix_boundaries(ecosystem: str, low: str, high: str) -> None:
    assert compare(ecosystem, low, high) == -1
    assert compare(ecosystem, high, low) == 1
    assert compare(ecosystem, low, low) == 0
