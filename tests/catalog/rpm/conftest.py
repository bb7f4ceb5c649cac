"""Fixtures of the rpm cataloger tests: the real databases in shared/data, databases built by the real rpm tools
(scripts/fixtures/rpmdb.py, cached under .fixtures/rpm by the script's hash), and a builder of header blobs."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.needs import missing

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED = Path(os.environ.get("IMAGESCAN_SHARED", REPO_ROOT.parent / "shared"))
REAL_PKGDBS = SHARED / "data" / "real-pkgdbs"
RPM_FORMATS = ("rpm-bdb", "rpm-ndb", "rpm-sqlite")
FIXTURE_SCRIPT = REPO_ROOT / "scripts" / "fixtures" / "rpmdb.py"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-rpm
QUERY_TAGS = ("NAME", "EPOCH", "VERSION", "RELEASE", "ARCH", "SOURCERPM", "LICENSE", "VENDOR")
QUERY_FIELDS = ("name", "epoch", "version", "release", "arch", "source_rpm", "license", "vendor")


def real_cases() -> list[Path]:
    """The expected.json of every rpm case in shared/data (empty when shared/ is not there)."""
    return sorted(p for fmt in RPM_FORMATS for p in (REAL_PKGDBS / fmt).glob("*/expected.json"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests taking ``real_case`` run once per real database (its expected.json, already loaded)."""
    if "real_case" not in metafunc.fixturenames:
        return
    cases = real_cases()
    metafunc.parametrize(
        "real_case",
        [json.loads(p.read_text()) | {"_dir": str(p.parent)} for p in cases] or [None],
        ids=[f"{p.parent.parent.name}/{p.parent.name}" for p in cases] or ["no-real-databases"],
        indirect=True,
    )


@pytest.fixture
def real_case(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param is None:
        missing(f"the real rpm databases under {REAL_PKGDBS} (set IMAGESCAN_SHARED)")
    case: dict[str, Any] = request.param
    return case


@dataclass(frozen=True)
class ToolDbs:
    """Databases written by the real rpm tools (see scripts/fixtures/rpmdb.py)."""

    root: Path
    manifest: dict[str, Any]

    @property
    def sqlite_file(self) -> Path:
        return self.root / str(self.manifest["sqlite"]["file"])

    def rpm_sqlite_args(self) -> list[str]:
        return ["rpm", "--root", str(self.root / self.manifest["sqlite"]["root"]),
                "--dbpath", self.manifest["sqlite"]["dbpath"]]

    def bdb_file(self, variant: str) -> Path:
        return self.root / str(self.manifest["bdb"][variant]["file"])

    def rpm_bdb_args(self, variant: str) -> list[str]:
        return ["rpm", "--define", "_db_backend bdb_ro", "--dbpath", str(self.bdb_file(variant).parent)]


def _build_tool_dbs() -> Path:
    digest = hashlib.sha256(FIXTURE_SCRIPT.read_bytes()).hexdigest()[:16]
    base = REPO_ROOT / ".fixtures" / "rpm"
    out = base / digest
    base.mkdir(parents=True, exist_ok=True)
    with (base / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers build it once
        if not (out / "manifest.json").is_file():
            shutil.rmtree(out, ignore_errors=True)
            proc = subprocess.run([SYSTEM_PYTHON, str(FIXTURE_SCRIPT), str(out)],
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"{FIXTURE_SCRIPT.name} failed:\n{proc.stdout}\n{proc.stderr}")
    return out


@pytest.fixture(scope="session")
def tool_dbs() -> ToolDbs:
    if shutil.which("rpm") is None:
        missing("the rpm tool is not installed (apt-get install rpm db5.3-util python3-rpm)")
    root = _build_tool_dbs()
    return ToolDbs(root, json.loads((root / "manifest.json").read_text()))


def _rpm_query(args: Sequence[str]) -> list[dict[str, str | int | None]]:
    """``rpm -qa`` with the fields the expected lists use; ``(none)`` becomes None, EPOCH an int."""
    qf = "\\t".join(f"%{{{tag}}}" for tag in QUERY_TAGS) + "\\n"
    proc = subprocess.run([*args, "-qa", "--qf", qf], capture_output=True, text=True, check=True)
    rows: list[dict[str, str | int | None]] = []
    for line in proc.stdout.splitlines():
        values = line.split("\t")
        assert len(values) == len(QUERY_TAGS), line
        row: dict[str, str | int | None] = {
            field: None if value == "(none)" else value for field, value in zip(QUERY_FIELDS, values, strict=True)
        }
        row["epoch"] = None if row["epoch"] is None else int(row["epoch"])
        rows.append(row)
    return rows


def _rpm_files(args: Sequence[str]) -> dict[str, list[str]]:
    """``rpm -qal``: the file list of every package, by name (works without rpm's Name index, unlike ``-ql NAME``)."""
    marker = "@@@package "
    proc = subprocess.run([*args, "-qal", "--qf", marker + "%{NAME}\\n"], capture_output=True, text=True, check=True)
    files: dict[str, list[str]] = {}
    current: list[str] = []
    for line in proc.stdout.splitlines():
        if line.startswith(marker):
            name = line.removeprefix(marker)
            assert name not in files, f"{name} twice"
            current = files[name] = []
        elif line != "(contains no files)":
            current.append(line)
    return files


@pytest.fixture(scope="session")
def rpm_query() -> Callable[[Sequence[str]], list[dict[str, str | int | None]]]:
    return _rpm_query


@pytest.fixture(scope="session")
def rpm_files() -> Callable[[Sequence[str]], dict[str, list[str]]]:
    return _rpm_files


# --- header blobs built by hand -------------------------------------------------------------------------------

HeaderValue = str | list[str] | list[int] | bytes
TagSpec = tuple[int, int, HeaderValue]  # tag, type, value


def build_header(entries: Sequence[TagSpec]) -> bytes:
    """An rpm header blob (no region) with the entries in the order given; ints are INT32 unless typed 2/3/5."""
    index = io.BytesIO()
    data = bytearray()
    sizes = {1: "B", 2: "B", 3: "H", 4: "I", 5: "Q"}
    for tag, typ, value in entries:
        if typ in sizes:
            assert isinstance(value, list)
            code = sizes[typ]
            while len(data) % struct.calcsize(code):
                data.append(0)
            offset, count = len(data), len(value)
            data += struct.pack(f">{count}{code}", *value)
        elif typ == 7:
            assert isinstance(value, bytes)
            offset, count = len(data), len(value)
            data += value
        else:
            strings = [value] if isinstance(value, str) else value
            assert all(isinstance(s, str) for s in strings)
            offset, count = len(data), len(strings)
            for s in strings:
                data += str(s).encode() + b"\0"
        index.write(struct.pack(">IIiI", tag, typ, offset, count))
    return struct.pack(">II", len(entries), len(data)) + index.getvalue() + bytes(data)


@pytest.fixture(scope="session")
def header_builder() -> Callable[[Sequence[TagSpec]], bytes]:
    return build_header


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not REAL_PKGDBS.is_dir():
        missing(f"shared data not found at {REAL_PKGDBS} (set IMAGESCAN_SHARED)")
    return REAL_PKGDBS
