"""A local HTTP server (127.0.0.1 only) serving live-feed files in their real formats, for ``db update`` tests.

Files are built from shared/data: OSV ``all.zip`` exports zipped from real records, the real KEV catalog, a Debian
security-tracker JSON generated from the Debian 12 changelog-derived records, Alpine secdb ``main.json`` joined from
the real per-package secfixes, an Amazon Linux yum repository (``mirror.list`` → ``repodata/repomd.xml`` →
``updateinfo.xml.gz``) generated from the ALAS2023 transcriptions, an EPSS ``csv.gz`` and endoflife.date API v1
product documents generated from the shared end-of-life table.

Paths are those of the real URLs under the mirror scheme of ``db update --mirror``: ``/HOST/PATH``. The server
answers conditional GETs (ETag and Last-Modified), records every request, and can be told to fail.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import hashlib
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from imagescan.vulndb.sources import Feed, default_feeds, mirror_url

TEST_FEEDS = ("osv/PyPI", "osv/npm", "debian-tracker", "alpine-secdb/v3.18-main", "alas/al2023", "kev", "epss",
              "eol/debian", "eol/alpine-linux")
AL2023_GUID = "f8a1c6d0e4b24b3e9b2f0c1d2e3f4a5b"
LAST_MODIFIED = "Tue, 25 Nov 2026 10:00:00 GMT"


def served_feeds() -> list[Feed]:
    """The real feed definitions (real URLs) for the feeds served here."""
    return [feed for feed in default_feeds() if feed.name in TEST_FEEDS]


def _path(url: str) -> str:
    return mirror_url(url, "")


def _zip(records: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 25, 0, 0, 0))
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def osv_pypi(data: Path, count: int = 40) -> bytes:
    with zipfile.ZipFile(data / "osv" / "pypi-pysec-osv.zip") as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".json"))[:count]
        return _zip([(n.rsplit("/", 1)[-1], zf.read(n)) for n in names])


def osv_npm(data: Path) -> bytes:
    records = []
    for path in sorted((data / "osv" / "ghsa-selected").glob("*.json")):
        record = json.loads(path.read_text())
        if any(a.get("package", {}).get("ecosystem") == "npm" for a in record.get("affected", [])):
            records.append((path.name, path.read_bytes()))
    return _zip(records)


def debian_tracker(data: Path, sources: tuple[str, ...] = ("openssl", "zlib", "curl", "glibc")) -> bytes:
    """``{source: {CVE: {description, scope, releases: {bookworm: {status, repositories, fixed_version,
    urgency}}}}}`` from the changelog-derived Debian 12 records; the newest CVE per package is left open."""
    doc = json.loads(gzip.decompress((data / "debian" / "debian12-changelog-derived-osv.json.gz").read_bytes()))
    tracker: dict[str, dict[str, Any]] = {}
    for record in doc["vulns"]:
        for affected in record["affected"]:
            name = affected["package"]["name"]
            if name not in sources or not record.get("upstream"):
                continue
            fixed = [e["fixed"] for r in affected.get("ranges", []) for e in r["events"] if "fixed" in e]
            tracker.setdefault(name, {})[record["upstream"][0]] = {
                "description": record.get("summary", ""),
                "scope": "remote",
                "releases": {"bookworm": {"status": "resolved", "repositories": {"bookworm": fixed[-1]},
                                          "fixed_version": fixed[-1], "urgency": "medium"}},
            }
    for name, cves in tracker.items():
        newest = max(cves)
        cves[newest]["releases"]["bookworm"] = {"status": "open", "repositories": {"bookworm": "1.0-1"},
                                                "urgency": "low", "nodsa": "Minor issue"}
        tracker[name] = dict(sorted(cves.items()))
    return json.dumps(dict(sorted(tracker.items())), indent=1).encode()


def alpine_main(data: Path) -> bytes:
    packages = []
    for path in sorted((data / "alpine" / "raw-secdb").glob("v3.18-main-*.json")):
        entry = json.loads(path.read_text())
        packages.append({"pkg": {"name": entry["name"], "secfixes": entry["secfixes"]}})
    return json.dumps({"apkurl": "{{urlprefix}}/{{distroversion}}/{{reponame}}/{{arch}}/{{pkg.name}}-{{pkg.ver}}.apk",
                       "archs": ["aarch64", "x86_64"], "reponame": "main",
                       "urlprefix": "https://dl-cdn.alpinelinux.org/alpine", "distroversion": "v3.18",
                       "packages": packages}, indent=1).encode()


def updateinfo(data: Path) -> bytes:
    advisories = json.loads((data / "amazon" / "raw-alas" / "alas2023-compact.json").read_text())
    out = ['<?xml version="1.0" ?>', "<updates>"]
    for adv in advisories:
        evr = adv["evr"]
        out.append('  <update author="linux-security@amazon.com" from="linux-security@amazon.com" status="final" '
                   'type="security" version="1.4">')
        out.append(f"    <id>{adv['id']}</id>")
        out.append(f"    <title>{adv['title']}</title>")
        out.append(f'    <issued date="{adv["issued"]}" />')
        out.append(f'    <updated date="{adv["updated"]}" />')
        out.append(f"    <severity>{adv['severity']}</severity>")
        out.append("    <references>")
        for cve in adv["cveids"]:
            out.append(f'      <reference href="https://access.redhat.com/security/cve/{cve}" id="{cve}" '
                       f'title="" type="cve" />')
        out.append("    </references>")
        out.append('    <pkglist>\n      <collection short="amazon-linux-2023">')
        out.append("        <name>Amazon Linux 2023</name>")
        for arch in adv["arches"]:
            for name in adv["packages"]:
                out.append(f'        <package arch="{arch}" epoch="{evr["epoch"]}" name="{name}" '
                           f'release="{evr["release"]}" version="{evr["version"]}">')
                out.append(f"          <filename>Packages/{name}-{evr['version']}-{evr['release']}.{arch}.rpm"
                           "</filename>\n        </package>")
        out.append("      </collection>\n    </pkglist>\n  </update>")
    out.append("</updates>\n")
    return "\n".join(out).encode()


def repomd(updateinfo_gz: bytes, href: str) -> bytes:
    sha = hashlib.sha256(updateinfo_gz).hexdigest()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1732000000</revision>
  <data type="primary_db">
    <checksum type="sha256">{"0" * 64}</checksum>
    <location href="repodata/primary.sqlite.gz"/>
    <timestamp>1732000000</timestamp>
  </data>
  <data type="updateinfo">
    <checksum type="sha256">{sha}</checksum>
    <location href="{href}"/>
    <timestamp>1732000000</timestamp>
    <size>{len(updateinfo_gz)}</size>
  </data>
</repomd>
""".encode()


