"""Ecosystem/package normalisation and severity (labels, CVSS v3 base scores)."""

from __future__ import annotations

import pytest

from imagescan.vulndb.names import ecosystem_for_os, normalize_ecosystem, normalize_package
from imagescan.vulndb.records import timestamp, truncate
from imagescan.vulndb.severity import cvss_base_score, highest, label_for_score, normalize_label


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("pypi", "PyPI"), ("PyPI", "PyPI"), ("go", "Go"), ("CRATES.IO", "crates.io"), ("npm", "npm"),
        ("Alpine:v3.18", "Alpine:v3.18"), ("Alpine:3.18.4", "Alpine:v3.18"), ("alpine:edge", "Alpine:edge"),
        ("Debian:12", "Debian:12"), ("Debian:12.5", "Debian:12"), ("Debian:bookworm", "Debian:12"),
        ("debian:sid", "Debian:unstable"), ("Debian:3.1", "Debian:3.1"), ("Debian:forky", "Debian:14"),
        ("Amazon Linux:2023", "Amazon Linux:2023"), ("amazon linux:AL2", "Amazon Linux:2"),
        ("Amazon Linux:2018.03", "Amazon Linux:1"), ("Ubuntu:Pro:14.04:LTS", "Ubuntu:Pro:14.04:LTS"),
        ("SomethingNew:1", "SomethingNew:1"),
    ],
)
def test_normalize_ecosystem(given: str, stored: str) -> None:
    assert normalize_ecosystem(given) == stored


@pytest.mark.parametrize(
    ("ecosystem", "name", "key"),
    [
        ("PyPI", "Foo_Bar.baz", "foo-bar-baz"), ("PyPI", "requests", "requests"), ("PyPI", "zope.interface",
                                                                                     "zope-interface"),
        ("crates.io", "Serde_JSON", "serde-json"), ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
        ("npm", "JSONStream", "JSONStream"), ("Maven", "org.apache.logging.log4j:log4j-core",
                                              "org.apache.logging.log4j:log4j-core"),
        ("Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"), ("Debian:12", "libssl3", "libssl3"),
    ],
)
def test_normalize_package(ecosystem: str, name: str, key: str) -> None:
    assert normalize_package(ecosystem, name) == key


def test_ecosystem_for_os() -> None:
    assert ecosystem_for_os("debian", "12.5") == "Debian:12"
    assert ecosystem_for_os("debian", None, "trixie") == "Debian:13"
    assert ecosystem_for_os("alpine", "3.18.4") == "Alpine:v3.18"
    assert ecosystem_for_os("amzn", "2023") == "Amazon Linux:2023"
    assert ecosystem_for_os("amzn", "2") == "Amazon Linux:2"
    assert ecosystem_for_os("rhel", "9.3") is None
    assert ecosystem_for_os("debian", None) is None


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:N/I:H/A:H", 6.3),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P", 9.8),
    ],
)
def test_cvss3_base_score(vector: str, score: float) -> None:
    assert cvss_base_score("CVSS_V3", vector) == score


def test_cvss_v2_and_v4_scores() -> None:
    assert cvss_base_score("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    assert cvss_base_score("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N") == 9.3


@pytest.mark.parametrize("vector", ["CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                                    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H", "CVSS:3.1/AV:N/AV:N", ""])
def test_cvss3_rejects_invalid_vectors(vector: str) -> None:
    assert cvss_base_score("CVSS_V3", vector) is None


def test_labels() -> None:
    assert [normalize_label(w) for w in ("MODERATE", "Important", "low**", "unimportant", "not yet assigned",
                                         None, 3)] == ["MEDIUM", "HIGH", "LOW", "INFORMATIONAL", None, None, None]
    assert [label_for_score(s) for s in (9.0, 7.0, 6.9, 0.1, 0.0)] == ["CRITICAL", "HIGH", "MEDIUM", "LOW",
                                                                      "INFORMATIONAL"]
    assert highest(["LOW", None, "HIGH", "MEDIUM"]) == "HIGH" and highest([None]) is None


def test_timestamps_and_truncation() -> None:
    assert timestamp("2021-07-05T00:01:25.632991Z") == "2021-07-05T00:01:25Z"
    assert timestamp("2023-02-17 20:41:00") == "2023-02-17T20:41:00Z"
    assert timestamp("2024-01-01T02:00:00+02:00") == "2024-01-01T00:00:00Z"
    assert timestamp("0001-01-01T00:00:00Z") == "0001-01-01T00:00:00Z"
    assert timestamp("yesterday") == "yesterday" and timestamp(None) is None and timestamp(" ") is None
    with pytest.raises(ValueError):
        timestamp(5)
    text = "word " * 2000
    cut = truncate(text)
    assert cut is not None and len(cut) <= 4000 and cut.endswith("word…")
    assert truncate("short") == "short" and truncate("  ") is None
