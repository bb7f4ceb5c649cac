"""Runtimes with no package metadata (Python, Node.js, OpenJDK, OpenSSL, Go, BusyBox, nginx, curl), identified
from bounded reads of their own files, like Syft's binary classifiers. Scratch and distroless images and the
official ``node``/``python`` images install these outside any package manager.

Binaries are chosen by file name (:data:`BINARY_RULES`); a version string is searched for in their read-only
data sections (``.rodata*``, ``.data*``; the whole file when the section headers are stripped), in 1 MiB chunks,
at most :data:`MAX_SCAN` bytes per file. Version files are read up to :data:`MAX_TEXT` bytes:

- ``include/node/node_version.h`` (``NODE_MAJOR/MINOR/PATCH_VERSION``; the official node image ships it);
- an OpenJDK ``release`` file (``JAVA_VERSION="17.0.8"``) in a JDK/JRE directory (``usr/lib/jvm/*/release``,
  ``opt/java/openjdk/release``);
- a Go toolchain's ``VERSION`` (``usr/local/go/VERSION``, ``usr/lib/go-1.19/VERSION``).

Each hit is ``pkg:generic/NAME@VERSION`` with ``path`` = the file, ``component_type`` ``application`` for programs
and version files, ``library`` for shared libraries (``libpython``, ``libssl``/``libcrypto``, ``libcurl``), and the
text that gave the version away in the ``runtime:evidence`` property. When an OS package also installed the file
(Debian's python3.11, libssl3) the merge marks the package as owned, so vulnerability matching can use the OS
package while end-of-life checks still see the runtime. A binary without a recognisable version string yields
nothing. ELF structure only narrows the search: when it is damaged the file's first :data:`MAX_SCAN` bytes are
searched instead, so this cataloger reports no errors of its own.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from typing import BinaryIO

from imagescan.catalog.elf import SHT_NOBITS, ElfError, ElfFile, open_elf
from imagescan.models import Package, PackageType, PathRecord

CHUNK = 1024 * 1024
OVERLAP = 256
"""Bytes carried from one chunk to the next so that a version string cut by a chunk boundary is still seen."""
MAX_SCAN = 64 * 1024 * 1024
MAX_TEXT = 64 * 1024
MAX_FILE_SIZE = 512 * 1024 * 1024
PROP_EVIDENCE = "runtime:evidence"

_PY_SUFFIX = rb"\.\d{1,3}(?:(?:a|b|rc)\d{1,3})?\+?)\x00"


@dataclass(frozen=True)
class BinaryRule:
    name: str
    component_type: str
    file: re.Pattern[str]
    """Matched against the file's base name."""
    content: re.Pattern[bytes] | None
    """Its ``version`` group is the version; None: derived from the file name (:func:`python_pattern`)."""


_OPENSSL = re.compile(rb"OpenSSL (?P<version>\d{1,2}\.\d{1,3}\.\d{1,3}[a-z]{0,2}(?:-(?:alpha|beta|pre)\d+)?)"
                      rb"(?:-fips|-dev)? {1,2}\d{1,2} [A-Z][a-z]{2} \d{4}")
"""OpenSSL's version text, ``OpenSSL 3.0.11 19 Sep 2023`` (1.1.1 has two spaces before the date)."""

BINARY_RULES: tuple[BinaryRule, ...] = (
    BinaryRule("python", "application", re.compile(r"python(\d)(?:\.(\d{1,3}))?"), None),
    BinaryRule("python", "library", re.compile(r"libpython(\d)\.(\d{1,3})[a-z]*\.so(?:\.[0-9.]+)?"), None),
    BinaryRule("node", "application", re.compile(r"node|nodejs"),
               re.compile(rb"node\.js/v(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4})")),
    BinaryRule("openssl", "library", re.compile(r"lib(?:ssl|crypto)\.so(?:\.[0-9A-Za-z.]+)?"), _OPENSSL),
    BinaryRule("openssl", "application", re.compile(r"openssl"), _OPENSSL),
    BinaryRule("busybox", "application", re.compile(r"busybox"),
               re.compile(rb"BusyBox v(?P<version>\d{1,3}\.\d{1,3}(?:\.\d{1,3})?)")),
    BinaryRule("nginx", "application", re.compile(r"nginx"),
               re.compile(rb"nginx/(?P<version>\d{1,3}\.\d{1,3}\.\d{1,3})")),
    BinaryRule("curl", "application", re.compile(r"curl"),
               re.compile(rb"curl/(?P<version>\d{1,3}\.\d{1,3}\.\d{1,3})")),
    BinaryRule("curl", "library", re.compile(r"libcurl(?:-gnutls|-nss)?\.so(?:\.[0-9.]+)?"),
               re.compile(rb"libcurl/(?P<version>\d{1,3}\.\d{1,3}\.\d{1,3})")),
)
_ANY_BINARY = re.compile("|".join(f"(?:{rule.file.pattern})" for rule in BINARY_RULES))
"""Every rule's file name at once: ``wants`` runs for every file of every layer."""
_NODE_HEADER = re.compile(r"(?:^|/)include/node/node_version\.h$")
_JAVA_HOME = re.compile(r"(?:^|/)[^/]*(?:jdk|jre|java|jvm)[^/]*/(?:[^/]+/)*release$", re.IGNORECASE)
_GO_ROOT = re.compile(r"(?:^|/)(?:go|goroot|go-\d+(?:\.\d+)*)/VERSION$")
_NODE_DEFINE = re.compile(r"^\s*#\s*define\s+NODE_(MAJOR|MINOR|PATCH)_VERSION\s+(\d{1,6})\s*$", re.MULTILINE)
_JAVA_LINE = re.compile(r'^([A-Z_]+)=(?:"([^"\n]*)"|(\S*))\s*$', re.MULTILINE)
_JAVA_VERSION = re.compile(r"\d{1,3}(?:\.\d{1,3}){0,3}(?:_\d{1,4})?(?:[-+][0-9A-Za-z.+-]{1,40})?")
_JAVA_PROPERTIES = {"IMPLEMENTOR": "java:implementor", "JAVA_RUNTIME_VERSION": "java:runtime_version"}
_GO_VERSION = re.compile(r"go(\d{1,3}(?:\.\d{1,3}){1,2}(?:(?:beta|rc)\d{1,3})?)(?:\s|$)")


