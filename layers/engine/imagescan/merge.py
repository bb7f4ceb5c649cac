"""The whole-image merge: apply per-layer results in order, as the container runtime stacks the layers.

Whiteouts and opaque directories of a layer hide what lower layers put there; a later layer's file replaces an
earlier one at the same path. Each package keeps the diff_id of the layer that last wrote it: the first layer of
the unbroken run of layers whose copy of the package database holds the package at that exact version.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from imagescan.models import (
    OS_PACKAGE_TYPES,
    FileEntry,
    LayerResult,
    OSRelease,
    Package,
    PackageType,
    PathRecord,
    ScanWarning,
)

RecordKey = tuple[str, str]  # (cataloger, path)
MAX_SYMLINK_HOPS = 40


def _package_key(p: Package) -> tuple[str, str, str | None, int | None]:
    return (p.name, p.version, p.arch, p.epoch)


def _hider(whiteouts: set[str], opaque: set[str]) -> Callable[[str], bool]:
    """A test for paths of lower layers: deleted by a whiteout, or under an opaque directory. The prefix test runs
    in C (``str.startswith`` with a tuple), so a layer's whiteouts cost one pass over the files, however many."""
    if "" in opaque:  # the root itself is opaque: nothing below survives
        return lambda _path: True
    prefixes = tuple(f"{d}/" for d in whiteouts | opaque)
    return lambda path: path in whiteouts or path.startswith(prefixes)


@dataclass
class MergedImage:
    files: dict[str, tuple[FileEntry, str]] = field(default_factory=dict)
    """The final filesystem: path → (entry, diff_id of the layer it comes from)."""
    records: dict[RecordKey, tuple[PathRecord, str]] = field(default_factory=dict)
    """Cataloger records whose file survives in the final filesystem, with their layer."""
    packages: list[Package] = field(default_factory=list)
    history: list[tuple[str, PathRecord]] = field(default_factory=list)
    """Every record of every layer, in layer order, with its layer's diff_id: also the ones later layers deleted
    or replaced (a secret in a deleted file still ships in the image)."""
    warnings: list[ScanWarning] = field(default_factory=list)
    incomplete_layers: list[str] = field(default_factory=list)
    _dirs: dict[str, str] = field(default_factory=dict, repr=False)

    def live(self, path: str, diff_id: str) -> bool:
        """True when the final filesystem's ``path`` is the file that layer ``diff_id`` wrote."""
        found = self.files.get(path)
        return found is not None and found[1] == diff_id

    def os_records(self) -> dict[str, OSRelease]:
        return {path: rec.os_release for (_, path), (rec, _) in self.records.items() if rec.os_release}

    def canonical(self, path: str) -> str:
        """``path`` with symlinked directories resolved (the last component is left as it is)."""
        directory, _, base = path.strip("/").rpartition("/")
        if not directory:
            return base
        resolved = self._dirs.get(directory)
        if resolved is None:
            resolved = self._dirs[directory] = self.resolve(directory) or directory
        return f"{resolved}/{base}"

    def resolve(self, path: str) -> str | None:
        """Follow symlinks in every component of ``path``; None for dangling links and loops."""
        parts = [p for p in path.strip("/").split("/") if p]
        current = ""
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                current = posixpath.dirname(current)
                continue
            if part == ".":
                continue
            candidate = posixpath.join(current, part) if current else part
            found = self.files.get(candidate)
            if found and found[0].link is not None and found[0].type.value == "l":
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = found[0].link
                if target.startswith("/"):
                    current = ""
                parts = [p for p in target.split("/") if p] + parts
                continue
            current = candidate
        return current if current in self.files else None


