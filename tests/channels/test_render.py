"""Per-channel rendering: parts that fit, words intact, SMS kept in GSM-7 where it can be."""
from __future__ import annotations

from channels.render import render_parts, split_length
from channels.sms import MAX_SEGMENTS as SMS_MAX_SEGMENTS
from channels.sms import sms_size


def test_sms_typography_stays_gsm7() -> None:
    [part] = render_parts("sms", "\u201cJalan rusak\u201d \u2013 sejak Jan\u2026")
    assert part == '"Jalan rusak" - sejak Jan...'
    assert sms_size(part).encoding == "GSM-7"


def test_long_sms_is_split_into_concatenated_parts_between_words() -> None:
    text = " ".join(f"kata{i}" for i in range(300))
    parts = render_parts("sms", text)
    assert len(parts) > 1 and all(sms_size(p).segments <= SMS_MAX_SEGMENTS for p in parts)
    assert " ".join(parts) == text


def test_telegram_and_whatsapp_limits() -> None:
    text = "kata " * 2000
    assert all(len(p) <= 4096 for p in render_parts("telegram", text))
    assert all(len(p) <= 1600 for p in render_parts("whatsapp", text))
    assert render_parts("terminal", "x" * 9000) == ["x" * 9000]


def test_split_length_cuts_a_giant_word_only_when_it_must() -> None:
    assert split_length("a" * 10, 4) == ["aaaa", "aaaa", "aa"]
    assert split_length("ab cd\nef", 5) == ["ab cd", "ef"]
