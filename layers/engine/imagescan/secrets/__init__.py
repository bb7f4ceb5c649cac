"""Secret detection: credentials in image files (every layer, deleted files too), the image config and its history.

- :mod:`.rules`: the rule set (stable IDs, titles, severities, prefilter keywords, value checks).
- :mod:`.scanner`: scans bytes with a keyword prefilter, then the rules whose keywords occur.
- :mod:`.masking`: masked previews and fingerprints; the clear value never leaves the scanner.
- :mod:`.cataloger`: the per-file scanner the layer walker runs (``secrets``).
- :mod:`.check`: the image check that turns per-layer results and config scans into ``secret`` findings.

This package's ``__init__`` imports nothing: the check imports :mod:`imagescan.scan`, which imports the cataloger
registry, which imports :mod:`.cataloger`.
"""
