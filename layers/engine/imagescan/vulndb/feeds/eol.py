"""End-of-life table: ``{product: [{cycle, releaseDate, eol, latest, lts?, eoas?, eoes?, codename?, ...}],
"_meta": {"products": {product: {"aliases": [...]}}}}`` (endoflife.date front matter, normalised).

``eol``, ``lts``, ``eoas`` (end of active support) and ``eoes``/``extendedSupport`` are an ISO date or a
boolean, kept as the text ``YYYY-MM-DD``, ``true`` or ``false``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from imagescan.vulndb.records import EolAliasRow, EolCycleRow, Item, Skip

FORMAT = "eol"
DESCRIPTION = "end-of-life JSON: {product: [{cycle, releaseDate, eol, ...}], _meta: {products: {…aliases}}}"
_KNOWN = {"cycle", "releaseDate", "eol", "latest", "latestReleaseDate", "lts", "eoas", "support", "eoes",
          "extendedSupport", "codename"}


def sniff(obj: object) -> bool:
    if not isinstance(obj, dict):
        return False
    lists = [value for key, value in obj.items() if key != "_meta" and isinstance(value, list) and value]
    return bool(lists) and all(isinstance(v[0], dict) and "cycle" in v[0] and "eol" in v[0] for v in lists[:5])


def _date_or_bool(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip():
        text = value.strip()[:10]
        try:
            dt.date.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"{value!r} is neither a date nor a boolean") from exc
        return text
    if value is None:
        return None
    raise ValueError(f"{value!r} is neither a date nor a boolean")


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def read(obj: object) -> Iterator[Item]:
    if not isinstance(obj, dict):
        return
    for product in sorted(key for key in obj if key != "_meta"):
        cycles = obj[product]
        if not isinstance(cycles, list):
            yield Skip(f"eol {product}: not a list of cycles")
            continue
        name = product.strip().lower()
        yield EolAliasRow(alias=name, product=name)
        for index, entry in enumerate(cycles):
            row = _cycle(name, index, entry)
            yield row
    meta = obj.get("_meta")
    products = meta.get("products") if isinstance(meta, dict) else None
    if isinstance(products, dict):
        for product in sorted(products):
            info = products[product]
            aliases = info.get("aliases") if isinstance(info, dict) else None
            for alias in sorted({a.strip().lower() for a in aliases or [] if isinstance(a, str) and a.strip()}):
                if alias != product.lower():
                    yield EolAliasRow(alias=alias, product=product.strip().lower())


def _cycle(product: str, index: int, entry: object) -> EolCycleRow | Skip:
    if not isinstance(entry, dict):
        return Skip(f"eol {product}[{index}]: not an object")
    cycle = _text(entry.get("cycle"))
    if cycle is None:
        return Skip(f"eol {product}[{index}]: no cycle")
    try:
        extra = {key: value for key, value in entry.items() if key not in _KNOWN}
        json.dumps(extra)
        return EolCycleRow(
            product=product,
            cycle=cycle,
            position=index,
            release_date=_date_or_bool(entry.get("releaseDate")),
            eol=_date_or_bool(entry.get("eol")),
            lts=_date_or_bool(entry.get("lts")),
            support=_date_or_bool(entry.get("eoas", entry.get("support"))),
            extended_support=_date_or_bool(entry.get("eoes", entry.get("extendedSupport"))),
            latest=_text(entry.get("latest")),
            latest_release_date=_date_or_bool(entry.get("latestReleaseDate")),
            codename=_text(entry.get("codename")),
            extra=extra,
        )
    except (ValueError, TypeError) as exc:
        return Skip(f"eol {product} {cycle}: {exc}")
