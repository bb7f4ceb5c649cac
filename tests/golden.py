"""Golden-file comparison. Set IMAGESCAN_UPDATE_GOLDEN=1 to rewrite the files after a deliberate change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def assert_golden(path: Path, document: Any) -> None:
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    if os.environ.get("IMAGESCAN_UPDATE_GOLDEN") == "1" or not path.exists():
        if not path.exists() and os.environ.get("CI"):
            raise AssertionError(f"golden file {path} is missing; create it with IMAGESCAN_UPDATE_GOLDEN=1")
        path.write_text(text)
    assert json.loads(path.read_text()) == json.loads(text), f"differs from {path} (IMAGESCAN_UPDATE_GOLDEN=1)"
