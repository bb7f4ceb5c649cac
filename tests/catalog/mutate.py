"""Hypothesis strategies shared by the language catalogers' robustness tests."""

from __future__ import annotations

import io

from hypothesis import strategies as st

from imagescan.catalog.base import Cataloger, CatalogError

Edit = tuple[int, bytes, int]

edits = st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(max_size=8), st.integers(0, 12)), max_size=10)
"""(position, bytes to insert, bytes to delete) triples for :func:`apply_edits`."""


def apply_edits(data: bytes, changes: list[Edit]) -> bytes:
    """``data`` with each edit applied in turn (positions wrap around the current length)."""
    for pos, insert, delete in changes:
        pos %= len(data) + 1
        data = data[:pos] + insert + data[pos + delete:]
    return data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
"""Any JSON value, for documents whose fields hold the wrong types."""


def check_parse(cataloger: Cataloger, path: str, data: bytes) -> None:
    """Parse ``data``: a CatalogError is fine; anything else must be well-formed packages."""
    try:
        record = cataloger.parse(path, io.BytesIO(data), len(data))
    except CatalogError:
        return
    assert record is not None
    for pkg in record.packages:
        assert pkg.name and pkg.version and "/" not in pkg.name