def kev(data: Path) -> bytes:
    return gzip.decompress((data / "kev" / "known_exploited_vulnerabilities.json.gz").read_bytes())


def epss(kev_doc: bytes, count: int = 2000) -> bytes:
    cves = sorted({v["cveID"] for v in json.loads(kev_doc)["vulnerabilities"]})[:count]
    rows = ["#model_version:v2025.03.14,score_date:2026-11-25T00:00:00Z", "cve,epss,percentile"]
    for cve in cves:
        n = int(hashlib.sha256(cve.encode()).hexdigest()[:8], 16)
        rows.append(f"{cve},{(n % 100000) / 100000:.5f},{(n % 99991) / 100000:.5f}")
    return _gzip(("\n".join(rows) + "\n").encode())


def _is_past(value: object) -> bool:
    return value is True or (isinstance(value, str) and value < "2026-11-25")


def eol_v1(data: Path, product: str) -> bytes:
    """An endoflife.date API v1 product document for ``product`` of the shared end-of-life table."""
    table = json.loads((data / "eol" / "eol.json").read_text())
    meta = table["_meta"]["products"][product]
    releases = []
    for cycle in table[product]:
        eol, lts = cycle.get("eol"), cycle.get("lts", False)
        release: dict[str, Any] = {
            "name": cycle["cycle"], "codename": cycle.get("codename"), "label": cycle["cycle"],
            "releaseDate": cycle.get("releaseDate"), "isLts": bool(lts),
            "ltsFrom": lts if isinstance(lts, str) else None, "isEol": _is_past(eol),
            "eolFrom": eol if isinstance(eol, str) else None,
        }
        if "eoes" in cycle:
            release["isEoes"] = _is_past(cycle["eoes"])
            release["eoesFrom"] = cycle["eoes"] if isinstance(cycle["eoes"], str) else None
        release["isMaintained"] = not release["isEol"]
        release["latest"] = {"name": cycle.get("latest"), "date": cycle.get("latestReleaseDate"), "link": None}
        release["custom"] = None
        releases.append(release)
    doc = {"schema_version": "1.2.0", "generated_at": "2026-11-25T10:00:00+00:00",
           "last_modified": "2026-11-25T10:00:00+00:00",
           "result": {"name": product, "aliases": sorted(set(meta.get("aliases") or [])), "label": meta["title"],
                      "category": "os", "tags": [], "identifiers": [], "releases": releases}}
    return json.dumps(doc).encode()


