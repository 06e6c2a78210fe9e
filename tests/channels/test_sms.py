"""GSM-7 / UCS-2 segment rules and word-safe splitting."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms import is_gsm7, non_gsm7, sms_size, split_sms


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", "GSM-7", 0, 1),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("€" * 80, "GSM-7", 160, 1),          # extension characters take two septets
    ("[" * 81, "GSM-7", 162, 2),
    ("é à ü Ñ", "GSM-7", 7, 1),            # these accents are in the GSM-7 table
    ("ê", "UCS-2", 1, 1),                  # this one is not
    ("x" * 70 + "\u201c", "UCS-2", 71, 2),  # a curly quote turns the whole message UCS-2
    ("😀" * 35, "UCS-2", 70, 1),           # emoji are surrogate pairs: two units each
    ("😀" * 36, "UCS-2", 72, 2),
])
def test_sizes(text: str, encoding: str, units: int, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_non_gsm7_lists_the_offenders_once() -> None:
    assert non_gsm7("“Halo” 😀 “lagi”") == ["“", "”", "😀"]
    assert is_gsm7("Balas 1, 2 atau 3.") and not is_gsm7("Balas 1 👍")


def test_split_never_cuts_words() -> None:
    text = " ".join(f"kata{i}" for i in range(120))
    parts = split_sms(text)
    assert all(sms_size(part).segments == 1 for part in parts)
    assert " ".join(parts) == text
    assert all(not part.startswith(" ") and not part.endswith(" ") for part in parts)


def test_split_prefers_line_breaks_and_cuts_only_giant_words() -> None:
    assert split_sms("a" * 100 + "\n" + "b" * 100) == ["a" * 100, "b" * 100]
    giant = "x" * 400
    assert "".join(split_sms(giant)) == giant


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=1200))
def test_split_keeps_every_word_and_fits(text: str) -> None:
    parts = split_sms(text, max_segments=2)
    assert all(sms_size(part).segments <= 2 for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
