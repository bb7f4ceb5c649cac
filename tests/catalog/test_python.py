"""The Python cataloger: core metadata, RECORD file lists, egg-info forms, and the merge attaching files and owners."""

from __future__ import annotations

import importlib.metadata
import io
import posixpath
import sysconfig
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagescan.catalog.base import CatalogError
from imagescan.catalog.python import (
    DECLARED_NAME,
    PythonCataloger,
    normalize_name,
    parse_installed_files,
    parse_metadata,
    parse_record,
)
from imagescan.merge import merge_layers
from imagescan.models import LayerResult, Package, PackageType, PathRecord
from tests.catalog.mutate import apply_edits, edits

CATALOGER = PythonCataloger()
SITE = "usr/local/lib/python3.11/site-packages"
DIST = "usr/lib/python3/dist-packages"

METADATA = b"""Metadata-Version: 2.1
Name: PyYAML
Version: 5.3.1
Summary: YAML parser and emitter for Python
License: MIT
Classifier: License :: OSI Approved :: MIT License
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.6

YAML is a data serialization format designed for human readability.
Name: not-a-header-in-the-body
"""


def parse(path: str, data: bytes) -> PathRecord:
    record = CATALOGER.parse(path, io.BytesIO(data), len(data))
    assert record is not None and record.cataloger == "python" and record.path == path
    return record


def metadata(text: str, path: str = f"{SITE}/x-1.dist-info/METADATA") -> Package:
    return parse_metadata(io.BytesIO(text.encode()), path)


@pytest.mark.parametrize(("path", "wanted"), [
    (f"{SITE}/PyYAML-5.3.1.dist-info/METADATA", True),
    (f"{SITE}/PyYAML-5.3.1.dist-info/RECORD", True),
    (f"{SITE}/PyYAML-5.3.1.dist-info/WHEEL", False),
    (f"{SITE}/PyYAML-5.3.1.dist-info/top_level.txt", False),
    (f"{DIST}/six-1.16.0.egg-info/PKG-INFO", True),
    (f"{DIST}/six-1.16.0.egg-info/installed-files.txt", True),
    (f"{DIST}/six-1.16.0.egg-info/SOURCES.txt", False),
    (f"{DIST}/python_apt-2.6.0.egg-info", True),  # distutils file form
    (f"{SITE}/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO", True),
    ("app/src/EGG-INFO/PKG-INFO", False),  # not inside an egg
    ("opt/venv/lib/python3.12/site-packages/uv-0.1.dist-info/METADATA", True),
    ("METADATA", False),
    (".dist-info/METADATA", False),
    ("usr/share/doc/x/METADATA", False),
    (f"{SITE}/requests/__init__.py", False),
    (".egg-info", False),
])  # fmt: skip
def test_wants(path: str, wanted: bool) -> None:
    assert CATALOGER.wants(path) is wanted


def test_metadata_fields_and_normalised_name() -> None:
    (pkg,) = parse(f"{SITE}/PyYAML-5.3.1.dist-info/METADATA", METADATA).packages
    assert (pkg.type, pkg.name, pkg.version, pkg.license, pkg.namespace) == (PackageType.PYPI, "pyyaml", "5.3.1",
                                                                             "MIT", None)
    assert pkg.properties == {DECLARED_NAME: "PyYAML"}
    assert pkg.path == f"{SITE}/PyYAML-5.3.1.dist-info/METADATA" and pkg.component_type == "library"


@pytest.mark.parametrize(("declared", "normalised"), [
    ("PyYAML", "pyyaml"), ("zope.interface", "zope-interface"), ("jaraco.functools", "jaraco-functools"),
    ("typing_extensions", "typing-extensions"), ("Foo__Bar--baz..Q", "foo-bar-baz-q"), ("requests", "requests"),
])  # fmt: skip
def test_pep503_names(declared: str, normalised: str) -> None:
    assert normalize_name(declared) == normalised
    pkg = metadata(f"Name: {declared}\nVersion: 1.0\n")
    assert pkg.name == normalised
    assert pkg.properties == ({} if declared == normalised else {DECLARED_NAME: declared})


def test_version_kept_as_declared() -> None:
    assert metadata("Metadata-Version: 2.1\nName: Django\nVersion: 3.2\n").version == "3.2"
    assert metadata("Name: x\nVersion: 1.0.post1+local.7\n").version == "1.0.post1+local.7"


@pytest.mark.parametrize(("headers", "license"), [
    ("License-Expression: MIT OR Apache-2.0\nLicense: ignored\n", "MIT OR Apache-2.0"),
    ("License: BSD\nClassifier: License :: OSI Approved :: BSD License\n", "BSD"),
    ("License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n", "MIT License"),
    ("License: Copyright (c) 2010 Someone\n        Permission is hereby granted...\n"
     "Classifier: License :: OSI Approved :: Apache Software License\n", "Apache Software License"),
    ("License: " + "x" * 200 + "\n", None),
    ("Classifier: License :: OSI Approved :: MIT License\nClassifier: License :: OSI Approved\n"
     "Classifier: License :: Public Domain\nClassifier: License :: OSI Approved :: MIT License\n",
     "MIT License, Public Domain"),
    ("Classifier: Topic :: Software Development\n", None),
])  # fmt: skip
def test_license(headers: str, license: str | None) -> None:
    assert metadata(f"Name: x\nVersion: 1\n{headers}").license == license


