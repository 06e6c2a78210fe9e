"""storage.crypto: AES-GCM at rest and keyed look-up hashes."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import DataCipher

KEY = bytes(range(32))


@given(st.text())
def test_encrypt_then_decrypt_gives_the_value_back(value: str) -> None:
    cipher = DataCipher(KEY)
    assert cipher.decrypt(cipher.encrypt(value)) == value


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = DataCipher(KEY)
    one, two = cipher.encrypt("+6281234567890"), cipher.encrypt("+6281234567890")
    assert one != two and one[:12] != two[:12]
    assert len(one) == 12 + len("+6281234567890") + 16
    assert b"6281234567890" not in one


def test_a_tampered_or_foreign_blob_is_refused() -> None:
    cipher = DataCipher(KEY)
    blob = bytearray(cipher.encrypt("Budi Santoso"))
    blob[-1] ^= 1
    with pytest.raises(ValueError, match="wrong data key or corrupted"):
        cipher.decrypt(bytes(blob))
    with pytest.raises(ValueError, match="wrong data key or corrupted"):
        DataCipher(bytes(32)).decrypt(cipher.encrypt("Budi Santoso"))
    with pytest.raises(ValueError, match="too short"):
        cipher.decrypt(b"short")


def test_decrypt_accepts_memoryview_from_drivers() -> None:
    cipher = DataCipher(KEY)
    assert cipher.decrypt(memoryview(cipher.encrypt("42"))) == "42"


def test_lookup_hash_is_deterministic_keyed_hex() -> None:
    cipher = DataCipher(KEY)
    digest = cipher.lookup_hash("+6281234567890")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert cipher.lookup_hash("+6281234567890") == digest
    assert cipher.lookup_hash("+6281234567891") != digest
    assert DataCipher(bytes(32)).lookup_hash("+6281234567890") != digest


def test_from_secret_derives_a_stable_key() -> None:
    one, again, other = (DataCipher.from_secret(s) for s in ("test-data-key", "test-data-key", "another-key"))
    assert one.decrypt(again.encrypt("x")) == "x"
    assert one.lookup_hash("x") == again.lookup_hash("x") != other.lookup_hash("x")
    with pytest.raises(ValueError):
        other.decrypt(one.encrypt("x"))


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(33)])
def test_a_key_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ValueError, match="32-byte key"):
        DataCipher(key)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        DataCipher.from_secret("")
