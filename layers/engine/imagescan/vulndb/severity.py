"""Severity labels (normalised to the report's CRITICAL/HIGH/MEDIUM/LOW/INFORMATIONAL) and CVSS base scores."""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}

_LABELS = {
    "critical": "CRITICAL",
    "high": "HIGH", "important": "HIGH",
    "medium": "MEDIUM", "moderate": "MEDIUM",
    "low": "LOW", "negligible": "LOW",
    "unimportant": "INFORMATIONAL", "informational": "INFORMATIONAL", "info": "INFORMATIONAL", "none": "INFORMATIONAL",
}


def normalize_label(label: object) -> str | None:
    """A vendor's word for severity → one of :data:`SEVERITIES`, or None when it says nothing (``not yet
    assigned``, ``unknown``, ``end-of-life``). Debian's ``low**`` style markers are ignored."""
    if not isinstance(label, str):
        return None
    return _LABELS.get(label.strip().rstrip("*").strip().lower())


def highest(labels: list[str | None]) -> str | None:
    known = [label for label in labels if label in RANK]
    return max(known, key=lambda label: RANK[label]) if known else None


_SCORERS: dict[str, type[CVSS2 | CVSS3 | CVSS4]] = {"CVSS_V2": CVSS2, "CVSS_V3": CVSS3, "CVSS_V4": CVSS4}


def cvss_base_score(kind: str, vector: str) -> float | None:
    """The base score of an OSV ``severity`` entry (``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4``), computed by the
    maintained ``cvss`` library (Red Hat Product Security); None when the vector is not valid for its kind."""
    scorer = _SCORERS.get(kind)
    if scorer is None or not vector.strip():
        return None
    try:
        return float(scorer(vector.strip()).base_score)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None


def label_for_score(score: float) -> str:
    """CVSS qualitative rating; 0.0 ("None") is reported as INFORMATIONAL."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return "INFORMATIONAL"