def test_header_syntax() -> None:
    # CRLF, continuation lines, no space after the colon, Latin-1 bytes (not UTF-8)
    data = (b"Metadata-Version: 1.1\r\nName: cafe-lib\r\nVersion:0.1\r\nSummary: a\r\n  b\r\n"
            b"License: Licence \xe9\r\n\r\nbody\r\n")
    pkg = parse_metadata(io.BytesIO(data), "x.egg-info")
    assert (pkg.name, pkg.version, pkg.license) == ("cafe-lib", "0.1", "Licence \u00e9")


def test_body_without_blank_line_ends_headers() -> None:
    pkg = metadata("Name: a\nVersion: 1\nThis line is not a header\nLicense: MIT\n")
    assert (pkg.name, pkg.license) == ("a", None)


@pytest.mark.parametrize("text", [
    "", "Version: 1\n", "Name: x\n", "Name: x\nVersion:\n", "\nName: x\nVersion: 1\n", "  Name: x\n",
    "Name: not valid!\nVersion: 1\n", "Name: x\nVersion: 1 2\n", "Name: -x\nVersion: 1\n",
])  # fmt: skip
def test_malformed_metadata(text: str) -> None:
    with pytest.raises(CatalogError):
        metadata(text)


def test_nul_bytes_and_huge_headers() -> None:
    with pytest.raises(CatalogError, match="NUL"):
        parse_metadata(io.BytesIO(b"Name: x\x00\nVersion: 1\n"), "p")
    with pytest.raises(CatalogError, match="longer than"):
        parse_metadata(io.BytesIO(b"Name: x\nVersion: 1\nSummary: " + b"y" * (2 << 20) + b"\n"), "p")
    # only the headers are read: NUL bytes or a huge body after them do not matter
    assert parse_metadata(io.BytesIO(b"Name: x\nVersion: 1\n\n\x00" + b"z" * (2 << 20)), "p").name == "x"


def test_egg_info_file_form_and_egg_dir() -> None:
    (pkg,) = parse(f"{DIST}/python_apt-2.6.0.egg-info", b"Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\n"
                   ).packages
    assert (pkg.name, pkg.version, pkg.path) == ("python-apt", "2.6.0", f"{DIST}/python_apt-2.6.0.egg-info")
    egg = f"{SITE}/foo-1.0-py3.11.egg/EGG-INFO/PKG-INFO"
    assert [p.name for p in parse(egg, b"Name: Foo\nVersion: 1.0\n").packages] == ["foo"]


def test_record_paths() -> None:
    data = (
        b"yaml/__init__.py,sha256=abc,12\n"
        b"PyYAML-5.3.1.dist-info/RECORD,,\n"
        b'"odd,name.py",sha256=def,3\n'
        b"../../../bin/tool,sha256=x,1\n"
        b"/etc/absolute.conf,,\n"
        b"../../../../../../../../escape,,\n"
        b"\n"
        b"./yaml/./sub/../nested.py,,\n"
    )
    record = parse(f"{SITE}/PyYAML-5.3.1.dist-info/RECORD", data)
    assert record.packages == []
    assert record.owned_files == {f"{SITE}/PyYAML-5.3.1.dist-info": sorted([
        f"{SITE}/yaml/__init__.py", f"{SITE}/PyYAML-5.3.1.dist-info/RECORD", f"{SITE}/odd,name.py",
        "usr/local/bin/tool", "etc/absolute.conf", f"{SITE}/yaml/nested.py",
    ])}  # fmt: skip


def test_record_errors() -> None:
    with pytest.raises(CatalogError):
        parse_record(b"a,b\x00,c\n", f"{SITE}/x.dist-info/RECORD")
    with pytest.raises(CatalogError):
        parse_record(b'"unterminated\n' + b"x" * 200_000, f"{SITE}/x.dist-info/RECORD")


def test_installed_files_txt() -> None:
    path = f"{DIST}/foo-1.0.egg-info/installed-files.txt"
    files = parse_installed_files(b"../foo/__init__.py\r\nPKG-INFO\n\n../../../../bin/foo\n", path)
    assert files == sorted([f"{DIST}/foo/__init__.py", f"{DIST}/foo-1.0.egg-info/PKG-INFO", "usr/bin/foo"])
    assert parse(path, b"../foo/x.py\n").owned_files == {f"{DIST}/foo-1.0.egg-info": [f"{DIST}/foo/x.py"]}


