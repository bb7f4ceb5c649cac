"""The content address of a layer result: the layer's diff_id plus every analyzer's version plus the options.

Bumping one cataloger's version re-analyses the layers it reads, and nothing else is invalidated by a release
(Trivy's ``CalcKey``, claircore's versioned scanners).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from imagescan.models import LAYER_RESULT_SCHEMA


def layer_cache_key(diff_id: str, analyzers: Mapping[str, int], options: Mapping[str, object]) -> str:
    payload = {
        "schema": LAYER_RESULT_SCHEMA,
        "diff_id": diff_id,
        "analyzers": dict(sorted(analyzers.items())),
        "options": dict(sorted(options.items())),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + hashlib.sha256(blob).hexdigest()
