"""Encryption of personal data at rest: phone numbers, chat ids and reporter names.

A value is stored twice: encrypted (AES-256-GCM, so we can still send messages to it) and as a
keyed hash (HMAC-SHA256, so a contact can be found by its phone number without the number being
stored in clear). Both sub-keys are derived from one 32-byte data key with HKDF, so that the
encryption key never doubles as the hashing key.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def _hkdf(material: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(material)


class DataCipher:
    """Encrypts, decrypts and hashes personal data with one data key.

    The same key (or secret) must be used for the life of a database: a different one can neither
    decrypt the stored values nor find existing contacts by their lookup hash.
    """

    __slots__ = ("_aead", "_mac_key")

    def __init__(self, key: bytes):
        if len(key) != KEY_SIZE:
            raise ValueError(f"DataCipher needs a {KEY_SIZE}-byte key, got {len(key)} bytes")
        self._aead = AESGCM(_hkdf(key, b"lapor-intake/encrypt/v1"))
        self._mac_key = _hkdf(key, b"lapor-intake/lookup-hash/v1")

    @classmethod
    def from_secret(cls, secret: str) -> DataCipher:
        """Derive the data key from a string such as ``LAPOR_DATA_KEY`` (HKDF-SHA256).

        HKDF does not slow down guessing: the secret must be random (e.g. 32+ random characters),
        not a password.
        """
        if not secret:
            raise ValueError("the data key secret is empty")
        return cls(_hkdf(secret.encode("utf-8"), b"lapor-intake/data-key/v1", salt=b"lapor-intake"))

    def lookup_hash(self, value: str) -> str:
        """Deterministic keyed hash of ``value``: 64 lowercase hex characters (HMAC-SHA256)."""
        return hmac.new(self._mac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> bytes:
        """AES-256-GCM with a random 12-byte nonce; returns nonce || ciphertext+tag."""
        nonce = secrets.token_bytes(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), None)

    def decrypt(self, blob: bytes) -> str:
        """The value ``encrypt`` was given; ValueError when the blob was made with another key
        or has been altered."""
        blob = bytes(blob)
        if len(blob) < NONCE_SIZE + TAG_SIZE:
            raise ValueError("cannot decrypt: the value is too short to be a DataCipher blob")
        try:
            plain = self._aead.decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], None)
        except InvalidTag:
            raise ValueError("cannot decrypt: wrong data key or corrupted value") from None
        return plain.decode("utf-8")
