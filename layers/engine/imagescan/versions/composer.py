"""Composer (Packagist) versions, compared like composer/semver.

Both strings are normalised with composer/semver's ``VersionParser::normalize`` (``v`` prefix dropped, up to
four numeric components padded with ``.0``, date versions, stability suffixes expanded: ``1.2b3`` ->
``1.2.0.0-beta3``, ``1.0-p1`` -> ``1.0.0.0-patch1``, ``1.x-dev`` -> ``1.9999999.9999999.9999999-dev``, build
metadata dropped) and the normalised forms are compared with PHP's ``version_compare``, which is what Composer's
constraint matching does. Stabilities order ``dev < alpha < beta < RC < stable < patch``.

Strings ``normalize`` refuses raise :class:`InvalidVersion`, and so do branch names (``dev-main``,
``master``): Composer never orders a branch against a version.
"""

from __future__ import annotations

import re
from functools import lru_cache

from imagescan.versions.base import PARSE_CACHE_SIZE, InvalidVersion, numeric_key, require_str

SCHEME = "composer"
_LONG_MAX = 2**63 - 1
_PHP_TRIM = " \t\n\r\0\x0b"

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_ALIAS = re.compile(r"^([^,\s]++) ++as ++([^,\s]++)$", re.ASCII)
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.ASCII | re.IGNORECASE)
_BUILD = re.compile(r"^([^,\s+]++)\+[^\s]++$", re.ASCII)
_CLASSICAL = re.compile(r"^v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER + "$", re.ASCII | re.IGNORECASE)
_DATE = re.compile(r"^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)" + _MODIFIER + "$", re.ASCII | re.IGNORECASE)
_DEV_SUFFIX = re.compile(r"(.*?)[.-]?dev$", re.ASCII | re.IGNORECASE)
_BRANCH = re.compile(r"^v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?$", re.ASCII | re.IGNORECASE)
_EXPAND = {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}


def _normalize_branch(name: str) -> str:
    match = _BRANCH.search(name.strip(_PHP_TRIM))
    if match is None:
        return "dev-" + name
    parts = [match[i] if match[i] is not None else ".x" for i in range(1, 5)]
    version = "".join(p.replace("*", "x").replace("X", "x") for p in parts)
    return version.replace("x", "9999999") + "-dev"


def normalize(version: str) -> str:
    """composer/semver's ``VersionParser::normalize``; raises :class:`InvalidVersion` where it throws."""
    version = require_str(SCHEME, version)
    text = version.strip(_PHP_TRIM)
    match = _ALIAS.search(text)
    if match:
        text = match[1]
    match = _STABILITY_FLAG.search(text)
    if match:
        text = text[: len(text) - len(match[0])]
    if text in ("master", "trunk", "default"):
        text = "dev-" + text
    if text[:4].lower() == "dev-":
        return "dev-" + text[4:]
    match = _BUILD.search(text)
    if match:
        text = match[1]
    match = _CLASSICAL.search(text)
    index = 5
    if match:
        text = match[1] + "".join(match[i] or ".0" for i in (2, 3, 4))
    else:
        match = _DATE.search(text)
        index = 2
        if match:
            text = re.sub(r"\D", ".", match[1], flags=re.ASCII)
    if match:
        stability = match[index]
        if stability:
            if stability == "stable":
                return text
            number = match[index + 1]
            text += "-" + _EXPAND.get(stability.lower(), stability.lower()) + (number.lstrip(".-") if number else "")
        if match[index + 2]:
            text += "-dev"
        return text
    match = _DEV_SUFFIX.search(text)
    if match:
        normalized = _normalize_branch(match[1])
        if "dev-" not in normalized:
            return normalized
    raise InvalidVersion(SCHEME, version, "not a Composer version")


# --- PHP version_compare -------------------------------------------------------------------------------------

_SPECIAL_FORMS = (
    ("dev", 0),
    ("alpha", 1),
    ("a", 1),
    ("beta", 2),
    ("b", 2),
    ("RC", 3),
    ("rc", 3),
    ("#", 4),
    ("pl", 5),
    ("p", 5),
)
_NUMBER_FORM = "#N#"


def _special_form_order(form: str) -> int:
    for name, order in _SPECIAL_FORMS:
        if form.startswith(name):
            return order
    return -1


def canonicalize(version: str) -> str:
    """PHP's ``php_canonicalize_version``: ``-_+`` and other non-alphanumerics become ``.``, and a ``.`` is put
    between letters and digits (``1.0rc1`` -> ``1.0.rc.1``)."""
    if not version:
        return version
    out = [version[0]]
    previous = version[0]
    for c in version[1:]:
        last = out[-1]
        prev_digit = previous.isdigit() and previous.isascii()
        cur_digit = c.isdigit() and c.isascii()
        prev_other = not prev_digit and previous != "."
        cur_other = not cur_digit and c != "."
        if c in "-_+":
            if last != ".":
                out.append(".")
        elif (prev_other and cur_digit) or (prev_digit and cur_other):
            if last != ".":
                out.append(".")
            out.append(c)
        elif not (c.isascii() and c.isalnum()):
            if last != ".":
                out.append(".")
        else:
            out.append(c)
        previous = c
    return "".join(out)


Token = tuple[str, bool, int, int]
"""(text, starts with a digit, its ``strtol`` value, its special-form order: that of ``#`` for numbers)."""


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _tokens(version: str) -> tuple[Token, ...]:
    out: list[Token] = []
    for text in (version if version[0] == "#" else canonicalize(version)).split("."):
        digit = "0" <= text[:1] <= "9"
        out.append((text, digit, _strtol(text) if digit else 0, _special_form_order(_NUMBER_FORM if digit else text)))
    return tuple(out)


def _strtol(text: str) -> int:
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    key = numeric_key(text[:end])
    return _LONG_MAX if key[0] > 19 or int(key[1] or "0") > _LONG_MAX else int(key[1] or "0")


def php_version_compare(a: str, b: str) -> int:
    """PHP's ``version_compare($a, $b)`` without operator: -1, 0 or 1 (a transcription of its C loop)."""
    if not a or not b:
        return (not b) - (not a)
    left, right = _tokens(a), _tokens(b)
    i = j = 0
    more_left = more_right = True
    # The C loop runs while neither pointer is at the end of its string and both had a following dot.
    while more_left and more_right and not (i == len(left) - 1 and not left[i][0]):
        if j == len(right) - 1 and not right[j][0]:
            break
        more_left, more_right = i < len(left) - 1, j < len(right) - 1
        _, x_digit, x_number, x_order = left[i]
        _, y_digit, y_number, y_order = right[j]
        if x_digit and y_digit:
            compare = (x_number > y_number) - (x_number < y_number)
        else:  # names, or a name against a number (which ranks as the special form "#")
            compare = (x_order > y_order) - (x_order < y_order)
        if compare:
            return compare
        if more_left:
            i += 1
        if more_right:
            j += 1
    if more_left:
        if left[i][1]:
            return 1
        return php_version_compare(".".join(t[0] for t in left[i:]), _NUMBER_FORM)
    if more_right:
        if right[j][1]:
            return -1
        return php_version_compare(_NUMBER_FORM, ".".join(t[0] for t in right[j:]))
    return 0


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def parse(version: str) -> str:
    """The normalised form of ``version``; raises :class:`InvalidVersion` for invalid strings and branches."""
    normalized = normalize(version)
    if normalized.startswith("dev-"):
        raise InvalidVersion(SCHEME, version, "a branch name, not a version")
    return normalized


def compare(a: str, b: str) -> int:
    """Compare two Composer versions: -1, 0 or 1."""
    return php_version_compare(parse(a), parse(b))
