"""storage.crypto: AES-GCM at rest, keyed look-up hashes, and reading with previous keys."""
from __future__ import annotations

import re
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import DataCipher, WrongDataKey, _hkdf

KEY = bytes(range(32))
OLD_KEY = bytes(range(1, 33))


@given(st.text())
def test_encrypt_then_decrypt_gives_the_value_back(value: str) -> None:
    cipher = DataCipher(KEY)
    assert cipher.decrypt(cipher.encrypt(value)) == value


def test_each_encryption_uses_a_fresh_nonce() -> None:
    cipher = DataCipher(KEY)
    one, two = cipher.encrypt("+6281234567890"), cipher.encrypt("+6281234567890")
    assert one != two and one[5:17] != two[5:17]
    assert len(one) == 1 + 4 + 12 + len("+6281234567890") + 16
    assert b"6281234567890" not in one


def test_a_blob_names_the_key_that_made_it() -> None:
    cipher = DataCipher(KEY)
    blob = cipher.encrypt("Budi")
    assert blob[:1] == b"\x01" and blob[1:5].hex() == cipher.key_id
    assert re.fullmatch(r"[0-9a-f]{8}", cipher.key_id) and cipher.key_id != DataCipher(OLD_KEY).key_id
    assert cipher.is_current(blob) and not DataCipher(OLD_KEY).is_current(blob)


def test_a_tampered_or_foreign_blob_is_refused() -> None:
    cipher = DataCipher(KEY)
    blob = bytearray(cipher.encrypt("Budi Santoso"))
    blob[-1] ^= 1
    with pytest.raises(WrongDataKey, match="another LAPOR_DATA_KEY, or is corrupted"):
        cipher.decrypt(bytes(blob))
    with pytest.raises(WrongDataKey, match="another LAPOR_DATA_KEY"):
        DataCipher(bytes(32)).decrypt(cipher.encrypt("Budi Santoso"))
    with pytest.raises(ValueError, match="too short"):
        cipher.decrypt(b"short")


def test_previous_keys_still_read_and_find_what_they_wrote() -> None:
    old = DataCipher(OLD_KEY)
    rotated = DataCipher(KEY, previous=[OLD_KEY])
    written = old.encrypt("+6281234567890")
    assert rotated.decrypt(written) == "+6281234567890"
    assert not rotated.is_current(written)
    assert rotated.key_ids == (DataCipher(KEY).key_id, old.key_id)
    assert rotated.lookup_hash("x") == DataCipher(KEY).lookup_hash("x")
    assert rotated.lookup_hashes("x") == (DataCipher(KEY).lookup_hash("x"), old.lookup_hash("x"))
    new_blob = rotated.encrypt("y")
    assert rotated.is_current(new_blob) and DataCipher(KEY).decrypt(new_blob) == "y"
    with pytest.raises(WrongDataKey):
        old.decrypt(new_blob)  # the old key alone cannot read what the new one wrote


def test_blobs_from_before_key_ids_are_still_read() -> None:
    """The first format was nonce || ciphertext with the same derived AES key."""
    nonce = secrets.token_bytes(12)
    legacy = nonce + AESGCM(_hkdf(OLD_KEY, b"lapor-intake/encrypt/v1")).encrypt(nonce, b"Budi", None)
    assert DataCipher(OLD_KEY).decrypt(legacy) == "Budi"
    assert DataCipher(KEY, previous=[OLD_KEY]).decrypt(legacy) == "Budi"
    assert not DataCipher(OLD_KEY).is_current(legacy)
    with pytest.raises(WrongDataKey):
        DataCipher(KEY).decrypt(legacy)


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
