"""Small pieces shared by the CycloneDX writers (:mod:`imagescan.sbom.cyclonedx`,
:mod:`imagescan.sbom.vulnerabilities`), which build the JSON document as plain dicts and lists.

The writers keep the order cyclonedx-python-lib gave its output, so that documents compare with those written before:
object keys in alphabetical order of the library's attribute names (``bom-ref`` sorts as ``bom_ref``), and arrays
that the library kept as sorted sets sorted the way its ``ComparableTuple`` sorts them — field by field, a missing
(None) field after any present one — with duplicates dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

JsonObject = dict[str, Any]


def none_last(value: str | None) -> tuple[bool, str]:
    """Sort key of an optional text field: present values in text order, then None."""
    return (value is None, value or "")


def properties(pairs: Iterable[tuple[str, str]]) -> list[JsonObject]:
    """A ``properties`` array: by name then value, each name/value pair once."""
    return [{"name": name, "value": value} for name, value in sorted(set(pairs))]
