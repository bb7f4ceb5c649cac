"""Masked previews of secrets. The clear value never leaves the scanner: a finding carries a preview and a
fingerprint, nothing else.

Preview: a little of the line around the secret (at most :data:`CONTEXT_BEFORE` characters before it, up to
:data:`CONTEXT_AFTER` after, ``…`` where the line was cut), the secret itself as a few leading characters then
``*****`` (a fixed mask, so the length does not show either). At most four characters of a secret show, and never
more than a quarter of it; rules whose tokens begin with a public, fixed prefix (``ghp_``, ``https://hooks.slack.com/
services/``) may show that prefix and no more, keeping at least 16 characters hidden. Other secrets on the same line
are masked the same way, and any long high-entropy run left in the context is masked too, in case it is a secret no
rule recognised.

Fingerprint: ``sha256`` hex of the secret value, **unsalted** (PEM keys: of the base64 body without line breaks, so
the same key in a PEM file, a JSON string and an environment variable has one fingerprint). Unsalted because the
point of a fingerprint is correlation: the same leaked key has the same fingerprint in every image, every scan and
every report, so one credential found in fifty images is one rotation; and a responder who holds a suspected key can
check ``printf %s "$KEY" | sha256sum`` against reports without asking the scanner. A per-installation salt would
break both. The cost is that a low-entropy value (a short dictionary password in a URL) can be guessed from its
fingerprint by trying candidates offline: reports remain sensitive documents, and the rules only fingerprint values
they judged to be credentials.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from imagescan.secrets import values

MASK = "*****"
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 16
ELLIPSIS = "…"

_RUN = re.compile(r"[A-Za-z0-9+/_\-]{20,}={0,2}")
_ASSIGNED = re.compile(
    rb"(?i)(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|private[_-]?key|credential|auth)"
    rb"[a-z0-9_.\-]{0,30}[\"']?[ \t]*(?::=|=>|=|:)[ \t]*[\"'`]?([^\s\"'`,;]{4,})")
"""A value assigned to a secret-sounding name: masked in any preview's context even when no rule took it for a
credential (too short, too plain), because a neighbouring secret's preview would otherwise show it."""
KEY_LOOKBEHIND = 100
"""How far before the context window an assignment's key may start."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PIECES = re.compile(r"[/._\-+]")

Span = tuple[int, int, int]
"""(start, end, reveal) of one secret in a text."""


def visible(length: int, reveal: int) -> int:
    """How many leading characters of a secret of ``length`` may show for a rule that allows ``reveal``."""
    if reveal <= 4:
        return max(0, min(reveal, length // 4))
    return max(0, min(reveal, length - 16))


def _text(data: bytes) -> str:
    return _CONTROL.sub(" ", data.decode("utf-8", "replace"))


def mask(value: bytes, reveal: int) -> str:
    """``ghp_*****``: the leading characters the rule allows, then the fixed mask."""
    return _text(value[:visible(len(value), reveal)]) + MASK


def _random_run(run: str) -> bool:
    """Very high entropy (base64 of random bytes), or a long piece mixing letters and digits; not a path or a
    dotted name made of words (``/usr/local/lib/python3.11/site-packages``)."""
    if values.entropy(run.encode()) >= 4.3:
        return True
    piece = max(_PIECES.split(run), key=len)
    return (len(piece) >= 16 and any(c.isdigit() for c in piece) and any(c.isalpha() for c in piece)
            and values.entropy(piece.encode()) >= 3.5)


def scrub(text: str) -> str:
    """Mask long random-looking runs in context text (a secret next to the one reported, unrecognised)."""

    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        return run[:4] + MASK if _random_run(run) else run

    return _RUN.sub(repl, text)


def preview(data: bytes, anchor: int, start: int, end: int, spans: Sequence[Span]) -> str:
    """The masked preview of the secret at ``data[start:end]`` whose match begins at ``anchor`` (a key name, a
    ``-----BEGIN`` line); ``spans`` are all the secrets found in ``data``, this one included."""
    line_start = data.rfind(b"\n", 0, anchor) + 1
    lo = max(line_start, start - CONTEXT_BEFORE)
    line_end = data.find(b"\n", end)
    if line_end < 0:
        line_end = len(data)
    hi = max(end, min(line_end, end + CONTEXT_AFTER))
    shown = [sp for sp in spans if sp[0] < hi and sp[1] > lo]
    scan_from = max(line_start, lo - KEY_LOOKBEHIND)
    for m in _ASSIGNED.finditer(data, scan_from, hi):
        s, e = m.span(1)
        if s < hi and e > lo and not any(s < se and ss < e for ss, se, _ in spans):
            shown.append((s, e, 0))
    pieces: list[str] = [ELLIPSIS] if lo > line_start else []
    pos = lo
    for s, e, reveal in sorted(shown):
        if s > pos:
            pieces.append(scrub(_text(data[pos:s])))
        if e > pos:
            pieces.append(mask(data[s:e], reveal) if s >= pos else MASK)
        pos = max(pos, e)
    if pos < hi:
        pieces.append(scrub(_text(data[pos:hi])))
    if hi < line_end:
        pieces.append(ELLIPSIS)
    return "".join(pieces).strip()
