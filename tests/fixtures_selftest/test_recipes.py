"""The hand-made named images (apk, rpm), the build cache and CLI, and apt source parsing."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.build import build, build_info, main
from fixtures.imagebuilder import iter_layer
from fixtures.rootfs import debian_mirror, parse_deb822_sources, parse_one_line_sources
from tests.needs import missing


def layer_files(layout: Path, index: int = 0) -> dict[str, bytes | None]:
    top = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / top).read_bytes())
    blob = layout / "blobs/sha256" / manifest["layers"][index]["digest"].split(":")[1]
    return {info.name: data for info, data in iter_layer(blob)}


def parse_apk_db(text: str) -> list[dict[str, Any]]:
    pkgs: list[dict[str, Any]] = []
    for record in text.strip().split("\n\n"):
        pkg: dict[str, Any] = {"files": {}}
        directory = ""
        name = ""
        for line in record.splitlines():
            key, _, value = line.partition(":")
            if key == "F":
                directory = value
            elif key == "R":
                name = f"{directory}/{value}"
            elif key == "Z":
                pkg["files"][name] = value
            else:
                pkg.setdefault(key, value)
        pkgs.append(pkg)
    return pkgs


def test_apk_database_matches_the_files_it_lists(apk: Path) -> None:
    base, added = layer_files(apk, 0), layer_files(apk, 1)
    assert b"ID=alpine" in (base["etc/os-release"] or b"") and b"VERSION_ID=3.18.4" in (base["etc/os-release"] or b"")
    before = parse_apk_db((base["lib/apk/db/installed"] or b"").decode())
    after = parse_apk_db((added["lib/apk/db/installed"] or b"").decode())
    assert [p["P"] for p in after[: len(before)]] == [p["P"] for p in before]
    assert {p["P"] for p in after} - {p["P"] for p in before} == {"nghttp2-libs", "libcurl", "curl"}
    ssl = next(p for p in after if p["P"] == "libssl3")
    assert (ssl["V"], ssl["o"], ssl["A"]) == ("3.1.2-r0", "openssl", "x86_64")
    files = {**base, **added}
    for pkg in after:
        for path, checksum in pkg["files"].items():
            data = files[path]
            assert data is not None
            assert checksum == "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode(), path


def test_rpm_image_carries_the_given_database(tmp_path: Path) -> None:
    if shutil.which("rpm") is None:
        missing("needs rpm")
    dbpath = tmp_path / "rpmdb"
    subprocess.run(["rpm", "--dbpath", str(dbpath), "--initdb"], check=True, capture_output=True)
    db = dbpath / "rpmdb.sqlite"
    layout = build("rpm", tmp_path / "images", rpmdb=str(db))
    files = layer_files(layout)
    assert files["var/lib/rpm/rpmdb.sqlite"] == db.read_bytes()
    assert b'ID="amzn"' in (files["etc/os-release"] or b"")
    bdb = tmp_path / "Packages"
    bdb.write_bytes(b"\x00\x06\x15\x61" + b"\x00" * 60)  # not SQLite: taken as a BerkeleyDB Packages file
    files = layer_files(build("rpm", tmp_path / "images", rpmdb=str(bdb), os="amzn-2"))
    assert "var/lib/rpm/Packages" in files and b'VERSION_ID="2"' in (files["etc/os-release"] or b"")


def test_rpm_image_needs_a_database(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rpmdb"):
        build("rpm", tmp_path)
    with pytest.raises(ValueError, match="no such file"):
        build("rpm", tmp_path, rpmdb=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="takes no option"):
        build("small", tmp_path, rpmdb="x")


def test_builds_are_cached_and_the_cli_prints_the_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["small", "--out", str(tmp_path)]) == 0
    layout = Path(capsys.readouterr().out.strip())
    assert (layout / "index.json").exists() and layout.parent.name.startswith("small-")
    assert (tmp_path / "small").resolve() == layout.parent
    stamp = (layout.parent / "build.json").stat().st_mtime_ns
    assert build("small", tmp_path) == layout
    assert (layout.parent / "build.json").stat().st_mtime_ns == stamp
    assert build_info(layout)["name"] == "small"
    assert main(["rpm", "--out", str(tmp_path)]) == 2


DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Enabled: no
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
"""


def test_apt_sources_in_both_formats(tmp_path: Path) -> None:
    etc = tmp_path / "apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d/debian.sources").write_text(DEB822)
    (etc / "sources.list.d/other.list.disabled").write_text("deb http://nope.example/debian bookworm main\n")
    assert debian_mirror("bookworm", etc) == "http://deb.debian.org/debian"
    assert debian_mirror("bookworm", etc, security=True) == "http://deb.debian.org/debian-security"
    (etc / "sources.list.d/debian.sources").unlink()
    (etc / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main\n"
    )
    assert debian_mirror("bookworm", etc) == "http://mirror.example/debian"
    assert [s.uris for s in parse_deb822_sources(DEB822)] == [("http://deb.debian.org/debian",),
                                                            ("http://deb.debian.org/debian-security",)]  # fmt: skip


@given(st.text())
def test_source_parsers_never_crash(text: str) -> None:
    for src in parse_deb822_sources(text) + parse_one_line_sources(text):
        assert src.uris
