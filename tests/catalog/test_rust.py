"""The cargo-auditable cataloger against a rustc-built binary carrying a ``.dep-v0`` section (fixtures.recipes.binbuild:
cargo-auditable's format, assembled there from ``cargo metadata``), hand-made documents and bad input."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.recipes.binbuild import rust_program
from imagescan.catalog.base import CatalogError
from imagescan.catalog.rust import MAX_JSON, PROP_SOURCE, RustAuditableCataloger, audit_packages, inflate
from imagescan.models import PackageType, PathRecord
from tests.catalog.elfbuild import TEXT, BoundedReader, Sec, build_elf

CATALOGER = RustAuditableCataloger()


def with_section(payload: bytes) -> bytes:
    return build_elf([TEXT, Sec(".rodata", b"rust", addr=0x480000), Sec(".dep-v0", payload, flags=0)])


def audit(doc: Any) -> bytes:
    return with_section(zlib.compress(json.dumps(doc).encode()))


def run(data: bytes, path: str = "app/server") -> PathRecord | None:
    reader = BoundedReader(data)
    return CATALOGER.parse(path, reader, len(data))


@pytest.fixture(scope="module")
def real() -> Path:
    return rust_program()


def test_real_binary_matches_cargo_tree(real: Path) -> None:
    """What cargo itself says is linked (``cargo tree -e normal``): exactly the packages reported."""
    tree = {tuple(line.split()[:2]) for line in (real / "cargo-tree.txt").read_text().splitlines() if line}
    record = run((real / "rust-hello").read_bytes(), "app/rust-hello")
    assert record is not None and record.cataloger == "rust-auditable" and record.notes == []
    assert {(p.name, "v" + p.version) for p in record.packages} == tree
    by = {p.name: p for p in record.packages}
    assert by["imagescan-rust-hello"].component_type == "application"
    assert by["semver"].component_type == "library" and by["semver"].properties == {}
    assert by["greet"].properties == {PROP_SOURCE: "local"}
    assert "buildinfo-helper" not in by  # a build dependency: only its build script output is in the binary
    embedded = json.loads((real / "audit.json").read_text())
    assert {p["name"] for p in embedded["packages"] if p.get("kind") == "build"} == {"buildinfo-helper"}
    assert all(p.type == PackageType.CARGO and p.path == "app/rust-hello" for p in record.packages)


def test_document_forms() -> None:
    record = run(audit({"format": 1, "packages": [
        {"name": "app", "version": "1.0.0", "source": "local", "root": True, "dependencies": [1, 2, 3]},
        {"name": "serde", "version": "1.0.190", "source": "crates.io"},
        {"name": "forked", "version": "0.2.0", "source": "git", "kind": "runtime"},
        {"name": "internal", "version": "3.1.4", "source": {"Other": "sparse+https://cargo.example.com/"}},
        {"name": "cc", "version": "1.0.83", "source": "crates.io", "kind": "build"},
        {"name": "broken", "source": "crates.io"},
        "not a package",
    ]}))
    assert record is not None
    got = {(p.name, p.version, p.component_type, tuple(p.properties.items())) for p in record.packages}
    assert got == {
        ("app", "1.0.0", "application", ((PROP_SOURCE, "local"),)),
        ("serde", "1.0.190", "library", ()),
        ("forked", "0.2.0", "library", ((PROP_SOURCE, "git"),)),
        ("internal", "3.1.4", "library", ((PROP_SOURCE, "sparse+https://cargo.example.com/"),)),
    }
    assert len(record.notes) == 2 and "#5" in record.notes[0]


def test_no_section_or_not_elf() -> None:
    assert run(build_elf([TEXT])) is None
    assert run(b"\x00asm\x01\x00\x00\x00") is None


@pytest.mark.parametrize(("payload", "message"), [
    (b"not zlib", "not zlib"),
    (zlib.compress(b'{"packages": [')[:-4], "truncated|not JSON"),
    (zlib.compress(b"\xff\xfe"), "not JSON"),
    (zlib.compress(b'{"packages": {}}'), "no 'packages' list"),
    (zlib.compress(b"[1, 2]"), "no 'packages' list"),
    (zlib.compress(b"[" * 100_000 + b"]" * 100_000), "not JSON"),
])  # fmt: skip
def test_bad_documents(payload: bytes, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        run(with_section(payload))


def test_decompression_bomb_stops_at_the_limit() -> None:
    bomb = zlib.compress(b" " * (MAX_JSON + 1024), 9)
    assert len(bomb) < 100_000
    with pytest.raises(CatalogError, match="inflates past"):
        run(with_section(bomb))
    assert inflate(zlib.compress(b"x" * 10), limit=10) == b"x" * 10
    with pytest.raises(CatalogError, match="inflates past"):
        inflate(zlib.compress(b"x" * 11), limit=10)


def test_oversized_section_is_not_read() -> None:
    data = with_section(b"\x00" * (4 * 1024 * 1024 + 1))
    with pytest.raises(CatalogError, match="over the"):
        CATALOGER.parse("app/x", BoundedReader(data, max_read=1024 * 1024), len(data))


def test_wants() -> None:
    assert CATALOGER.wants_mode("usr/local/bin/rg", 0o755) and not CATALOGER.wants_mode("etc/passwd", 0o644)
    assert CATALOGER.wants("usr/local/bin/rg")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_sections_raise_catalog_error_or_parse(data: st.DataObject) -> None:
    doc = {"packages": [{"name": "a", "version": "1.0.0", "source": "local", "root": True, "dependencies": [1]},
                        {"name": "b", "version": "2.0.0", "source": "crates.io"}]}
    raw = bytearray(zlib.compress(json.dumps(doc).encode()) if data.draw(st.booleans()) else json.dumps(doc).encode())
    for _ in range(data.draw(st.integers(0, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    blob = with_section(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    blob = blob[: data.draw(st.integers(len(blob) // 2, len(blob)))]
    try:
        record = run(blob)
    except CatalogError:
        return
    assert record is not None and all(p.name and p.version for p in record.packages)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["packages", "name", "version", "source", "kind", "root", "Other"]),
                        inner, max_size=5), max_leaves=30))
def test_any_json_document(doc: Any) -> None:
    try:
        packages, notes = audit_packages(json.dumps(doc).encode(), "app/x")
    except CatalogError:
        return
    assert all(isinstance(p.name, str) and p.name for p in packages) and isinstance(notes, list)
