"""Recognising a feed file by its content (never by its name alone) and opening it as a stream of records.

Tried in this order: a zip of OSV records; gzip (then the content inside); JSON, classified by shape (KEV, end-of-
life, ALAS transcription, Alpine secdb, OSV record or container, Debian tracker); updateinfo XML; EPSS CSV.
A file of none of these raises :class:`UnknownFormat` naming what was tried. A file that looks like one of them but
is damaged raises :class:`FeedError`.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from imagescan.vulndb.errors import FeedError
from imagescan.vulndb.feeds import alas, alpine_secdb, debian_tracker, eol, epss, kev, osv
from imagescan.vulndb.inputs import gunzip, iter_zip_members, parse_json, read_all, read_head, zip_json_members
from imagescan.vulndb.records import Item, Skip

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_GZIP_MAGIC = b"\x1f\x8b"
TRIED = (
    "zip of OSV JSON records",
    "gzip of any of these",
    "JSON: " + "; ".join(f"{m.FORMAT} ({m.DESCRIPTION})" for m in (osv, debian_tracker, alpine_secdb, kev, eol))
    + f"; {alas.FORMAT} (ALAS JSON transcription)",
    f"XML: {alas.DESCRIPTION}",
    f"CSV: {epss.DESCRIPTION}",
)


class UnknownFormat(FeedError):
    """The file is readable but is none of the feed formats."""

    def __init__(self, what: str, found: str) -> None:
        self.found = found
        super().__init__(f"{what}: unrecognised feed format ({found}). Tried: " + " | ".join(TRIED))


@dataclass
class Detected:
    format: str
    items: Iterator[Item]
    single_record: bool = False
    """A file holding one OSV record: the builder gathers these per directory into one source."""


_JSON_FORMATS: list[tuple[str, Callable[[object], bool], Callable[[object, str], Iterator[Item]]]] = [
    (kev.FORMAT, kev.sniff, lambda obj, hint: kev.read(obj)),
    (eol.FORMAT, eol.sniff, lambda obj, hint: eol.read(obj)),
    (alas.FORMAT, alas.sniff_json, alas.read_json),
    (alpine_secdb.FORMAT, alpine_secdb.sniff, lambda obj, hint: alpine_secdb.read(obj)),
    (osv.FORMAT, osv.sniff, lambda obj, hint: osv.read(obj)),
    (debian_tracker.FORMAT, debian_tracker.sniff, lambda obj, hint: debian_tracker.read(obj)),
]


def detect_file(path: Path, hint: str | None = None) -> Detected:
    """Open ``path`` as a feed. ``hint`` (default: the file name) helps only where content cannot tell (the Amazon
    Linux release of an advisory without an ALAS2023-/ALAS2-/ALAS- id)."""
    hint = hint or path.name
    what = str(path)
    head = read_head(path)
    if head.startswith(_ZIP_MAGIC):
        return _zip(path)
    name = path.name.lower()
    if head.startswith(_GZIP_MAGIC):
        data = gunzip(read_all(path), what)
        name = name[:-3] if name.endswith(".gz") else name
        return _content(data, name, what, hint)
    if b"\x00" in head[:4096]:
        raise UnknownFormat(what, "binary content, neither zip nor gzip")
    return _content(read_all(path), name, what, hint)


def _describe(obj: object) -> str:
    if isinstance(obj, dict):
        keys = ", ".join(repr(key) for key in list(obj)[:6])
        return f"a JSON object with keys {keys}" + ("…" if len(obj) > 6 else "")
    if isinstance(obj, list):
        return f"a JSON array of {len(obj)} items"
    return f"a JSON {type(obj).__name__}"


def classify_json(obj: object, what: str, hint: str) -> Detected:
    for fmt, sniff, read in _JSON_FORMATS:
        if sniff(obj):
            return Detected(fmt, read(obj, hint), single_record=fmt == osv.FORMAT and osv.is_record(obj))
    raise UnknownFormat(what, _describe(obj))


def _content(data: bytes, name: str, what: str, hint: str) -> Detected:
    body = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    first = body[:1]
    if first in (b"{", b"["):
        try:
            obj = parse_json(data, what)
        except FeedError as exc:
            if name.endswith(".json"):
                raise
            raise UnknownFormat(what, f"starts like JSON but is not: {exc}") from exc
        return classify_json(obj, what, hint)
    if first == b"<":
        if alas.sniff_xml(body[:65536]):
            return Detected(alas.FORMAT, alas.read_xml(data, hint))
        if name.endswith(".xml"):
            raise FeedError(f"{what}: XML, but its root element is not <updates>")
        raise UnknownFormat(what, "XML or HTML without an <updates> root")
    if b"\x00" in body[:4096]:
        raise UnknownFormat(what, "binary content, neither zip nor gzip")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnknownFormat(what, f"not UTF-8 text: {exc.reason}") from exc
    if epss.sniff(text):
        return Detected(epss.FORMAT, epss.read(text))
    first_line = text.lstrip().split("\n", 1)[0][:60]
    raise UnknownFormat(what, f"text starting {first_line!r}")


def _zip(path: Path) -> Detected:
    members = zip_json_members(path)
    if not members:
        raise UnknownFormat(str(path), "a zip without .json members")
    peeked: object = None
    for member, data in iter_zip_members(path, members):
        if isinstance(data, bytes):
            try:
                peeked = parse_json(data, member)
                break
            except FeedError:
                continue
    if peeked is not None and not osv.sniff(peeked):
        raise UnknownFormat(str(path), f"a zip whose JSON members are not OSV records ({_describe(peeked)})")
    return Detected(osv.FORMAT, _zip_items(path, members))


def _zip_items(path: Path, members: list[zipfile.ZipInfo]) -> Iterator[Item]:
    for member, data in iter_zip_members(path, members):
        if isinstance(data, FeedError):
            yield Skip(str(data))
            continue
        try:
            obj = parse_json(data, f"{path.name}:{member}")
        except FeedError as exc:
            yield Skip(str(exc))
            continue
        if not osv.sniff(obj):
            yield Skip(f"{path.name}:{member}: not an OSV record")
            continue
        yield from osv.read(obj)
