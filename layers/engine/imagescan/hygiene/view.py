"""What the hygiene checks read from an analysed image: the final filesystem index, the OS packages and the files
they own, the run config (User, Env, Entrypoint, Cmd...) and the history. Indexes are built once, on first use."""

from __future__ import annotations

import posixpath
from functools import cached_property
from typing import Any

from imagescan.hygiene.history import HistoryStep, parse_history
from imagescan.models import OS_PACKAGE_TYPES, EntryType, FileEntry, Package
from imagescan.scan import ImageAnalysis

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""What Docker and containerd use when the config sets no PATH."""
BIN_DIRS = ("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin")
FILE_TYPES = (EntryType.FILE, EntryType.HARDLINK)


def is_file(entry: FileEntry) -> bool:
    return entry.type in FILE_TYPES


def runs_as_root(user: str) -> bool:
    """``User`` of the config: empty, ``root``, ``0`` or ``root:group``/``0:group`` mean root."""
    name = user.strip().split(":", 1)[0].strip()
    return name in ("", "root", "0")


class ImageView:
    def __init__(self, analysis: ImageAnalysis) -> None:
        self.analysis = analysis
        self.files = analysis.merged.files
        self.digest = analysis.digest
        self._dir_cache: dict[str, str] = {}

    # -- config ---------------------------------------------------------------------------------------------
    @cached_property
    def config(self) -> dict[str, Any]:
        return self.analysis.image.config if isinstance(self.analysis.image.config, dict) else {}

    @cached_property
    def has_run_config(self) -> bool:
        """False when the image config has no ``config`` object at all (an SBOM input, a broken config)."""
        return isinstance(self.config.get("config"), dict)

    @cached_property
    def run_config(self) -> dict[str, Any]:
        run = self.config.get("config")
        return run if isinstance(run, dict) else {}

    @cached_property
    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        items = self.run_config.get("Env")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, str):
                name, _, value = item.partition("=")
                out[name] = value
        return out

    @cached_property
    def path_dirs(self) -> list[str]:
        """PATH entries as image paths (no leading slash), in order, without duplicates."""
        raw = self.env.get("PATH", DEFAULT_PATH) if self.has_run_config else DEFAULT_PATH
        out: list[str] = []
        for part in raw.split(":"):
            clean = posixpath.normpath("/" + part.strip()).lstrip("/") if part.strip().startswith("/") else ""
            if clean and clean not in out:
                out.append(clean)
        return out

    @cached_property
    def history(self) -> list[HistoryStep]:
        return parse_history(self.config)

    def argv(self, key: str) -> list[str] | None:
        value = self.run_config.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        if isinstance(value, str):
            return [value]
        return None

    # -- filesystem -------------------------------------------------------------------------------------------
    def resolve(self, path: str) -> str | None:
        return self.analysis.merged.resolve(path)

    def canonical(self, path: str) -> str:
        """``path`` with symlinks resolved in its directories but not in its last component: where the entry
        itself lives (``bin/su`` → ``usr/bin/su`` on merged-/usr systems)."""
        path = path.strip("/")
        parent, name = posixpath.split(path)
        if not parent:
            return path
        cache = self._dir_cache
        if parent not in cache:
            cache[parent] = self.resolve(parent) or parent
        return f"{cache[parent]}/{name}"

    def entry(self, path: str) -> FileEntry | None:
        found = self.files.get(path)
        return found[0] if found else None

    @cached_property
    def _layer_positions(self) -> dict[str, int]:
        return {diff_id: i for i, diff_id in enumerate(self.analysis.image.diff_ids)}

    def layer_position(self, diff_id: str | None) -> int:
        """Index of a layer in the image, bottom first; -1 when unknown."""
        return self._layer_positions.get(diff_id, -1) if diff_id else -1

    @cached_property
    def os_packages(self) -> list[Package]:
        return [p for p in self.analysis.merged.packages if p.type in OS_PACKAGE_TYPES]

    @cached_property
    def owners(self) -> dict[str, Package]:
        """Canonical path → the OS package whose file list names it."""
        out: dict[str, Package] = {}
        for pkg in self.os_packages:
            for f in pkg.files:
                out.setdefault(self.canonical(f), pkg)
        return out

    @cached_property
    def parents(self) -> frozenset[str]:
        """Every directory that holds an entry (layers may omit the directories' own entries)."""
        return frozenset(posixpath.dirname(p) for p in self.files)

    def directory(self, path: str) -> str | None:
        """``path`` resolved, when it is a directory of the image (an entry of its own, or the parent of one)."""
        real = self.resolve(path) or path.strip("/")
        entry = self.entry(real)
        if entry is not None and entry.type == EntryType.DIR:
            return real
        return real if entry is None and real in self.parents else None

    @cached_property
    def bin_dirs(self) -> list[str]:
        """PATH directories and the standard program directories, resolved, existing, without duplicates."""
        out: list[str] = []
        for d in [*self.path_dirs, *BIN_DIRS]:
            real = self.directory(d)
            if real and real not in out:
                out.append(real)
        return out

    @cached_property
    def programs(self) -> dict[str, list[str]]:
        """Program name → paths of entries with that name directly in one of :attr:`bin_dirs` (files and links)."""
        dirs = set(self.bin_dirs)
        out: dict[str, list[str]] = {}
        for path in self.files:
            parent, name = posixpath.split(path)
            if parent in dirs:
                out.setdefault(name, []).append(path)
        return out

    def children(self, directories: set[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {d: [] for d in directories}
        for path in self.files:
            parent = posixpath.dirname(path)
            if parent in out:
                out[parent].append(path)
        return out
