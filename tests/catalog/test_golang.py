"""The Go binary cataloger against a real Go 1.19 module build (fixtures.recipes.binbuild), Debian's GOPATH-mode
``gofmt``, synthetic files in both build-info layouts (checked against ``go version -m`` itself), and damage."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.recipes.binbuild import go_binary, go_program
from imagescan.catalog.base import CatalogError
from imagescan.catalog.golang import (
    PROP_DEVEL,
    PROP_REPLACED_BY,
    PROP_REPLACES,
    PROP_SUM,
    PROP_TOOLCHAIN,
    GoBinaryCataloger,
    go_packages,
    go_semver,
    parse_modinfo,
    split_module,
)
from imagescan.layer.walker import analyze_layer
from imagescan.models import Package, PackageType, PathRecord
from tests.catalog.elfbuild import BoundedReader, go_inline_elf, go_pointer_elf, wrap_modinfo

CATALOGER = GoBinaryCataloger()
MODINFO = (
    "path\texample.com/app/cmd/server\n"
    "mod\texample.com/app\tv1.4.0\th1:main=\n"
    "dep\tgithub.com/foo/bar\tv1.2.3\th1:bar=\n"
    "dep\tgolang.org/x/text\tv0.3.7\n"
    "=>\tgithub.com/fork/text\tv0.3.8-fix\th1:fork=\n"
    "dep\tgopkg.in/yaml.v3\tv3.0.1\th1:yaml=\n"
    "dep\tlocal.dev/lib\tv0.0.0\n"
    "=>\t../lib\t\t\n"
    'build\t-ldflags="-X main.token=secret"\n'
    "build\tCGO_ENABLED=0\n"
    "build\tGOOS=linux\n"
    "build\tvcs.revision=0123456789abcdef\n"
)


def run(data: bytes, path: str = "usr/local/bin/app") -> PathRecord | None:
    reader = BoundedReader(data)
    record = CATALOGER.parse(path, reader, len(data))
    assert reader.total < 64 * 1024 + 3 * len(data) // 2 + 4096
    return record


def by_name(record: PathRecord | None) -> dict[str, Package]:
    assert record is not None and record.cataloger == "go-binary"
    return {f"{p.namespace}/{p.name}" if p.namespace else p.name: p for p in record.packages}


# -- a real module build ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def real() -> Path:
    return go_program()


def parse_version_m(text: str) -> tuple[str, dict[str, list[str]]]:
    """``go version -m`` output: the toolchain, and per module path its columns (+ replacement columns)."""
    lines = text.splitlines()
    toolchain = lines[0].rsplit(": ", 1)[1]
    modules: dict[str, list[str]] = {}
    last = ""
    for line in lines[1:]:
        cols = line.strip("\n").split("\t")[1:]
        if cols and cols[0] in ("mod", "dep"):
            last = cols[1]
            modules[last] = cols[2:]
        elif cols and cols[0] == "=>":
            modules[last] = modules[last] + ["=>", *cols[1:]]
    return toolchain, modules


def test_real_module_build_matches_go_version_m(real: Path) -> None:
    toolchain, modules = parse_version_m((real / "version-m.txt").read_text())
    record = run((real / "hello-go").read_bytes(), "usr/local/bin/hello-go")
    found = by_name(record)
    assert toolchain == "go1.19.8" or toolchain.startswith("go1.")
    stdlib = found.pop("stdlib")
    assert (stdlib.version, stdlib.properties[PROP_TOOLCHAIN]) == (go_semver(toolchain), toolchain)
    expected: dict[str, tuple[str, dict[str, str]]] = {}
    for path, cols in modules.items():
        version, total = cols[0], cols
        if "=>" in total:
            rep = total[total.index("=>") + 1:]
            if rep[0].startswith("."):
                expected[path] = ("(devel)", {PROP_REPLACES: f"{path}@{version}", PROP_REPLACED_BY: rep[0],
                                              PROP_DEVEL: "true"})
            else:
                expected[rep[0]] = (rep[1], {PROP_REPLACES: f"{path}@{version}", PROP_SUM: rep[2]})
        else:
            props = {PROP_SUM: cols[1]} if len(cols) > 1 and cols[1] else {}
            if version == "(devel)":
                props[PROP_DEVEL] = "true"
            expected[path] = (version, props)
    assert set(found) == set(expected)
    for path, (version, props) in expected.items():
        pkg = found[path]
        assert pkg.version == version, path
        assert {k: v for k, v in pkg.properties.items() if not k.startswith("go:build:")
                and k != "go:main_package"} == props, path
    # what the fixture's go.mod says, spelled out
    main = found["example.com/imagescan/hello"]
    assert (main.namespace, main.name, main.component_type) == ("example.com/imagescan", "hello", "application")
    assert main.properties["go:build:CGO_ENABLED"] == "0"
    assert main.properties["go:main_package"] == "example.com/imagescan/hello"
    assert found["example.com/forks/text"].properties[PROP_REPLACES] == "golang.org/x/text@v0.7.0"
    assert found["golang.org/x/sys"].properties[PROP_REPLACED_BY] == "./third_party/sys"
    assert all(p.type == PackageType.GOLANG and p.path == "usr/local/bin/hello-go" for p in record.packages)  # type: ignore[union-attr]


def test_gopath_build_has_only_stdlib() -> None:
    """Debian builds Go programs in GOPATH mode: ``path`` and build lines, no ``mod``."""
    gofmt = Path(go_binary()).resolve().parent.parent / "bin/gofmt"
    out = subprocess.run([go_binary(), "version", "-m", str(gofmt)], capture_output=True, text=True, check=True)
    toolchain, modules = parse_version_m(out.stdout)
    assert modules == {}
    found = by_name(run(gofmt.read_bytes(), "usr/local/go/bin/gofmt"))
    assert list(found) == ["stdlib"] and found["stdlib"].version == go_semver(toolchain)


# -- synthetic layouts, read by the real Go tool too -------------------------------------------------------------
LAYOUTS = {
    "pointer-64-le": lambda m: go_pointer_elf("go1.16.15", m),
    "pointer-64-le-stripped": lambda m: go_pointer_elf("go1.16.15", m, section_headers=False),
    "pointer-32-be": lambda m: go_pointer_elf("go1.16.15", m, bits=32, little=False),
    "pointer-32-be-stripped": lambda m: go_pointer_elf("go1.16.15", m, bits=32, little=False, section_headers=False),
    "pointer-32-le": lambda m: go_pointer_elf("go1.16.15", m, bits=32),
    "inline": lambda m: go_inline_elf("go1.16.15", m),
    "inline-stripped": lambda m: go_inline_elf("go1.16.15", m, section_headers=False),
    "inline-after-padding": lambda m: go_inline_elf("go1.16.15", m, padding=32),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_synthetic_layouts(layout: str, tmp_path: Path) -> None:
    """SYNTHETIC files (no pre-1.18 Go here): the pointer layout of Go 1.13-1.17 and the inline one, with and
    without section headers. ``go version -m`` reads each the same way we do."""
    data = LAYOUTS[layout](wrap_modinfo(MODINFO))
    exe = tmp_path / "app"
    exe.write_bytes(data)
    exe.chmod(0o755)
    out = subprocess.run([go_binary(), "version", "-m", str(exe)], capture_output=True, text=True, check=True).stdout
    toolchain, modules = parse_version_m(out)
    assert toolchain == "go1.16.15" and modules["github.com/foo/bar"] == ["v1.2.3", "h1:bar="]
    found = by_name(run(data))
    assert set(found) == {"stdlib", "example.com/app", "github.com/foo/bar", "github.com/fork/text",
                          "gopkg.in/yaml.v3", "local.dev/lib"}
    assert found["stdlib"].version == "v1.16.15"


def test_package_rules() -> None:
    found = by_name(run(go_inline_elf("go1.21rc2", wrap_modinfo(MODINFO))))
    assert found["stdlib"].version == "v1.21.0-rc.2"
    main = found["example.com/app"]
    assert (main.version, main.component_type, main.properties[PROP_SUM]) == ("v1.4.0", "application", "h1:main=")
    assert PROP_DEVEL not in main.properties
    assert main.properties["go:build:CGO_ENABLED"] == "0" and main.properties["go:build:vcs.revision"]
    assert not any("ldflags" in k or "secret" in v for k, v in main.properties.items())
    assert main.properties["go:main_package"] == "example.com/app/cmd/server"
    fork = found["github.com/fork/text"]
    assert (fork.namespace, fork.name, fork.version) == ("github.com/fork", "text", "v0.3.8-fix")
    assert fork.properties == {PROP_REPLACES: "golang.org/x/text@v0.3.7", PROP_SUM: "h1:fork="}
    local = found["local.dev/lib"]
    assert local.version == "(devel)" and local.properties == {
        PROP_REPLACES: "local.dev/lib@v0.0.0", PROP_REPLACED_BY: "../lib", PROP_DEVEL: "true"}
    assert (found["gopkg.in/yaml.v3"].namespace, found["gopkg.in/yaml.v3"].name) == ("gopkg.in", "yaml.v3")
    assert all(p.component_type == "library" for k, p in found.items() if k != "example.com/app")


def test_devel_main_module_and_toolchain() -> None:
    packages, notes = go_packages("app", "devel go1.22-abcdef Tue Jan 1", "mod\tex.com/a\t(devel)\t\n")
    stdlib, main = packages
    assert (stdlib.version, stdlib.properties[PROP_DEVEL]) == ("(devel)", "true")
    assert (main.version, main.properties[PROP_DEVEL], main.namespace, main.name) == ("(devel)", "true", "ex.com", "a")
    assert notes == []


@pytest.mark.parametrize(("raw", "semver"), [
    ("go1.19.8", "v1.19.8"), ("go1.20", "v1.20.0"), ("go1", "v1.0.0"), ("go1.21rc2", "v1.21.0-rc.2"),
    ("go1.19beta1", "v1.19.0-beta.1"), ("go1.22.0 X:boringcrypto", "v1.22.0"), ("devel +abc", None),
    ("go1.2x", None), ("", None),
])  # fmt: skip
def test_go_semver(raw: str, semver: str | None) -> None:
    assert go_semver(raw) == semver


def test_split_module() -> None:
    assert split_module("github.com/foo/bar") == ("github.com/foo", "bar")
    assert split_module("hello") == (None, "hello")
    assert split_module("github.com/foo/bar/v2") == ("github.com/foo/bar", "v2")


def test_modinfo_damage_is_noted() -> None:
    info = parse_modinfo("=>\ta\tv1\t\ndep\tonlypath\ndep\ta\tv1\t\n=>\tb\tv2\n"
                         "build\t\"quoted key\"=\"v\\tx\"\nbuild\t`k`=`raw`\nbuild\tbad\nweird line\n")
    assert [d.path for d in info.deps] == ["a"] and info.deps[0].replace is None
    assert len(info.notes) == 3
    assert info.build == {"quoted key": "v\tx", "k": "raw"}


def test_not_go() -> None:
    assert run(b"#!/bin/sh\nexit 0\n") is None
    assert run(go_inline_elf("go1.21.0", b"").replace(b"\xff Go buildinf:", b"\xff Go buildinX:")) is None
    # the header must sit at a 16-byte aligned offset, as the linker puts it
    assert run(go_inline_elf("go1.21.0", wrap_modinfo(MODINFO), padding=8)) is None


def test_modinfo_without_sentinels_is_ignored() -> None:
    found = by_name(run(go_inline_elf("go1.21.0", MODINFO.encode())))
    assert list(found) == ["stdlib"]


def test_damaged_build_info_is_a_catalog_error() -> None:
    data = bytearray(go_pointer_elf("go1.16.15", wrap_modinfo(MODINFO)))
    pos = data.index(b"\xff Go buildinf:")
    data[pos + 14] = 5  # pointer size
    with pytest.raises(CatalogError, match="pointer size"):
        run(bytes(data))
    data[pos + 14] = 8
    data[pos + 16:pos + 24] = (0x7000000).to_bytes(8, "little")  # version string header not mapped
    with pytest.raises(CatalogError, match="not in the file"):
        run(bytes(data))
    huge = bytearray(go_inline_elf("go1.21.0", b"x"))
    pos = huge.index(b"\xff Go buildinf:") + 32
    huge[pos:pos + 5] = bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x7F])  # a 34 GB version string
    with pytest.raises(CatalogError, match="over the"):
        run(bytes(huge))
    with pytest.raises(CatalogError, match="empty toolchain"):
        run(go_inline_elf("", wrap_modinfo(MODINFO)))


def test_files_chosen_by_mode_in_a_layer() -> None:
    """The walker hands executables (any x bit) to the cataloger, whatever their directory."""
    binary = go_inline_elf("go1.21.0", wrap_modinfo(MODINFO))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, mode in (("manager", 0o755), ("usr/share/app/copy", 0o644), ("srv/tool", 0o700)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(binary), mode
            tar.addfile(info, io.BytesIO(binary))
    raw = buf.getvalue()
    diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
    result = analyze_layer(io.BytesIO(raw), diff_id=diff_id, catalogers=[CATALOGER])
    assert sorted(r.path for r in result.records) == ["manager", "srv/tool"]
    assert CATALOGER.wants("usr/local/bin/x") and not CATALOGER.wants("usr/share/doc/x/copyright")


# -- bad input -------------------------------------------------------------------------------------------------
def _mutate(data: st.DataObject, original: bytes, focus: int) -> bytes:
    blob = bytearray(original[: data.draw(st.integers(0, len(original)))])
    for _ in range(data.draw(st.integers(0, 8))):
        if blob:
            near = data.draw(st.booleans())
            lo = max(0, focus - 8) if near else 0
            pos = data.draw(st.integers(min(lo, len(blob) - 1), len(blob) - 1))
            blob[pos] = data.draw(st.integers(0, 255))
    return bytes(blob)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_binaries_raise_catalog_error_or_parse(data: st.DataObject) -> None:
    layout = data.draw(st.sampled_from(sorted(LAYOUTS)))
    original = LAYOUTS[layout](wrap_modinfo(MODINFO))
    blob = _mutate(data, original, original.find(b"\xff Go buildinf:"))
    try:
        record = run(blob)
    except CatalogError:
        return
    assert record is None or record.packages[0].name == "stdlib"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.data())
def test_truncated_real_binary(real: Path, data: st.DataObject) -> None:
    original = (real / "hello-go").read_bytes()
    blob = original[: data.draw(st.integers(0, len(original)))]
    try:
        record = run(blob)
    except CatalogError:
        return
    # cut after the build info and the tables it needs: still the whole answer
    assert record is None or len(record.packages) == 5


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["\t", "\n", "=", "=>", "dep", "mod", "path", "build", "a", "v1", '"', "`", "/", ".",
                                  "(devel)", "é", "\\"]), max_size=60).map("".join))
def test_any_modinfo_text_gives_packages(text: str) -> None:
    packages, notes = go_packages("app", "go1.21.0", text)
    assert packages[0].name == "stdlib" and all(isinstance(n, str) for n in notes)
