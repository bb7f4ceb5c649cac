"""Reading the small files a user hands the scan (``--dockerfile``, ``--policy``): bounded, with one-line errors."""

from __future__ import annotations

from pathlib import Path

from imagescan.errors import ScanError

MAX_USER_FILE_BYTES = 1024 * 1024


def read_user_file(path: Path, what: str, error: type[ScanError]) -> bytes:
    """The bytes of ``path``; ``error`` (a :class:`ScanError`) when it cannot be read or is over the cap."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_USER_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"{what} {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_USER_FILE_BYTES:
        raise error(f"{what} {path}: larger than {MAX_USER_FILE_BYTES} bytes")
    return raw
