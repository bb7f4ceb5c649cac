"""Masking never leaks: for random secrets in random lines, the clear value appears in no field of any finding."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from imagescan.secrets import masking
from imagescan.secrets.scanner import scan
from tests.secrets.cases import POSITIVES
from tests.secrets.fakes import b62

CONTEXT = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\n"), max_size=80)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(POSITIVES)), st.integers(0, 2**32), CONTEXT, CONTEXT)
def test_no_field_of_a_finding_holds_the_secret(rule_id: str, seed: int, before: str, after: str) -> None:
    text, secret, path = POSITIVES[rule_id](random.Random(seed))
    data = (before + " " + text + after).encode()
    found = scan(data, path)
    assert found, f"{rule_id} not found in {data!r}"
    for match in found:
        dumped = match.raw().model_dump_json()
        assert secret not in dumped
        assert data[match.start:match.end].decode("utf-8", "replace") not in dumped


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(POSITIVES)), min_size=2, max_size=4), st.integers(0, 2**32))
def test_neighbouring_secrets_are_masked_in_each_preview(rule_ids: list[str], seed: int) -> None:
    rng = random.Random(seed)
    made = [POSITIVES[r](rng) for r in rule_ids]
    secrets = [secret for _, secret, path in made if path is None]
    line = " ; ".join(text.replace("\n", " ") for text, _, path in made if path is None)
    for match in scan(line.encode()):
        for secret in secrets:
            assert secret not in match.masked


@given(st.integers(0, 10_000), st.integers(0, 64))
def test_visible_prefix_is_bounded(length: int, reveal: int) -> None:
    shown = masking.visible(length, reveal)
    assert 0 <= shown <= reveal
    if reveal <= 4:
        assert shown <= length // 4
    else:
        assert length - shown >= 16 or shown == 0


def test_mask_shape() -> None:
    assert masking.mask(b"ghp_abcdefghijklmnopqrstuvwxyz0123456789", 4) == "ghp_*****"
    assert masking.mask(b"abc", 4) == "*****"
    run = b62(random.Random(1), 24)
    assert masking.scrub(f"token={run} end") == f"token={run[:4]}***** end"
    assert masking.scrub("token=" + "Zx9" * 10) == "token=" + "Zx9" * 10  # long but repetitive: not a secret
    assert masking.scrub("path=/usr/local/bin/python") == "path=/usr/local/bin/python"


def test_a_value_no_rule_accepted_is_masked_in_a_neighbours_preview() -> None:
    """``gEZbjb8Z8Z8P!0`` is too plain for the generic rule (entropy under its threshold), but it is a password's
    value: the preview of the secret next to it must not show it, even where the context window cut its key off."""
    line = b'DB_PASSWORD=gEZbjb8Z8Z8P!0  ; adobe_secret_value = "609ae73362772afc10849f3105ff57c3"\n'
    (match,) = scan(line)
    assert match.rule.id == "adobe-client-id"
    assert "gEZb" not in match.masked and "*****" in match.masked
    assert match.masked.endswith('adobe_secret_value = "60*****"')
