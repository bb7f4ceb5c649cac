"""The .NET cataloger: NuGet packages of a .NET application, from its ``NAME.deps.json``.

The .NET SDK writes ``NAME.deps.json`` beside every published application (and the runtime's own
``Microsoft.NETCore.App.deps.json`` in ``shared/``). Its ``libraries`` object maps ``"Name/Version"`` to an entry
whose ``type`` says what it is:

* ``package``: a NuGet package → ``pkg:nuget/Name@Version``; its ``sha512`` (``"sha512-" + base64`` of the
  .nupkg's SHA-512) becomes ``digests["sha512"]`` in hex;
* ``runtimepack``: the runtime a self-contained app carries (``runtimepack.Microsoft.NETCore.App.Runtime.linux-x64``,
  a NuGet package too), reported without the ``runtimepack.`` prefix;
* ``project``: code built with the application. The one named like the file (``app`` for ``app.deps.json``,
  or the only project) is the application itself (``component_type="application"``); other projects are the
  application's own class libraries, not packages, and are not reported;
* anything else (``reference``, ``referenceassembly``) is skipped.

Names keep their case (NuGet ids are case-insensitive; purl keeps the case given). Keys without ``/`` or with
white space, and entries that are not objects, are skipped with a note.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from typing import Any, BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.jsondoc import load_json
from imagescan.models import Package, PackageType, PathRecord

MAX_FILE_SIZE = 32 * 1024 * 1024
DEPS_SUFFIX = ".deps.json"
RUNTIMEPACK_PREFIX = "runtimepack."
MAX_NOTES = 20


def _sha512(value: object) -> dict[str, str]:
    if not isinstance(value, str) or not value.startswith("sha512-"):
        return {}
    try:
        raw = base64.b64decode(value[len("sha512-"):], validate=True)
    except (binascii.Error, ValueError):
        return {}
    return {"sha512": raw.hex()} if len(raw) == 64 else {}


def _split_key(key: str) -> tuple[str, str] | None:
    name, slash, version = key.rpartition("/")
    if not slash or not name or not version or any(c.isspace() for c in key) or "/" in name:
        return None
    return name, version


def _main_project(libraries: dict[str, Any], path: str) -> str | None:
    """The ``libraries`` key of the application itself."""
    stem = posixpath.basename(path)[: -len(DEPS_SUFFIX)].lower()
    projects = [k for k, v in libraries.items() if isinstance(v, dict) and v.get("type") == "project"]
    for key in projects:
        split = _split_key(key)
        if split is not None and split[0].lower() == stem:
            return key
    return projects[0] if len(projects) == 1 else None


def parse_deps_json(data: bytes, path: str) -> tuple[list[Package], list[str]]:
    doc = load_json(data, path)
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: a deps.json holds a JSON object, not {type(doc).__name__}")
    libraries = doc.get("libraries", {})
    if not isinstance(libraries, dict):
        raise CatalogError(f"{path}: 'libraries' is a {type(libraries).__name__}, not an object")
    main = _main_project(libraries, path)
    packages: list[Package] = []
    notes: list[str] = []
    for key, entry in libraries.items():
        if not isinstance(entry, dict):
            notes.append(f"library {key[:80]!r} is not an object")
            continue
        kind = entry.get("type")
        if kind not in ("package", "runtimepack") and key != main:
            continue
        split = _split_key(key)
        if split is None:
            notes.append(f"library key {key[:80]!r} is not Name/Version")
            continue
        name, version = split
        if kind == "runtimepack" and name.startswith(RUNTIMEPACK_PREFIX):
            name = name[len(RUNTIMEPACK_PREFIX):]
        packages.append(Package(
            type=PackageType.NUGET, name=name, version=version, digests=_sha512(entry.get("sha512")), path=path,
            component_type="application" if key == main else "library",
        ))
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"{len(notes) - MAX_NOTES} more libraries skipped"]
    return packages, notes


class DotnetCataloger:
    name = "dotnet"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        return path.endswith(DEPS_SUFFIX) and len(posixpath.basename(path)) > len(DEPS_SUFFIX)

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        packages, notes = parse_deps_json(data.read(), path)
        return PathRecord(cataloger=self.name, path=path, packages=packages, notes=notes)
