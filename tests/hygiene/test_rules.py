from __future__ import annotations

import re
from pathlib import Path

import pytest

from imagescan.hygiene import docs
from imagescan.hygiene.rules import CATEGORIES, RULES, RULES_BY_ID

PACKAGE = Path(docs.__file__).resolve().parent
README = Path(__file__).resolve().parents[2] / "README.md"


def test_catalogue_is_well_formed() -> None:
    assert len(RULES_BY_ID) == len(RULES)
    for r in RULES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+", r.id), r.id
        assert r.category in CATEGORIES
        assert r.kind in ("misconfiguration", "unwanted-software", "end-of-life", "scan-incomplete")
        assert r.title and r.rationale.endswith((".", ")")) and r.remediation.endswith((".", ")"))


def test_every_rule_is_reported_by_some_check() -> None:
    source = "\n".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name not in ("rules.py", "docs.py"))
    unused = [r.id for r in RULES if f'"{r.id}"' not in source]
    assert unused == []


def test_readme_rule_section_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert docs.START in text and docs.END in text, "README has no rule section: run scripts/rules-doc"
    assert docs.updated(text) == text, "the README's rule catalogue is stale: run scripts/rules-doc"
    for r in RULES:
        assert f"| `{r.id}` | {r.severity.value} |" in text


def test_rules_doc_updates_only_its_section(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Project\n\nintro\n")
    assert docs.main([str(readme), "--check"]) == 1
    assert docs.main([str(readme)]) == 0
    first = readme.read_text()
    assert first.startswith("# Project\n\nintro\n\n" + docs.START) and first.rstrip().endswith(docs.END)
    assert docs.main([str(readme), "--check"]) == 0
    readme.write_text(first.replace("| `tool-shell` |", "| `tool-sh` |") + "\n## After\n\nkept\n")
    assert docs.main([str(readme), "--check"]) == 1
    assert docs.main([str(readme)]) == 0
    assert readme.read_text() == first + "\n## After\n\nkept\n"


@pytest.mark.parametrize("text", ["a | b", "`curl | sh`"])
def test_table_cells_escape_pipes(text: str) -> None:
    assert "|" not in docs._cell(text).replace("\\|", "")
