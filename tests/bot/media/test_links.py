"""Signed, expiring /media links (bot.media.links): one file, until it expires, unchanged."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.media.links import MediaLinks

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
SHA = "ab" * 32


def parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    query = parse_qs(split.query)
    return split.path.rsplit("/", 1)[1], query["expires"][0], query["signature"][0]


def test_a_link_opens_its_file_until_it_expires() -> None:
    links = MediaLinks("secret", "https://lapor.example/", timedelta(hours=1))
    url = links.url(SHA, "image/jpeg", now=NOW)
    assert url.startswith(f"https://lapor.example/media/{SHA}.jpg?expires=")
    name, expires, signature = parts(url)
    assert links.check(name, expires, signature, now=NOW + timedelta(minutes=59)) == (SHA, "image/jpeg")
    assert links.check(name, expires, signature, now=NOW + timedelta(minutes=61)) is None


def test_any_change_or_another_key_is_refused() -> None:
    links = MediaLinks("secret", "https://lapor.example", timedelta(hours=1))
    name, expires, signature = parts(links.url(SHA, "application/pdf", now=NOW))
    assert links.check(name, expires, signature, now=NOW) == (SHA, "application/pdf")
    assert links.check("cd" * 32 + ".pdf", expires, signature, now=NOW) is None  # another file
    assert links.check(SHA + ".jpg", expires, signature, now=NOW) is None  # another type
    assert links.check(name, str(int(expires) + 3600), signature, now=NOW) is None  # a later expiry
    assert links.check(name, expires, "0" * 64, now=NOW) is None
    assert links.check(name, "", signature, now=NOW) is None
    assert links.check("../../etc/passwd", expires, signature, now=NOW) is None
    other = MediaLinks("another secret", "https://lapor.example", timedelta(hours=1))
    assert other.check(name, expires, signature, now=NOW) is None


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError, match="LAPOR_SECRET_KEY"):
        MediaLinks("", "https://lapor.example", timedelta(hours=1))
