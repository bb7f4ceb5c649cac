"""The cataloger contract.

A cataloger names the paths it needs (:meth:`Cataloger.wants`); the layer walker hands it each matching regular
file of a layer, one at a time, while the layer streams past. It returns what it read as a :class:`PathRecord`
(or None when the file holds nothing of interest). It never walks a filesystem and never sees other files.

Paths are image paths without a leading slash (``var/lib/dpkg/status``).
"""

from __future__ import annotations

from typing import BinaryIO, Protocol

from imagescan.models import PathRecord

DEFAULT_MAX_FILE_SIZE = 64 * 1024 * 1024


class CatalogError(Exception):
    """A file was malformed. The walker records it as a warning for that path and layer; the scan goes on."""


class Cataloger(Protocol):
    name: str
    """Stable identifier, e.g. ``dpkg``. Part of the layer cache key together with :attr:`version`."""
    version: int
    """Bump when the output for the same input changes, so cached layer results are recomputed."""
    max_file_size: int
    """Files larger than this are not read; the walker counts them in ``LayerResult.oversize`` and, unless the
    cataloger sets ``warn_oversize = False`` (scanners that look at every file), records a ``file-too-large``
    warning for each."""

    def wants(self, path: str) -> bool:
        """True when the file at ``path`` should be handed to :meth:`parse`. Must be cheap: called per entry.

        A cataloger may also define ``wants_mode(path, mode) -> bool`` (``mode``: the entry's permission bits);
        the walker then calls it instead of :meth:`wants`. Binary catalogers use it to pick executables."""
        ...

    def parse(self, path: str, data: BinaryIO, size: int) -> PathRecord | None:
        """Read one file. ``data`` is seekable and positioned at 0. Raise :class:`CatalogError` on bad input."""
        ...
