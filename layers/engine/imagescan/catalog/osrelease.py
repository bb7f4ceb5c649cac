"""OS detection: the os-release cataloger and the choice of the image's OS from what it read.

Files read, in the order :func:`detect_os` trusts them:

1. ``etc/os-release``, 2. ``usr/lib/os-release`` (os-release(5); ``etc/os-release`` is often a symlink to the
   other, and symlinks are not handed to catalogers, so the target is read instead);
3. ``etc/alpine-release`` (``3.18.4``);
4. ``etc/redhat-release``, 5. ``etc/system-release`` (``Rocky Linux release 9.3 (Blue Onyx)``,
   ``Amazon Linux release 2 (Karoo)``); the version is normalised to what that distribution's os-release
   ``VERSION_ID`` says (CentOS ``7.9.2009`` → ``7``, Amazon Linux ``2023.3.20240131`` → ``2023``);
6. ``etc/lsb-release`` (``DISTRIB_ID=Ubuntu``...);
7. ``etc/debian_version`` (``12.5``, or ``trixie/sid`` on testing/unstable and on Ubuntu).

Each parse gives a :class:`PathRecord` with ``os_release`` set, or with ``os_release=None`` when the file is there
but says nothing usable (so that it still replaces what a lower layer had at that path).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.models import OSRelease, PathRecord

OS_RELEASE = "etc/os-release"
USR_LIB_OS_RELEASE = "usr/lib/os-release"
ALPINE_RELEASE = "etc/alpine-release"
REDHAT_RELEASE = "etc/redhat-release"
SYSTEM_RELEASE = "etc/system-release"
LSB_RELEASE = "etc/lsb-release"
DEBIAN_VERSION = "etc/debian_version"
DPKG_STATUS_D = "var/lib/dpkg/status.d"

PRIORITY = (OS_RELEASE, USR_LIB_OS_RELEASE, ALPINE_RELEASE, REDHAT_RELEASE, SYSTEM_RELEASE, LSB_RELEASE, DEBIAN_VERSION)
"""The files :func:`detect_os` considers, most trusted first."""

MAX_FILE_SIZE = 1024 * 1024

_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DQ_ESCAPABLE = frozenset('$`"\\\n')

# Release-file product names (lower case, longest first) → os-release ID.
_RELEASE_NAMES = (
    ("red hat enterprise linux", "rhel"),
    ("centos stream", "centos"),
    ("centos linux", "centos"),
    ("centos", "centos"),
    ("rocky linux", "rocky"),
    ("almalinux", "almalinux"),
    ("fedora", "fedora"),
    ("oracle linux", "ol"),
    ("amazon linux", "amzn"),
    ("cloudlinux", "cloudlinux"),
)
_RELEASE_LINE_RE = re.compile(
    r"^(?P<name>.+?)\s+release\s+(?P<version>[0-9][0-9A-Za-z._-]*)(?:\s*\((?P<codename>[^)]*)\))?", re.IGNORECASE
)
_DOTTED_VERSION_RE = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")
_ALPINE_VERSION_RE = re.compile(r"^[0-9][0-9A-Za-z._-]*$")
_DEBIAN_CODENAME_RE = re.compile(r"^(?P<codename>[a-z]+)(?:/[a-z]+)?$")
_AMZN_DATED_RE = re.compile(r"^(?P<major>[0-9]{4})\.[0-9]+\.[0-9]{8}$")


def _text(raw: bytes, path: str) -> str:
    if b"\x00" in raw:
        raise CatalogError(f"{path} holds NUL bytes: not a text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _unquote(value: str) -> str:
    """A shell-style os-release value: "double" (with \\ escapes), 'single' (literal), or bare (\\ escapes)."""
    if value[:1] == "'":
        end = value.find("'", 1)
        return value[1:] if end < 0 else value[1:end]
    out: list[str] = []
    quoted = value[:1] == '"'
    i = 1 if quoted else 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            following = value[i + 1]
            if not quoted or following in _DQ_ESCAPABLE:
                out.append(following)
            else:
                out.append(char + following)
            i += 2
            continue
        if quoted and char == '"':
            break
        if not quoted and char in " \t":
            break  # an unquoted value ends at whitespace, as in the shell
        out.append(char)
        i += 1
    return "".join(out)


def parse_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines as os-release(5) defines them (also the syntax of lsb-release). Bad lines are ignored."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or not _KEY_RE.match(key):
            continue
        values[key] = _unquote(value.strip())
    return values


def _norm_id(value: str) -> str:
    return value.strip().lower()


def os_release_from_text(text: str, source: str) -> OSRelease | None:
    values = parse_env_file(text)
    if not any(values.get(k) for k in ("ID", "NAME", "PRETTY_NAME", "VERSION_ID")):
        return None
    pretty = values.get("PRETTY_NAME") or None
    home = values.get("HOME_URL", "").lower()
    return OSRelease(
        id=_norm_id(values.get("ID", "")) or "linux",  # os-release(5): ID defaults to "linux"
        version_id=values.get("VERSION_ID") or None,
        name=values.get("NAME") or None,
        pretty_name=pretty,
        version_codename=values.get("VERSION_CODENAME") or values.get("UBUNTU_CODENAME") or None,
        id_like=[_norm_id(v) for v in values.get("ID_LIKE", "").split()],
        distroless=(pretty or "").strip().lower() == "distroless" or "/distroless" in home,
        source=source,
    )


def alpine_release_from_text(text: str, source: str) -> OSRelease | None:
    first = text.strip().split("\n", 1)[0].strip()
    if not _ALPINE_VERSION_RE.match(first):
        return None
    return OSRelease(id="alpine", version_id=first, name="Alpine Linux", source=source)


def _release_version(os_id: str, version: str) -> str:
    if os_id in ("centos", "fedora"):
        return version.split(".")[0]
    if os_id == "amzn":
        dated = _AMZN_DATED_RE.match(version)
        return dated.group("major") if dated else version
    return version


def redhat_release_from_text(text: str, source: str) -> OSRelease | None:
    line = text.strip().split("\n", 1)[0].strip()
    match = _RELEASE_LINE_RE.match(line)
    if not match:
        return None
    name = match.group("name").strip()
    lowered = name.lower()
    os_id = next((i for prefix, i in _RELEASE_NAMES if lowered.startswith(prefix)), None)
    if os_id is None:
        return None
    return OSRelease(
        id=os_id, version_id=_release_version(os_id, match.group("version")), name=name, pretty_name=line,
        source=source,
    )


def lsb_release_from_text(text: str, source: str) -> OSRelease | None:
    values = parse_env_file(text)
    os_id = _norm_id(values.get("DISTRIB_ID", ""))
    if not os_id:
        return None
    return OSRelease(
        id=os_id,
        version_id=values.get("DISTRIB_RELEASE") or None,
        name=values.get("DISTRIB_ID") or None,
        pretty_name=values.get("DISTRIB_DESCRIPTION") or None,
        version_codename=values.get("DISTRIB_CODENAME") or None,
        source=source,
    )


def debian_version_from_text(text: str, source: str) -> OSRelease | None:
    first = text.strip().split("\n", 1)[0].strip()
    if _DOTTED_VERSION_RE.match(first):
        return OSRelease(id="debian", version_id=first, name="Debian GNU/Linux", source=source)
    codename = _DEBIAN_CODENAME_RE.match(first)
    if codename:
        return OSRelease(id="debian", version_codename=codename.group("codename"), name="Debian GNU/Linux",
                         source=source)
    return None


_PARSERS: dict[str, Callable[[str, str], OSRelease | None]] = {
    OS_RELEASE: os_release_from_text,
    USR_LIB_OS_RELEASE: os_release_from_text,
    ALPINE_RELEASE: alpine_release_from_text,
    REDHAT_RELEASE: redhat_release_from_text,
    SYSTEM_RELEASE: redhat_release_from_text,
    LSB_RELEASE: lsb_release_from_text,
    DEBIAN_VERSION: debian_version_from_text,
}


def parse_release_file(path: str, data: bytes) -> OSRelease | None:
    """What the release file at ``path`` (one of :data:`PRIORITY`) says; None when it says nothing usable."""
    parser = _PARSERS.get(path)
    if parser is None:
        raise CatalogError(f"{path} is not a known OS release file")
    return parser(_text(data, path), path)


def _major(version: str) -> str:
    return version.split(".", 1)[0]


def detect_os(
    records: Mapping[str, OSRelease], *, has_dpkg_status_d: bool = False, has_dpkg_status: bool = False
) -> OSRelease | None:
    """The image's OS from the release files that survive in the merged image (path → what it said).

    The most trusted file (:data:`PRIORITY`) gives the answer; less trusted files with the same ID fill a missing
    version or codename. For Debian, ``etc/debian_version`` refines VERSION_ID to the point release (``12`` →
    ``12.5``) when both agree on the major version. ``distroless`` is set when any os-release file says so (Google
    distroless: ``PRETTY_NAME="Distroless"``), or when the image has a ``var/lib/dpkg/status.d`` directory and no
    ``var/lib/dpkg/status`` file (the distroless package layout). Returns None when no release file says anything:
    the OS is then unknown, whatever the package layout.
    """
    ordered = [records[path] for path in PRIORITY if path in records]
    if not ordered:
        return None
    best = ordered[0].model_copy(deep=True)
    for other in ordered[1:]:
        if other.id != best.id:
            continue
        if not best.version_id and other.version_id:
            best.version_id = other.version_id
        if not best.version_codename and other.version_codename:
            best.version_codename = other.version_codename
        if not best.name and other.name:
            best.name = other.name
    debian_version = records.get(DEBIAN_VERSION)
    if (
        best.id == "debian" and best.version_id and debian_version is not None and debian_version.id == "debian"
        and debian_version.version_id and "." not in best.version_id
        and _major(debian_version.version_id) == best.version_id
    ):
        best.version_id = debian_version.version_id
    os_release_distroless = any(r.distroless for p, r in records.items() if p in (OS_RELEASE, USR_LIB_OS_RELEASE))
    best.distroless = best.distroless or os_release_distroless or (has_dpkg_status_d and not has_dpkg_status)
    return best


class OsReleaseCataloger:
    name = "os-release"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        return path in _PARSERS

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        if path not in _PARSERS:
            return None
        return PathRecord(cataloger=self.name, path=path, os_release=parse_release_file(path, data.read()))
