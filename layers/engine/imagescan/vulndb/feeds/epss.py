"""FIRST EPSS scores CSV (https://epss.cyentia.com/epss_scores-current.csv.gz): an optional comment line
``#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z``, the header ``cve,epss,percentile``, then one
row per CVE."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator

from imagescan.vulndb.records import CVE_ID, EpssRow, FeedVersion, Item, Skip

FORMAT = "epss"
DESCRIPTION = "EPSS CSV: '#model_version:…,score_date:…' then 'cve,epss,percentile'"


def _first_lines(text: str) -> list[str]:
    return [line.strip().lower() for line in text.lstrip("\ufeff").splitlines()[:2]]


def sniff(text: str) -> bool:
    lines = _first_lines(text)
    if not lines:
        return False
    if lines[0].startswith("#model_version") or lines[0].startswith("#score_date"):
        return len(lines) > 1 and lines[1].replace(" ", "").startswith("cve,epss")
    return lines[0].replace(" ", "").startswith("cve,epss")


def _score(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else None


def read(text: str) -> Iterator[Item]:
    stream = io.StringIO(text.lstrip("\ufeff"))
    model_version = score_date = None
    line = stream.readline()
    if line.startswith("#"):
        for part in line[1:].strip().split(","):
            key, _, value = part.partition(":")
            if key.strip() == "model_version":
                model_version = value.strip() or None
            elif key.strip() == "score_date":
                score_date = value.strip()[:10] or None
        line = stream.readline()
    header = [col.strip().lower() for col in line.split(",")]
    if "cve" not in header or "epss" not in header:
        yield Skip("EPSS header has no cve,epss columns")
        return
    if model_version or score_date:
        yield FeedVersion(",".join(part for part in (model_version, score_date) if part))
    cve_col, epss_col = header.index("cve"), header.index("epss")
    pct_col = header.index("percentile") if "percentile" in header else None
    for number, row in enumerate(csv.reader(stream), start=3):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            yield Skip(f"EPSS line {number}: {len(row)} columns, expected {len(header)}")
            continue
        cve = row[cve_col].strip()
        score = _score(row[epss_col].strip())
        if not CVE_ID.match(cve) or score is None:
            yield Skip(f"EPSS line {number}: not a CVE id and a score in [0, 1]")
            continue
        percentile = _score(row[pct_col].strip()) if pct_col is not None else None
        yield EpssRow(cve=cve, score=score, percentile=percentile, score_date=score_date, model_version=model_version)
