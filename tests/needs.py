"""One rule for tests whose tool or data is absent: skip on a developer's machine, fail under CI (``CI=true``) or
with ``IMAGESCAN_REQUIRE_REFERENCES=1``, so that a missing install step can never pass silently."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str) -> NoReturn:
    if os.environ.get("CI") == "true" or os.environ.get("IMAGESCAN_REQUIRE_REFERENCES") == "1":
        pytest.fail(f"missing: {what} (scripts/setup installs the tools; the shared data lies beside the repo)")
    pytest.skip(f"missing: {what}")
