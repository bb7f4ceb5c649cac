"""License strings → CycloneDX ``licenses`` items: the same verdict as cyclonedx-python-lib's
``LicenseFactory.make_from_string`` (SPDX id, SPDX expression, or name), without loading license-expression for
strings that cannot be expressions."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.sbom import licenses
from imagescan.sbom.licenses import license_entry
from tests.sbom.library_oracle import library_license

EXAMPLES = [
    ("MIT", {"license": {"id": "MIT"}}),
    ("apache-2.0", {"license": {"id": "Apache-2.0"}}),  # any case: SPDX's spelling
    ("Ruby", {"license": {"id": "Ruby"}}),
    ("MIT-STK", {"license": {"id": "MIT-STK"}}),  # an SPDX id license-expression does not know
    ("MPL-2.0 AND MIT", {"expression": "MPL-2.0 AND MIT"}),
    ("mit or apache-2.0", {"expression": "mit or apache-2.0"}),
    ("(MIT OR GPL-2.0+) AND BSD-3-Clause", {"expression": "(MIT OR GPL-2.0+) AND BSD-3-Clause"}),
    ("GPL-2.0-or-later WITH Classpath-exception-2.0", {"expression": "GPL-2.0-or-later WITH Classpath-exception-2.0"}),
    ("GPL", {"expression": "GPL"}),  # an alias in license-expression's index
    ("GPL 2.0", {"expression": "GPL 2.0"}),  # an alias with a space
    ("MIT WITH Apache-2.0", {"license": {"name": "MIT WITH Apache-2.0"}}),  # strict: WITH needs an exception
    ("MIT Apache-2.0", {"license": {"name": "MIT Apache-2.0"}}),
    ("MIT AND", {"license": {"name": "MIT AND"}}),
    ("Apache 2.0", {"license": {"name": "Apache 2.0"}}),
    ("Ruby, BSD-2-Clause", {"license": {"name": "Ruby, BSD-2-Clause"}}),
    ("GPLv2+ and LGPLv2+ with exceptions", {"license": {"name": "GPLv2+ and LGPLv2+ with exceptions"}}),
    ("Python Software Foundation License", {"license": {"name": "Python Software Foundation License"}}),
]


@pytest.mark.parametrize(("value", "expected"), EXAMPLES)
def test_each_kind_of_license(value: str, expected: dict[str, object]) -> None:
    assert license_entry(value) == expected
    assert library_license(value) == expected


INDEX = licenses._expression_index()
assert INDEX is not None
SPDX_IDS = sorted((licenses._spdx_ids() or {}).values())
WORDS = sorted(INDEX.words)
LICENSE_KEYS = sorted(key for key, exception in INDEX.exception.items() if not exception)
EXCEPTION_KEYS = sorted(key for key, exception in INDEX.exception.items() if exception)
TOKENS = st.one_of(
    st.sampled_from(SPDX_IDS), st.sampled_from(WORDS), st.sampled_from(["AND", "or", "With", "(", ")", "+"]),
    st.sampled_from(["Apache", "2.0", "BSD", "LGPL", "Ruby,", "MIT/X11", "v2", "%", "Public Domain", "-", "GPL"]),
    st.text(min_size=1, max_size=6),
)


def _case(text: str, upper: bool) -> str:
    return text.upper() if upper else text


@st.composite
def license_strings(draw: st.DrawFn) -> str:
    """Any sequence of license words, operators, parentheses and junk."""
    tokens = draw(st.lists(st.tuples(TOKENS, st.booleans()), min_size=1, max_size=6))
    separators = draw(st.lists(st.sampled_from([" ", "", "  ", "\t", " ( ", ") "]), min_size=len(tokens),
                               max_size=len(tokens)))
    return "".join(sep + _case(token, upper) for (token, upper), sep in zip(tokens, separators, strict=True))


def _expression(draw: st.DrawFn, depth: int) -> list[str]:
    if depth > 0 and draw(st.booleans()):
        left, right = _expression(draw, depth - 1), _expression(draw, depth - 1)
        return ["(", *left, draw(st.sampled_from(["AND", "OR", "and", "Or"])), *right, ")"]
    term = [draw(st.sampled_from(LICENSE_KEYS))]
    if draw(st.integers(0, 3)) == 0:
        term += ["WITH", draw(st.sampled_from(EXCEPTION_KEYS))]
    return term


@st.composite
def expressions(draw: st.DrawFn) -> str:
    """Well-formed expressions of known keys, some then broken (a token dropped, repeated, swapped or added)."""
    tokens = _expression(draw, draw(st.integers(0, 3)))
    if tokens[0] == "(" and draw(st.booleans()):
        tokens = tokens[1:-1]
    mutation = draw(st.integers(0, 6))
    at = draw(st.integers(0, len(tokens) - 1))
    if mutation == 1:
        del tokens[at]
    elif mutation == 2:
        tokens.insert(at, tokens[at])
    elif mutation == 3:
        tokens.insert(at, draw(st.sampled_from(["(", ")", "WITH", "AND", "GPL 2.0", "2.0", "+", *EXCEPTION_KEYS])))
    elif mutation == 4:
        tokens[at] = draw(st.sampled_from(LICENSE_KEYS + EXCEPTION_KEYS))
    text = " ".join(_case(token, draw(st.booleans())) for token in tokens)
    return text if draw(st.booleans()) else text.replace(" ( ", " (").replace(" )", ")")


@settings(max_examples=400, deadline=None)
@given(license_strings())
def test_same_verdict_as_the_library(value: str) -> None:
    assert license_entry(value) == library_license(value)


@settings(max_examples=400, deadline=None)
@given(expressions())
def test_same_verdict_as_the_library_on_expressions(value: str) -> None:
    assert license_entry(value) == library_license(value)


@pytest.fixture
def without_data_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(licenses, "_package_file", lambda package, *parts: None)
    for cached in (licenses._spdx_ids, licenses._expression_index, licenses.is_expression):
        cached.cache_clear()
    yield
    monkeypatch.undo()
    for cached in (licenses._spdx_ids, licenses._expression_index, licenses.is_expression):
        cached.cache_clear()


@pytest.mark.usefixtures("without_data_files")
@pytest.mark.parametrize(("value", "expected"), EXAMPLES)
def test_the_library_decides_when_its_data_files_moved(value: str, expected: dict[str, object]) -> None:
    assert license_entry(value) == expected


def test_common_licenses_do_not_load_license_expression() -> None:
    """The costly library stays unloaded for ids, names with a word it does not know, and plain expressions."""
    values = ["MIT", "Apache 2.0", "GPLv2+ and BSD", "Ruby, MIT", "BSD-like", "MPL-2.0 AND MIT",
              "(MIT OR Apache-2.0) AND BSD-3-Clause", "GPL-2.0-or-later WITH Classpath-exception-2.0"]
    code = ("import json, sys; from imagescan.sbom.licenses import license_entry; "
            f"out = [license_entry(v) for v in {values!r}]; "
            "print(json.dumps([out, 'license_expression' in sys.modules, 'cyclonedx.model' in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    entries, loaded, model = json.loads(result.stdout)
    assert entries == [library_license(value) for value in values]
    assert [next(iter(entry)) for entry in entries] == ["license"] * 5 + ["expression"] * 3
    assert (loaded, model) == (False, False)


def test_unsettled_strings_go_to_the_library() -> None:
    code = ("import json, sys; from imagescan.sbom.licenses import license_entry; "
            "out = [license_entry(v) for v in ('GPL 2.0', 'MIT OR OR MIT')]; "
            "print(json.dumps([out, 'license_expression' in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [[{"expression": "GPL 2.0"}, {"license": {"name": "MIT OR OR MIT"}}], True]


def test_deep_nesting_is_no_problem() -> None:
    value = "(" * 5000 + "MIT" + ")" * 5000
    assert license_entry(value) == library_license(value) == {"expression": value}
