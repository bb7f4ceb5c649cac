"""The CycloneDX ``licenses`` entry of a package's license string, decided as cyclonedx-python-lib's
``LicenseFactory.make_from_string`` decides, without loading that library for the common cases:

* an SPDX license id (compared without case with the ids of the library's SPDX enumeration, the list
  ``cyclonedx.spdx.fixup_id`` reads) → ``{"license": {"id": ID}}``, spelled as SPDX spells it;
* else a valid SPDX license expression (license-expression's strict verdict, which ``cyclonedx.spdx.is_expression``
  asks) → ``{"expression": VALUE}``;
* else → ``{"license": {"name": VALUE}}``.

license-expression takes ~30 ms to load its 2,600 licenses, so it is only asked about strings this module cannot
settle from the same data (its index file, read once in ~5 ms when some license is not a plain SPDX id). Its
tokenizer reads words split on white space and parentheses and only knows the words of its SPDX license keys and
aliases and the operators ``AND``/``OR``/``WITH``; any other word is an unknown license key, so a string with one
(``Apache 2.0``, ``GPLv2+ and BSD``, ``Ruby, MIT``) is a name. A string of one-word keys, operators and parentheses
that follows the grammar — ``license [WITH exception]`` terms joined by ``AND``/``OR``, parenthesised groups, an
exception only after ``WITH`` — is an expression (``MIT OR Apache-2.0``). License-expression decides what is left
(malformed or unusual strings of known words, the two-word alias ``GPL 2.0``), and everything when a data file is
missing.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NamedTuple

_WORDS = re.compile(r"[^\s()]+")
_TOKENS = re.compile(r"[^\s()]+|[()]")
_OPERATORS = ("and", "or", "with")


class _Index(NamedTuple):
    words: frozenset[str]
    """Every word license-expression's SPDX tokenizer recognises, in lower case."""
    exception: dict[str, bool]
    """One-word license keys and aliases (lower case) → whether the license is an exception (``WITH`` operand)."""


def _package_file(package: str, *parts: str) -> Path | None:
    """A data file shipped inside an installed package, located without importing the package."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    return path if path.is_file() else None


@cache
def _spdx_ids() -> dict[str, str] | None:
    """Lower-case SPDX id → the id, from cyclonedx-python-lib's SPDX enumeration; None when the file is not there."""
    path = _package_file("cyclonedx", "schema", "_res", "spdx.SNAPSHOT.schema.json")
    if path is None:
        return None
    ids: list[str] = json.loads(path.read_bytes()).get("enum", [])
    return {spdx_id.lower(): spdx_id for spdx_id in ids}


@cache
def _expression_index() -> _Index | None:
    """What license-expression's SPDX licensing knows, from its index file; None when the file is not there."""
    path = _package_file("license_expression", "data", "scancode-licensedb-index.json")
    if path is None:
        return None
    names: list[str] = []
    exception: dict[str, bool] = {}
    clashes: set[str] = set()
    for entry in json.loads(path.read_bytes()):
        if not entry.get("spdx_license_key"):  # license-expression builds its SPDX licensing from these only
            continue
        keys = (entry["spdx_license_key"], *(entry.get("other_spdx_license_keys") or ()))
        names += keys
        for key in keys:
            words = _WORDS.findall(key.lower())
            if len(words) == 1:
                kind = bool(entry.get("is_exception"))
                if exception.setdefault(words[0], kind) != kind:
                    clashes.add(words[0])
    for word in clashes:  # a word that is both a license and an exception: leave it to license-expression
        del exception[word]
    return _Index(frozenset(_WORDS.findall("\n".join(names).lower())).union(_OPERATORS), exception)


def _follows_grammar(tokens: list[str], exception: dict[str, bool]) -> bool:
    """Whether lower-case ``tokens`` are a plain SPDX expression: terms ``license [with exception]`` and
    parenthesised groups joined by ``and``/``or``, every license and exception a known one-word key."""
    state, depth = "operand", 0
    for token in tokens:
        if state == "operand" and token == "(":
            depth += 1
        elif state == "operand" and exception.get(token) is False:
            state = "license"
        elif state == "exception" and exception.get(token) is True:
            state = "closed"
        elif state == "license" and token == "with":
            state = "exception"
        elif state in ("license", "closed") and token in ("and", "or"):
            state = "operand"
        elif state in ("license", "closed") and token == ")" and depth > 0:
            depth, state = depth - 1, "closed"
        else:
            return False
    return state in ("license", "closed") and depth == 0


def spdx_id(value: str) -> str | None:
    """The SPDX id ``value`` names (any case), as SPDX spells it; None when it is not an SPDX id."""
    ids = _spdx_ids()
    if ids is None:
        from cyclonedx.spdx import fixup_id

        found: str | None = fixup_id(value)
        return found
    return ids.get(value.lower())


@lru_cache(maxsize=4096)
def is_expression(value: str) -> bool:
    """Whether ``value`` is a valid SPDX license expression, as license-expression (strict) validates it."""
    index = _expression_index()
    if index is not None:
        tokens = _TOKENS.findall(value.lower())
        if not index.words.issuperset(t for t in tokens if t not in ("(", ")")):
            return False  # an unknown word is an unknown license key to license-expression: never valid
        if _follows_grammar(tokens, index.exception):
            return True
    from cyclonedx.spdx import is_expression as library_is_expression  # loads license-expression: ~30 ms, once

    return bool(library_is_expression(value))


def license_entry(value: str) -> dict[str, Any]:
    """One item of a component's ``licenses`` array."""
    found = spdx_id(value)
    if found is not None:
        return {"license": {"id": found}}
    if is_expression(value):
        return {"expression": value}
    return {"license": {"name": value}}
