"""Reading the JSON metadata files of language ecosystems (package.json, installed.json, deps.json) safely.

Whatever the bytes, :func:`load_json` returns the parsed document or raises :class:`CatalogError`: invalid
UTF-8, invalid JSON, nesting deep enough to exhaust the recursion limit and over-long integers all end there.
"""

from __future__ import annotations

import json
from typing import Any

from imagescan.catalog.base import CatalogError

UTF8_BOM = b"\xef\xbb\xbf"


def load_json(data: bytes, path: str) -> Any:
    """The JSON document in ``data`` (a UTF-8 byte order mark is allowed, as npm and .NET tools write one)."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise CatalogError(f"{path} is not valid JSON: {type(exc).__name__}: {str(exc)[:200]}") from None


def text_field(doc: dict[str, Any], key: str) -> str | None:
    """``doc[key]`` stripped when it is a non-empty string, else None."""
    value = doc.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None

