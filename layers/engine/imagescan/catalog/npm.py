"""The npm cataloger: Node.js packages installed in an image, read from their ``package.json``.

Which ``package.json`` files count:

* libraries: the one directly inside a package directory, ``…/node_modules/NAME/package.json`` or
  ``…/node_modules/@SCOPE/NAME/package.json``, at any depth, so nested copies
  (``node_modules/a/node_modules/ms/package.json``) are separate packages with their own paths. This covers the
  global install directories (``usr/lib/node_modules``, ``usr/local/lib/node_modules``) and pnpm's
  ``node_modules/.pnpm/…/node_modules/NAME``. Deeper files inside a package (test fixtures,
  ``lib/package.json`` with only ``{"type": "module"}``) are not packages. Debian's ``node-*`` packages install
  the same layout under ``usr/share/nodejs/`` and ``usr/lib/nodejs/`` (also ``usr/lib/TRIPLET/nodejs/``);
* applications: a ``package.json`` outside any ``node_modules`` directory is read as a candidate with
  ``component_type="application"``. Whether it is an application needs other files, so the cataloger cannot
  decide: :func:`keep_applications` (run on the merged image) keeps only those with a ``node_modules`` beside
  them, or in the image's WORKDIR.

A ``package.json`` without a string ``name`` or ``version`` is skipped (None), as npm does not install those. A
scoped name ``@scope/name`` becomes purl namespace ``@scope``. Licence: ``license`` (a string, or the legacy
``{"type": ...}`` object), else the legacy ``licenses`` list joined by ``", "``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any, BinaryIO

from imagescan.catalog.base import CatalogError
from imagescan.catalog.jsondoc import load_json, text_field
from imagescan.models import Package, PackageType, PathRecord

MAX_FILE_SIZE = 2 * 1024 * 1024
"""A package.json is a few kilobytes; old npm versions embedded the README, which is still well under this."""
PACKAGE_JSON = "package.json"
NODE_MODULES = "node_modules"
APPLICATION = "application"
_DEBIAN_DIRS = ("usr/share/nodejs/", "usr/lib/nodejs/")


def _package_dir_kind(parts: list[str]) -> str | None:
    """``library`` when ``parts`` (a path split on ``/``, ending in package.json) is a package's own manifest,
    ``application`` when it sits outside every node_modules directory, else None."""
    if len(parts) >= 3 and parts[-3] == NODE_MODULES:
        return "library" if not parts[-2].startswith((".", "@")) else None
    if len(parts) >= 4 and parts[-4] == NODE_MODULES and parts[-3].startswith("@") and len(parts[-3]) > 1:
        return "library" if not parts[-2].startswith(".") else None
    if NODE_MODULES in parts:
        return None
    path = "/".join(parts)
    for prefix in (*_DEBIAN_DIRS, "usr/lib/"):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix):].split("/")
        if prefix == "usr/lib/":  # usr/lib/x86_64-linux-gnu/nodejs/NAME/package.json
            if len(rest) < 4 or rest[1] != "nodejs":
                continue
            rest = rest[2:]
        if len(rest) == 2 and not rest[0].startswith((".", "@")):
            return "library"
        if len(rest) == 3 and rest[0].startswith("@") and len(rest[0]) > 1 and not rest[1].startswith("."):
            return "library"
        return None  # a file deeper inside a Debian-installed package
    return APPLICATION


def manifest_kind(path: str) -> str | None:
    parts = path.split("/")
    if parts[-1] != PACKAGE_JSON:
        return None
    return _package_dir_kind(parts)


def split_name(name: str) -> tuple[str | None, str] | None:
    """``@scope/name`` → (``@scope``, ``name``); ``name`` → (None, ``name``); None when not a package name."""
    if any(c.isspace() for c in name) or name.startswith(("/", ".")):
        return None
    if name.startswith("@"):
        scope, slash, rest = name.partition("/")
        if not slash or len(scope) < 2 or not rest or "/" in rest:
            return None
        return scope, rest
    return (None, name) if "/" not in name else None


def _license(doc: dict[str, Any]) -> str | None:
    value = doc.get("license")
    if isinstance(value, dict):
        value = value.get("type")
    if isinstance(value, str) and value.strip():
        return value.strip()
    names: list[str] = []
    legacy = doc.get("licenses")
    for item in legacy if isinstance(legacy, list) else []:
        kind = item.get("type") if isinstance(item, dict) else item
        if isinstance(kind, str) and kind.strip() and kind.strip() not in names:
            names.append(kind.strip())
    return ", ".join(names) or None


def parse_package_json(data: bytes, path: str, component_type: str = "library") -> Package | None:
    """The package a ``package.json`` describes; None when it has no usable name or version."""
    doc = load_json(data, path)
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: a package.json holds a JSON object, not {type(doc).__name__}")
    name, version = text_field(doc, "name"), text_field(doc, "version")
    if name is None or version is None or any(c.isspace() for c in version):
        return None
    split = split_name(name)
    if split is None:
        return None
    namespace, short = split
    return Package(type=PackageType.NPM, namespace=namespace, name=short, version=version, license=_license(doc),
                   path=path, component_type=component_type)


def _node_modules_dirs(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        index = path.find(NODE_MODULES)
        while index >= 0:
            end = index + len(NODE_MODULES)
            if (index == 0 or path[index - 1] == "/") and (end == len(path) or path[end] == "/"):
                found.add(path[:end])
            index = path.find(NODE_MODULES, end)
    return found


def keep_applications(packages: list[Package], paths: Mapping[str, object], workdir: str | None) -> list[Package]:
    """``packages`` without the npm application candidates that are not applications: kept are those with a
    ``node_modules`` directory beside their package.json, and the one in the image's ``workdir``."""
    candidates = [p for p in packages if p.type == PackageType.NPM and p.component_type == APPLICATION]
    if not candidates:
        return packages
    installed = _node_modules_dirs(paths)
    home = (workdir or "").strip("/") or None
    dropped: set[int] = set()
    for pkg in candidates:
        directory = posixpath.dirname(pkg.path)
        if posixpath.join(directory, NODE_MODULES) not in installed and (home is None or directory != home):
            dropped.add(id(pkg))
    return [p for p in packages if id(p) not in dropped]


class NpmCataloger:
    name = "npm"
    version = 1
    max_file_size = MAX_FILE_SIZE

    def wants(self, path: str) -> bool:
        return path.endswith(PACKAGE_JSON) and manifest_kind(path) is not None

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        kind = manifest_kind(path)
        if kind is None:
            return None
        package = parse_package_json(data.read(), path, kind)
        return PathRecord(cataloger=self.name, path=path, packages=[package] if package else [])