def feed_files(data: Path) -> dict[str, bytes]:
    """Server path → body, for every feed of :data:`TEST_FEEDS`."""
    feeds = {feed.name: feed for feed in served_feeds()}
    kev_doc = kev(data)
    info_gz = _gzip(updateinfo(data))
    href = f"repodata/{hashlib.sha256(info_gz).hexdigest()[:16]}-updateinfo.xml.gz"
    mirror = f"https://cdn.amazonlinux.com/al2023/core/guids/{AL2023_GUID}/x86_64/"
    return {
        _path(feeds["osv/PyPI"].url): osv_pypi(data),
        _path(feeds["osv/npm"].url): osv_npm(data),
        _path(feeds["debian-tracker"].url): debian_tracker(data),
        _path(feeds["alpine-secdb/v3.18-main"].url): alpine_main(data),
        _path(feeds["alas/al2023"].url): (mirror + "\n").encode(),
        _path(mirror + "repodata/repomd.xml"): repomd(info_gz, href),
        _path(mirror + href): info_gz,
        _path(feeds["kev"].url): kev_doc,
        _path(feeds["epss"].url): epss(kev_doc),
        _path(feeds["eol/debian"].url): eol_v1(data, "debian"),
        _path(feeds["eol/alpine-linux"].url): eol_v1(data, "alpine-linux"),
    }


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int


@dataclass
class FeedServer:
    files: dict[str, bytes]
    base: str = ""
    requests: list[Request] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)
    """Path → statuses to answer first, one per request (0: cut the body short)."""
    always: dict[str, int] = field(default_factory=dict)
    no_etag: set[str] = field(default_factory=set)
    """Paths served with Last-Modified only."""
    modified: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, path: str, body: bytes, last_modified: str | None = None) -> None:
        with self.lock:
            self.files[path] = body
            self.modified[path] = last_modified or email.utils.format_datetime(dt.datetime.now(dt.UTC), usegmt=True)

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        with self.lock:
            planned = self.failures.get(path)
            if planned:
                return planned.pop(0), b"", {}
            if path in self.always:
                return self.always[path], b"", {}
            body = self.files.get(path)
            if body is None:
                return 404, b"not found\n", {}
            etag = None if path in self.no_etag else f'"{hashlib.sha256(body).hexdigest()[:20]}"'
            modified = self.modified.get(path, LAST_MODIFIED)
        out = {"Last-Modified": modified}
        if etag:
            out["ETag"] = etag
            if headers.get("If-None-Match") == etag:
                return 304, b"", out
        since = headers.get("If-Modified-Since")
        if since and not etag:
            try:
                if email.utils.parsedate_to_datetime(modified) <= email.utils.parsedate_to_datetime(since):
                    return 304, b"", out
            except (TypeError, ValueError):
                pass
        return 200, body, out


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            headers = {k: v for k, v in self.headers.items()}
            status, body, extra = server.answer(self.path, headers)
            with server.lock:
                server.requests.append(Request(self.path, headers, status))
            if status == 0:  # announce the whole body, send half of it, close
                full = server.files.get(self.path, b"x" * 1000)
                self.send_response(200)
                self.send_header("Content-Length", str(len(full)))
                self.end_headers()
                self.wfile.write(full[: len(full) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(status)
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

    return Handler


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to 127.0.0.1."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if host != "127.0.0.1":
            raise AssertionError(f"test tried to connect to {address!r}")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def serve(files: dict[str, bytes]) -> Iterator[FeedServer]:
    """Run a :class:`FeedServer` on 127.0.0.1 for the duration of the generator."""
    state = FeedServer(dict(files))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="feedserver", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
