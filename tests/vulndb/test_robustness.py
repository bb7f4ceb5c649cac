"""Damaged, hostile and unknown inputs: a clear error or a counted skip, never a crash that loses other sources.
Rebuilds are deterministic; records sharing an id merge by the documented rule."""

from __future__ import annotations

import gzip
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from imagescan.vulndb.builder import build_database
from imagescan.vulndb.errors import VulnDBError
from imagescan.vulndb.schema import TABLES
from imagescan.vulndb.store import VulnDB
from tests.vulndb.conftest import DATA, SAMPLES, need_shared

BOMB = """<?xml version="1.0"?>
<!DOCTYPE updates [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<updates><update type="security"><id>ALAS2023-2023-999</id><description>&e;&e;&e;&e;</description></update></updates>
"""

RECORD = {"id": "TEST-1", "modified": "2024-01-01T00:00:00Z",
          "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                        "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.3.0"}]}]}]}


def good_feed(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps([RECORD]))
    return path


def test_damaged_files_are_reported_and_the_rest_is_built(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.json"
    truncated.write_text(json.dumps([RECORD, dict(RECORD, id="TEST-2")])[:-40])
    bomb = tmp_path / "updateinfo.xml"
    bomb.write_text(BOMB)
    bad_gzip = tmp_path / "feed.json.gz"
    bad_gzip.write_bytes(gzip.compress(json.dumps([RECORD]).encode())[:-12])
    bad_xml = tmp_path / "truncated-updateinfo.xml"
    bad_xml.write_text((SAMPLES / "updateinfo.xml").read_text()[:3000])
    unknown = tmp_path / "README.md"
    unknown.write_text("# not a feed\n")
    out = tmp_path / "db.sqlite"
    report = build_database([truncated, bomb, bad_gzip, bad_xml, unknown, good_feed(tmp_path)], out)
    reasons = {Path(p.path).name: p.reason for p in report.errors}
    assert set(reasons) == {"truncated.json", "updateinfo.xml", "feed.json.gz", "truncated-updateinfo.xml",
                            "README.md"}
    assert "not valid JSON" in reasons["truncated.json"]
    assert "unsafe XML refused" in reasons["updateinfo.xml"] and "Entit" in reasons["updateinfo.xml"]
    assert "gzip" in reasons["feed.json.gz"]
    assert "malformed XML" in reasons["truncated-updateinfo.xml"]
    assert "unrecognised feed format" in reasons["README.md"] and "Tried:" in reasons["README.md"]
    assert not report.ok
    assert [s.name for s in report.sources] == ["good.json"]
    db = VulnDB(out)
    assert [a.vuln_id for a in db.advisories("npm", "left-pad")] == ["TEST-1"]
    # the truncated updateinfo.xml had complete <update>s before the damage: all rolled back, none half-stored
    assert db.advisories("Amazon Linux:2023", "rsync") == []


def test_zip_with_bad_members(tmp_path: Path) -> None:
    path = tmp_path / "records.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/TEST-1.json", json.dumps(RECORD))
        zf.writestr("b/TEST-2.json", json.dumps(dict(RECORD, id="TEST-2")))
        zf.writestr("c/broken.json", '{"id": "TEST-3", "affected": [')
        zf.writestr("d/TEST-4.json", json.dumps(dict(RECORD, id="TEST-4")))
        zf.writestr("README.md", "not a record")
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("b/TEST-2.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    out = tmp_path / "db.sqlite"
    report = build_database([path], out)
    assert report.errors == []
    info_ = report.sources[0]
    assert (info_.records, info_.skipped) == (2, 2)
    assert any("TEST-2" in note for note in info_.notes) and any("broken.json" in note for note in info_.notes)
    assert [a.vuln_id for a in VulnDB(out).advisories("npm", "left-pad")] == ["TEST-1", "TEST-4"]


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "records.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    report = build_database([path, good_feed(tmp_path)], tmp_path / "db.sqlite")
    assert len(report.errors) == 1 and "zip" in report.errors[0].reason


def test_nothing_readable_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{")
    out = tmp_path / "db.sqlite"
    with pytest.raises(VulnDBError, match=r"no feed data could be read.*not valid JSON"):
        build_database([bad], out)
    assert not out.exists() and list(tmp_path.iterdir()) == [bad], "no temporary file left behind"
    with pytest.raises(VulnDBError, match="no such file"):
        build_database([tmp_path / "missing.json"], out)
    with pytest.raises(VulnDBError, match="no feed files"):
        build_database([], out)


def test_failed_build_keeps_the_previous_database(tmp_path: Path) -> None:
    out = tmp_path / "db.sqlite"
    build_database([good_feed(tmp_path)], out)
    before = out.read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(VulnDBError):
        build_database([bad], out)
    assert out.read_bytes() == before


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}
    finally:
        conn.close()


def test_rebuild_is_idempotent(tmp_path: Path) -> None:
    need_shared()
    inputs = [DATA / "alpine", DATA / "amazon", DATA / "kev", DATA / "osv" / "ghsa-selected",
              SAMPLES / "debian-tracker.json", SAMPLES / "updateinfo.xml", SAMPLES / "epss.csv"]
    first, second, third = tmp_path / "1.db", tmp_path / "2.db", tmp_path / "3.db"
    build_database(inputs, first)
    build_database(inputs, second)
    a, b = dump(first), dump(second)
    assert {k: v for k, v in a.items() if k != "meta"} == {k: v for k, v in b.items() if k != "meta"}
    assert sum(len(v) for v in a.values()) > 1000
    import datetime as dt

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    build_database(inputs, first, built_at=when)
    build_database(inputs, third, built_at=when)
    assert first.read_bytes() == third.read_bytes()


def test_merge_rule(tmp_path: Path) -> None:
    old = {"id": "MERGE-1", "modified": "2024-01-01T00:00:00Z", "summary": "old", "aliases": ["CVE-2024-1111"],
           "affected": [
               {"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [
                   {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]},
               {"package": {"ecosystem": "PyPI", "name": "b"}, "ranges": [
                   {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}]}]}
    new = {"id": "MERGE-1", "modified": "2024-06-01T00:00:00Z", "summary": "new", "aliases": ["GHSA-aaaa-bbbb-cccc"],
           "affected": [
               {"package": {"ecosystem": "PyPI", "name": "a"}, "ranges": [
                   {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]},
               {"package": {"ecosystem": "PyPI", "name": "c"}, "versions": ["0.1"]}]}
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(json.dumps(old))
    new_path.write_text(json.dumps(new))
    for order in ([old_path, new_path], [new_path, old_path]):
        out = tmp_path / f"{order[0].stem}-first.db"
        report = build_database(order, out)
        assert report.sources[1].merged == 1
        db = VulnDB(out)
        assert db.advisories("PyPI", "a")[0].fixed_versions == ["2.0"]
        assert db.advisories("PyPI", "a")[0].summary == "new"
        assert db.advisories("PyPI", "b")[0].fixed_versions == ["1.0"]
        assert db.advisories("PyPI", "c")[0].versions == ["0.1"]
        assert db.advisories("PyPI", "a")[0].aliases == ["CVE-2024-1111", "GHSA-aaaa-bbbb-cccc"]
        assert db.alias_group("GHSA-aaaa-bbbb-cccc") == ["CVE-2024-1111", "GHSA-aaaa-bbbb-cccc", "MERGE-1"]


def test_store_refuses_what_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match="no vulnerability database"):
        VulnDB(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(VulnDBError, match="not an imagescan vulnerability database"):
        VulnDB(junk)
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '999')")
    conn.commit()
    conn.close()
    with pytest.raises(VulnDBError, match="schema version 999"):
        VulnDB(other)


def test_store_is_read_only(tmp_path: Path) -> None:
    out = tmp_path / "db.sqlite"
    build_database([good_feed(tmp_path)], out)
    db = VulnDB(out)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db._conn.execute("DELETE FROM affected")
