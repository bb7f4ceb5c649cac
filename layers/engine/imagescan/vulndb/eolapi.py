"""endoflife.date API responses → the ``eol`` feed format the builder reads (``{product: [cycles], _meta}``).

API v1 (``/api/v1/products/NAME``): ``{"result": {"name", "aliases", "releases": [{"name", "codename",
"releaseDate", "isLts", "ltsFrom", "isEol", "eolFrom", "isEoas"?, "eoasFrom"?, "isEoes"?, "eoesFrom"?,
"isMaintained", "latest": {"name", "date"}}]}}``. A date wins over its boolean (``eolFrom`` may be in the
future while ``isEol`` is still false); without a date the boolean is kept (``true``: ended, date unknown).
The older API (``/api/NAME.json``, a bare list of ``{cycle, releaseDate, eol, latest, lts, support,
extendedSupport, ...}``) is already in the builder's shape and only needs the product name.
"""

from __future__ import annotations

from typing import Any

from imagescan.vulndb.errors import FeedError


def _date_or_flag(release: dict[str, Any], date_key: str, flag_key: str) -> str | bool | None:
    date = release.get(date_key)
    if isinstance(date, str) and date.strip():
        return date.strip()
    flag = release.get(flag_key)
    return flag if isinstance(flag, bool) else None


def _cycle(release: object, index: int, what: str) -> dict[str, Any]:
    if not isinstance(release, dict):
        raise FeedError(f"{what}: release #{index + 1} is not an object")
    name = release.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FeedError(f"{what}: release #{index + 1} has no name")
    cycle: dict[str, Any] = {
        "cycle": name.strip(),
        "releaseDate": release.get("releaseDate"),
        "eol": _date_or_flag(release, "eolFrom", "isEol"),
        "lts": _date_or_flag(release, "ltsFrom", "isLts"),
    }
    if "isEoas" in release or "eoasFrom" in release:
        cycle["eoas"] = _date_or_flag(release, "eoasFrom", "isEoas")
    if "isEoes" in release or "eoesFrom" in release:
        cycle["eoes"] = _date_or_flag(release, "eoesFrom", "isEoes")
    if isinstance(release.get("codename"), str):
        cycle["codename"] = release["codename"]
    latest = release.get("latest")
    if isinstance(latest, dict):
        if isinstance(latest.get("name"), str):
            cycle["latest"] = latest["name"]
        if isinstance(latest.get("date"), str):
            cycle["latestReleaseDate"] = latest["date"]
    for key in ("label", "isMaintained", "isDiscontinued", "discontinuedFrom"):
        if release.get(key) is not None:
            cycle[key] = release[key]
    return cycle


def convert(doc: object, product: str, what: str) -> dict[str, Any]:
    """The ``eol`` document for one API response. ``product`` names the product when the response does not
    (the older API). Raises :class:`FeedError` when ``doc`` is neither API shape or lists no release."""
    aliases: list[str] = []
    label = None
    if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
        result = doc["result"]
        name = result.get("name")
        product = name.strip().lower() if isinstance(name, str) and name.strip() else product
        raw_aliases = result.get("aliases")
        aliases = sorted({a.strip().lower() for a in raw_aliases if isinstance(a, str) and a.strip()}) \
            if isinstance(raw_aliases, list) else []
        label = result.get("label") if isinstance(result.get("label"), str) else None
        releases = result.get("releases")
        if not isinstance(releases, list):
            raise FeedError(f"{what}: endoflife.date API v1 response without a releases list")
        cycles = [_cycle(release, i, what) for i, release in enumerate(releases)]
    elif isinstance(doc, list):
        cycles = []
        for i, entry in enumerate(doc):
            if not isinstance(entry, dict) or not isinstance(entry.get("cycle"), str | int | float):
                raise FeedError(f"{what}: entry #{i + 1} is not an endoflife.date cycle")
            cycles.append({"eol": None, **entry, "cycle": str(entry["cycle"])})
    else:
        raise FeedError(f"{what}: not an endoflife.date API response (v1 product or a list of cycles)")
    if not cycles:
        raise FeedError(f"{what}: endoflife.date lists no release of {product}")
    info: dict[str, Any] = {"aliases": aliases}
    if label:
        info["title"] = label
    return {product: cycles, "_meta": {"source": "endoflife.date API", "products": {product: info}}}
