"""Property tests: random and mutated feed content only ever yields records, counted skips or FeedError."""

from __future__ import annotations

import copy
import gzip
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.errors import VulnDBError
from imagescan.vulndb.store import VulnDB
from tests.vulndb.conftest import SAMPLES

SETTINGS = settings(
    max_examples=int(os.environ.get("VULNDB_FUZZ_EXAMPLES", "150")), deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
WORDS = st.sampled_from(["id", "affected", "modified", "package", "ecosystem", "name", "ranges", "events",
                         "introduced", "fixed", "versions", "releases", "status", "fixed_version", "secfixes",
                         "distroversion", "packages", "pkg", "vulnerabilities", "catalogVersion", "cveID",
                         "dateAdded", "cycle", "eol", "_meta", "ALAS2023-2023-001", "cveids", "CVE-2024-0001",
                         "PyPI", "Debian:12", "0", "vulns", "withdrawn", "aliases", "severity", "type", "score"])
SHAPED = st.recursive(
    JSON_SCALARS | WORDS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=5),
    max_leaves=30,
)

OSV = {"id": "PYSEC-2014-13", "modified": "2021-07-05T00:01:25.632991Z", "published": "2014-10-15T14:55:00Z",
       "aliases": ["CVE-2014-1829", "GHSA-cfj3-7x9c-4p3h"], "summary": "s", "details": "d",
       "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
       "affected": [{"package": {"name": "requests", "ecosystem": "PyPI", "purl": "pkg:pypi/requests"},
                     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.3.0"}]},
                                {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]}],
                     "versions": ["1.0", "2.0"], "database_specific": {"status": "not-affected"}}],
       "references": [{"type": "WEB", "url": "https://example.org"}], "database_specific": {"severity": "HIGH"}}
TEMPLATES: list[Any] = [
    OSV,
    [OSV, dict(OSV, id="GO-2020-0001")],
    {"vulns": [OSV]},
    json.loads((SAMPLES / "debian-tracker.json").read_text()),
    {"distroversion": "v3.18", "reponame": "main",
     "packages": [{"pkg": {"name": "musl", "secfixes": {"1.2.4-r3": ["CVE-2025-26519"], "0": ["CVE-2016-8859"]}}}]},
    {"name": "musl", "secfixes": {"1.1.15-r4": ["CVE-2016-8859"]}, "reponame": "main", "distroversion": "v3.18"},
    [{"id": "ALAS2023-2023-002", "title": "t", "issued": "2023-02-17 20:41:00", "severity": "Important",
      "cveids": ["CVE-2018-25032"], "evr": {"epoch": "0", "version": "3.2.6", "release": "1.amzn2023.0.3"},
      "packages": ["rsync", "rsync-daemon"], "arches": ["x86_64"]}],
    {"catalogVersion": "2025.08.25", "vulnerabilities": [
        {"cveID": "CVE-2025-48384", "dateAdded": "2025-08-25", "dueDate": "2025-09-15",
         "knownRansomwareCampaignUse": "Known", "vendorProject": "Git", "product": "Git"}]},
    {"debian": [{"cycle": "12", "releaseDate": "2023-06-10", "eol": "2026-07-11", "latest": "12.15", "lts": True}],
     "_meta": {"products": {"debian": {"aliases": ["deb"]}}}},
]


def consume(path: Path) -> None:
    """Build a database from one file and read everything back; only the documented errors may escape."""
    out = path.parent / "fuzz.db"
    try:
        report = build_database([path], out)
    except VulnDBError:
        return
    assert report.sources or report.errors
    with VulnDB(out) as db:
        for ecosystem, package in db._query("SELECT DISTINCT ecosystem, package FROM affected"):
            for adv in db.advisories(ecosystem, package, include_withdrawn=True):
                assert db.alias_group(adv.vuln_id)
        for (cve,) in db._query("SELECT cve FROM kev"):
            assert db.kev(cve) is not None
        for (cve,) in db._query("SELECT cve FROM epss"):
            assert db.epss(cve) is not None
        for (product,) in db._query("SELECT DISTINCT product FROM eol_cycle"):
            assert db.eol(product)
        db.info()


def consume_bytes(data: bytes, name: str = "feed") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        consume(path)


def mutate(obj: Any, data: st.DataObject, depth: int = 0) -> Any:
    """Replace, drop or retype one value somewhere in ``obj``."""
    if isinstance(obj, dict) and obj and depth < 6:
        key = data.draw(st.sampled_from(sorted(obj, key=str)))
        action = data.draw(st.sampled_from(["recurse", "recurse", "replace", "drop"]))
        if action == "recurse":
            obj[key] = mutate(obj[key], data, depth + 1)
        elif action == "replace":
            obj[key] = data.draw(SHAPED)
        else:
            del obj[key]
        return obj
    if isinstance(obj, list) and obj and depth < 6:
        index = data.draw(st.integers(0, len(obj) - 1))
        obj[index] = mutate(obj[index], data, depth + 1)
        return obj
    return data.draw(SHAPED)


@SETTINGS
@given(st.data())
def test_mutated_feeds(data: st.DataObject) -> None:
    obj = copy.deepcopy(data.draw(st.sampled_from(TEMPLATES)))
    for _ in range(data.draw(st.integers(1, 4))):
        obj = mutate(obj, data)
    consume_bytes(json.dumps(obj).encode(), data.draw(st.sampled_from(["feed.json", "feed"])))


@SETTINGS
@given(SHAPED | JSON_VALUES)
def test_random_json(obj: Any) -> None:
    consume_bytes(json.dumps(obj).encode(), "x.json")


@SETTINGS
@given(st.sampled_from([b"", b"\x1f\x8b", b"PK\x03\x04", b"<updates>", b"<?xml version='1.0'?><updates><update>",
                        b"{", b"[", b"#model_version:v1,score_date:2025-01-01\ncve,epss,percentile\n",
                        b"cve,epss\nCVE-2024-0001,"]), st.binary(max_size=300))
def test_random_bytes(prefix: bytes, tail: bytes) -> None:
    consume_bytes(prefix + tail)


@SETTINGS
@given(st.lists(st.tuples(st.text("abc/.json", min_size=1, max_size=8), SHAPED | JSON_VALUES | st.binary(max_size=40)),
                max_size=4, unique_by=lambda member: member[0]), st.booleans())
def test_random_zips_and_gzips(members: list[tuple[str, Any]], compress: bool) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, value in members:
            zf.writestr(name, value if isinstance(value, bytes) else json.dumps(value))
    consume_bytes(buf.getvalue(), "x.zip")
    if members:
        payload = json.dumps(members[0][1]).encode() if not isinstance(members[0][1], bytes) else members[0][1]
        consume_bytes(gzip.compress(payload) if compress else gzip.compress(payload)[:-5], "x.json.gz")


@SETTINGS
@given(st.data())
def test_mutated_updateinfo(data: st.DataObject) -> None:
    xml = (SAMPLES / "updateinfo.xml").read_bytes()
    cut = data.draw(st.integers(0, len(xml)))
    action = data.draw(st.sampled_from(["truncate", "flip", "insert"]))
    if action == "truncate":
        mutated = xml[:cut]
    elif action == "flip":
        mutated = xml[:cut] + bytes([data.draw(st.integers(0, 255))]) + xml[cut + 1:]
    else:
        mutated = xml[:cut] + data.draw(st.sampled_from([b"<", b">", b"&x;", b'"', b"</update>", b"\x00"])) + xml[cut:]
    consume_bytes(mutated, "updateinfo.xml")
