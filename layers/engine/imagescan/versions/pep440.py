"""Python package versions (PEP 440), compared with ``packaging.version.Version`` — the reference itself.

Epochs, pre/post/dev releases, local versions and the normalisations PEP 440 allows (``1.0RC1`` == ``1.0rc1``,
``v1.0``, ``1.0-1`` as a post release...) are handled by ``packaging``. Strings it refuses (legacy versions such
as ``2004d`` or ``1.0-foo``) raise :class:`InvalidVersion`.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.version import Version

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, require_str

SCHEME = "pep440"


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> Version:
    """The ``packaging`` Version for ``version``."""
    version = require_str(SCHEME, version)
    try:
        return Version(version)
    except ValueError as exc:  # packaging's InvalidVersion, or int() refusing a 4300+ digit component
        raise InvalidVersion(SCHEME, version, "not a PEP 440 version") from exc


def compare(a: str, b: str) -> int:
    """Compare two PEP 440 versions: -1, 0 or 1."""
    va, vb = parse(a), parse(b)
    return (va > vb) - (va < vb)