def _layer(diff_id: str, records: list[PathRecord], files: list[str], whiteouts: list[str] | None = None
           ) -> LayerResult:
    return LayerResult(digest=diff_id, diff_id=diff_id, cache_key=diff_id, analyzers={},
                       entries=[[f, "f", 0o644, 0, 0, 1, None] for f in files], records=records,
                       whiteouts=whiteouts or [])


def test_merge_attaches_record_by_directory_and_marks_os_owner() -> None:
    deb_meta, deb_rec = f"{DIST}/PyYAML-6.0.dist-info/METADATA", f"{DIST}/PyYAML-6.0.dist-info/RECORD"
    pip_meta, pip_rec = f"{SITE}/PyYAML-5.3.1.dist-info/METADATA", f"{SITE}/PyYAML-5.3.1.dist-info/RECORD"
    deb = PathRecord(cataloger="dpkg", path="var/lib/dpkg/status", packages=[
        Package(type=PackageType.DEB, name="python3-yaml", version="6.0-3", files=[deb_meta, deb_rec])])
    one = _layer("sha256:1", [
        deb,
        parse(deb_meta, b"Name: PyYAML\nVersion: 6.0\n"),
        parse(deb_rec, b"yaml/__init__.py,,\n"),
    ], ["var/lib/dpkg/status", deb_meta, deb_rec])
    two = _layer("sha256:2", [
        parse(pip_meta, b"Name: PyYAML\nVersion: 5.3.1\n"),
        parse(pip_rec, b"yaml/__init__.py,,\n_yaml.so,,\n"),
    ], [pip_meta, pip_rec])
    merged = merge_layers([one, two])
    pypi = {p.version: p for p in merged.packages if p.type == PackageType.PYPI}
    assert pypi["6.0"].files == [f"{DIST}/yaml/__init__.py"] and pypi["6.0"].owner == "deb/python3-yaml"
    assert pypi["5.3.1"].files == [f"{SITE}/_yaml.so", f"{SITE}/yaml/__init__.py"] and pypi["5.3.1"].owner is None
    assert (pypi["6.0"].layer_diff_id, pypi["5.3.1"].layer_diff_id) == ("sha256:1", "sha256:2")
    # a later layer deleting the pip install's dist-info removes the package
    three = _layer("sha256:3", [], [], whiteouts=[f"{SITE}/PyYAML-5.3.1.dist-info"])
    assert [p.version for p in merge_layers([one, two, three]).packages if p.type == PackageType.PYPI] == ["6.0"]


SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
REAL = sorted(SITE_PACKAGES.glob("*.dist-info"))


def test_real_installed_distributions_agree_with_importlib_metadata() -> None:
    """Every distribution installed in this test environment reads as importlib.metadata reads it."""
    assert len(REAL) > 10
    prefix = SITE_PACKAGES.as_posix().lstrip("/")
    for dist_info in REAL:
        dist = importlib.metadata.Distribution.at(dist_info)
        image_dir = f"{prefix}/{dist_info.name}"
        with open(dist_info / "METADATA", "rb") as f:
            pkg = parse_metadata(f, f"{image_dir}/METADATA")
        assert (pkg.name, pkg.version) == (normalize_name(dist.metadata["Name"]), dist.version), dist_info
        if (dist_info / "RECORD").is_file():
            files = parse_record((dist_info / "RECORD").read_bytes(), f"{image_dir}/RECORD")
            expected = {posixpath.normpath(f"{prefix}/{p.as_posix()}") for p in dist.files or []}
            assert set(files) == {p for p in expected if not p.startswith("..")}, dist_info


def _parse_or_error(path: str, data: bytes) -> None:
    try:
        record = parse(path, data)
    except CatalogError:
        return
    for pkg in record.packages:
        assert pkg.name and pkg.version and pkg.name == normalize_name(pkg.name)
    for files in record.owned_files.values():
        assert all(f and not f.startswith(("/", "../")) for f in files)


PATHS = st.sampled_from([f"{SITE}/a-1.dist-info/METADATA", f"{SITE}/a-1.dist-info/RECORD",
                         f"{DIST}/a-1.egg-info/installed-files.txt", f"{DIST}/a-1.egg-info"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=PATHS, data=st.binary(max_size=600))
def test_random_bytes(path: str, data: bytes) -> None:
    _parse_or_error(path, data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=PATHS, changes=edits)
def test_mutated_metadata_and_record(path: str, changes: list[tuple[int, bytes, int]]) -> None:
    base = METADATA if path.endswith(("METADATA", ".egg-info")) else b"a/__init__.py,sha256=x,1\n../../bin/a,,\n"
    _parse_or_error(path, apply_edits(base, changes))


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.sampled_from(["Name: a", "Version: 1", "Name:", "Version: ", " cont", "\t", "", "x",
                                       "License: MIT", "Classifier: License :: A :: B", "Name: a.b_c", ":"]),
                      max_size=20))
def test_random_header_lines(lines: list[str]) -> None:
    _parse_or_error(f"{SITE}/a-1.dist-info/METADATA", "\n".join(lines).encode())