@functools.lru_cache(maxsize=64)
def python_pattern(major: str, minor: str | None) -> re.Pattern[bytes]:
    """CPython's ``PY_VERSION`` as a NUL-terminated string (``\\x003.11.2\\x00``) for the version the file name
    gives; compiled once per version."""
    minor_re = re.escape(minor).encode() if minor else rb"\d{1,3}"
    return re.compile(rb"\x00(?P<version>" + re.escape(major).encode() + rb"\." + minor_re + _PY_SUFFIX)


def binary_rule(path: str) -> tuple[BinaryRule, re.Pattern[bytes]] | None:
    """The rule for a file name and the compiled content pattern to search for."""
    base = posixpath.basename(path)
    for rule in BINARY_RULES:
        m = rule.file.fullmatch(base)
        if m is not None:
            return rule, rule.content or python_pattern(m.group(1), m.group(2))
    return None


def _regions(elf: ElfFile) -> list[tuple[int, int]]:
    """Where version strings live: the read-only and initialised data sections; the whole file when the section
    headers are gone (sstrip, packers) or name no such section."""
    wanted = [s for s in elf.sections if s.type != SHT_NOBITS and s.size and s.name.startswith((".rodata", ".data"))]
    if not wanted:
        return [(0, elf.size)]
    return [(s.offset, s.size) for s in sorted(wanted, key=lambda s: s.offset)]


def scan(data: BinaryIO, regions: list[tuple[int, int]], pattern: re.Pattern[bytes],
         limit: int = MAX_SCAN) -> re.Match[bytes] | None:
    """The first match of ``pattern`` in the file regions (offset, length), read in chunks; at most ``limit``
    bytes are read in all."""
    budget = limit
    for start, length in regions:
        length = min(length, budget)
        budget -= length
        pos, end, tail = start, start + length, b""
        while pos < end:
            data.seek(pos)
            chunk = data.read(min(CHUNK, end - pos))
            if not chunk:
                break
            buf = tail + chunk
            m = pattern.search(buf)
            if m is not None:
                return m
            tail = buf[-OVERLAP:]
            pos += len(chunk)
        if budget <= 0:
            break
    return None


def _evidence(raw: bytes) -> str:
    return raw.strip(b"\x00").decode("latin-1")[:120]


def node_header_version(text: str) -> str | None:
    parts = dict(_NODE_DEFINE.findall(text))
    if not all(k in parts for k in ("MAJOR", "MINOR", "PATCH")):
        return None
    return f"{int(parts['MAJOR'])}.{int(parts['MINOR'])}.{int(parts['PATCH'])}"


def java_release(text: str) -> dict[str, str]:
    """The ``KEY="value"`` pairs of a JDK ``release`` file."""
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _JAVA_LINE.finditer(text)}


def go_root_version(text: str) -> str | None:
    m = _GO_VERSION.match(text.lstrip())
    return m.group(1) if m else None


def _package(name: str, version: str, path: str, component_type: str, evidence: str,
             extra: dict[str, str] | None = None) -> Package:
    return Package(type=PackageType.GENERIC, name=name, version=version, path=path, component_type=component_type,
                   properties={PROP_EVIDENCE: evidence, **(extra or {})})


def _text_package(path: str, text: str) -> Package | None:
    if _NODE_HEADER.search(path):
        version = node_header_version(text)
        return _package("node", version, path, "application", "node_version.h") if version else None
    if posixpath.basename(path) == "release":
        fields = java_release(text)
        version = fields.get("JAVA_VERSION", "")
        if not _JAVA_VERSION.fullmatch(version):
            return None
        extra = {prop: fields[key] for key, prop in _JAVA_PROPERTIES.items() if fields.get(key)}
        return _package("openjdk", version, path, "application", f'JAVA_VERSION="{version}"', extra)
    version = go_root_version(text)
    return _package("go", version, path, "application", f"go{version}") if version else None


class RuntimeCataloger:
    name = "runtimes"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        base = posixpath.basename(path)
        if base == "release":
            return bool(_JAVA_HOME.search(path))
        if base == "VERSION":
            return bool(_GO_ROOT.search(path))
        if base == "node_version.h":
            return bool(_NODE_HEADER.search(path))
        return _ANY_BINARY.fullmatch(base) is not None

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        found = binary_rule(path)
        if found is None:
            text = data.read(MAX_TEXT).decode("utf-8", "replace")
            package = _text_package(path, text)
        else:
            rule, pattern = found
            try:
                elf = open_elf(data, size)
            except ElfError:
                regions = [(0, size)]  # damaged headers: the version text may still be there; search it all
            else:
                if elf is None:
                    return None
                regions = _regions(elf)
            m = scan(data, regions, pattern)
            if m is None:
                return None
            version = m.group("version").decode("ascii")
            package = _package(rule.name, version, path, rule.component_type, _evidence(m.group(0)))
        return None if package is None else PathRecord(cataloger=self.name, path=path, packages=[package])