def merge_layers(layers: Sequence[LayerResult]) -> MergedImage:
    image = MergedImage()
    # (cataloger, path) → package key → diff_id of the first layer of its current unbroken run
    origin: dict[RecordKey, dict[tuple[str, str, str | None, int | None], str]] = {}
    for layer in layers:
        image.warnings.extend(layer.warnings)
        if not layer.complete:
            image.incomplete_layers.append(layer.diff_id)
        whiteouts, opaque = set(layer.whiteouts), set(layer.opaque_dirs)
        if whiteouts or opaque:
            hidden = _hider(whiteouts, opaque)
            image.files = {p: v for p, v in image.files.items() if not hidden(p)}
            for key in [k for k in image.records if hidden(k[1])]:
                del image.records[key]
                origin.pop(key, None)
        written = set()
        for row in layer.entries:
            entry = FileEntry.from_row(row)
            image.files[entry.path] = (entry, layer.diff_id)
            written.add(entry.path)
        # A file this layer rewrites replaces what lower layers read from it, even when the new copy yields no
        # record (unparseable, or no longer of interest): the old packages must not survive.
        renewed = {(r.cataloger, r.path) for r in layer.records}
        for key in [k for k in image.records if k[1] in written and k not in renewed]:
            del image.records[key]
            origin.pop(key, None)
        for record in layer.records:
            image.history.append((layer.diff_id, record))
            key = (record.cataloger, record.path)
            image.records[key] = (record, layer.diff_id)
            previous = origin.get(key, {})
            origin[key] = {
                _package_key(p): previous.get(_package_key(p), layer.diff_id) for p in record.packages
            }
    # A record whose file was later replaced by something that is not a regular file no longer counts.
    for key in [k for k in image.records if k[1] not in image.files or image.files[k[1]][0].type.value != "f"]:
        del image.records[key]
    image.packages = _dedupe_runtimes(_mark_owned(image, list(_packages(image.records, origin))))
    return image


def _mark_owned(image: MergedImage, packages: list[Package]) -> list[Package]:
    """Language packages whose metadata file belongs to an OS package are that OS package's (Debian's
    python3-yaml ships PyYAML's dist-info): they are matched against the OS vendor's advisories. A path inside an
    archive (``usr/share/java/x.jar!/lib/y.jar``) belongs to whoever owns the outer file. Paths are compared
    after resolving directory symlinks, because package databases list ``/bin/busybox`` while a merged-usr image
    holds ``usr/bin/busybox``."""
    owners = {image.canonical(f): p for p in packages if p.type in OS_PACKAGE_TYPES for f in p.files}
    for pkg in packages:
        if pkg.type in OS_PACKAGE_TYPES:
            continue
        owner = owners.get(image.canonical(pkg.path.split("!/", 1)[0]))
        if owner is not None:
            pkg.owner = f"{owner.type}/{owner.name}"
    return packages


def _dedupe_runtimes(packages: list[Package]) -> list[Package]:
    """One component per runtime version: the same runtime is often identified from several files (the node
    binary and include/node/node_version.h); the others are listed as further evidence on the one kept."""
    kept: dict[tuple[str, str, str], Package] = {}
    out: list[Package] = []
    for pkg in sorted(packages, key=lambda p: (p.owner is None, p.path)):
        if pkg.type != PackageType.GENERIC:
            out.append(pkg)
            continue
        first = kept.setdefault((pkg.name, pkg.version, pkg.component_type), pkg)
        if first is pkg:
            out.append(pkg)
        else:
            first.properties["runtime:also_at"] = ",".join(filter(None, [first.properties.get("runtime:also_at"),
                                                                         pkg.path]))
    return out


def _packages(
    records: dict[RecordKey, tuple[PathRecord, str]],
    origin: dict[RecordKey, dict[tuple[str, str, str | None, int | None], str]],
) -> Iterable[Package]:
    owned: dict[tuple[str, str], list[str]] = {}
    for (cataloger, _), (record, _) in records.items():
        for name, files in record.owned_files.items():
            owned.setdefault((cataloger, name), []).extend(files)
    for key in sorted(records):
        record, _ = records[key]
        for pkg in record.packages:
            out = pkg.model_copy(deep=True)
            out.layer_diff_id = origin[key][_package_key(pkg)]
            out.path = out.path or key[1]
            if not out.files:
                # File lists kept apart are named after the package (dpkg info/NAME[:ARCH].list) or after the file
                # the package was read from (distroless status.d/NAME + NAME.md5sums, where NAME may differ), or
                # after the directory holding that file (Python's NAME.dist-info/METADATA + RECORD).
                for name in (f"{pkg.name}:{pkg.arch}", pkg.name, posixpath.basename(out.path),
                             posixpath.dirname(out.path)):
                    if (key[0], name) in owned:
                        out.files = sorted(set(owned[(key[0], name)]))
                        break
            yield out
