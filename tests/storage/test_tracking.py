"""storage.tracking: LAP-XXXXXX numbers, and reading them back as citizens type them."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.tracking import ALPHABET, normalize_tracking_number, random_tracking_number

CANONICAL = re.compile(r"LAP-[0-9A-HJKMNP-TV-Z]{6}")


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_random_numbers_have_the_format_and_use_the_whole_alphabet() -> None:
    numbers = [random_tracking_number() for _ in range(5000)]
    assert all(CANONICAL.fullmatch(n) for n in numbers)
    assert set("".join(n[4:] for n in numbers)) == set(ALPHABET)
    # 32**6 possibilities: among 5000 draws a clash is rare (~1%), two are practically impossible.
    assert len(set(numbers)) >= len(numbers) - 1


@pytest.mark.parametrize(("typed", "canonical"), [
    ("LAP-7K3M9Q", "LAP-7K3M9Q"),
    ("lap-7k3m9q", "LAP-7K3M9Q"),
    ("7k3m9q", "LAP-7K3M9Q"),
    ("LAP 7K3M9Q", "LAP-7K3M9Q"),
    ("lap7k3m9q", "LAP-7K3M9Q"),
    ("  LAP-7K3M9Q. ", "LAP-7K3M9Q"),
    ("LAP-IL0O1A", "LAP-11001A"),
    ("lap-o1ilo0", "LAP-011100"),
])
def test_normalisation(typed: str, canonical: str) -> None:
    assert normalize_tracking_number(typed) == canonical


@pytest.mark.parametrize("garbage", [
    "", "   ", "LAP-", "LAP-7K3M9", "LAP-7K3M9QQ", "LAP-7K3M9U", "LAP-7K3-M9Q", "XYZ-7K3M9Q", "STATUS LAP-7K3M9Q",
    "LAP-7K3M9!", "LAP-7K3M9É", "halo apa kabar",
])
def test_garbage_is_none(garbage: str) -> None:
    assert normalize_tracking_number(garbage) is None


@given(st.text(alphabet=ALPHABET, min_size=6, max_size=6),
       st.sampled_from(["LAP-", "lap-", "LAP ", "Lap", ""]), st.booleans())
def test_any_valid_code_round_trips(code: str, prefix: str, lower: bool) -> None:
    typed = prefix + (code.lower() if lower else code)
    assert normalize_tracking_number(typed) == "LAP-" + code


@given(st.text(max_size=20))
def test_anything_else_is_none_or_canonical(text: str) -> None:
    result = normalize_tracking_number(text)
    assert result is None or CANONICAL.fullmatch(result)
