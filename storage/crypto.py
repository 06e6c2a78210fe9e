"""Encryption of personal data at rest: phone numbers, chat ids, reporter names, personal answers.

A value is stored twice: encrypted (AES-256-GCM, so we can still send messages to it) and, where
it must be found again, as a keyed hash (HMAC-SHA256, so a contact can be found by its phone
number without the number being stored in clear). Both sub-keys are derived from one 32-byte
data key with HKDF, so that the encryption key never doubles as the hashing key.

Key rotation: a ``DataCipher`` holds the current key (``LAPOR_DATA_KEY``), which encrypts and
hashes everything new, and any previous keys (``LAPOR_DATA_KEY_PREVIOUS``), which still decrypt
and still find what they wrote. A blob names the key that made it:
``0x01 || key id (4 bytes) || nonce (12) || ciphertext+tag``. Blobs written before key ids
existed (``nonce || ciphertext+tag``) are still read, by trying each key.

Inside JSON (a conversation's answers), an encrypted value is *sealed*: ``{"$enc": "<base64>"}``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_SIZE = 4
FORMAT = b"\x01"  # the first byte of a blob that names its key
HEADER_SIZE = len(FORMAT) + KEY_ID_SIZE


def _hkdf(material: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=info).derive(material)


class WrongDataKey(ValueError):
    """The data key cannot read this database (or this value): the message names LAPOR_DATA_KEY."""


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: bytes
    aead: AESGCM
    mac_key: bytes

    @classmethod
    def derive(cls, key: bytes) -> _Key:
        if len(key) != KEY_SIZE:
            raise ValueError(f"DataCipher needs a {KEY_SIZE}-byte key, got {len(key)} bytes")
        return cls(key_id=_hkdf(key, b"lapor-intake/key-id/v1")[:KEY_ID_SIZE],
                   aead=AESGCM(_hkdf(key, b"lapor-intake/encrypt/v1")),
                   mac_key=_hkdf(key, b"lapor-intake/lookup-hash/v1"))


class DataCipher:
    """Encrypts, decrypts and hashes personal data with the current key; reads with any key.

    Thread-safe and immutable. A key different from the one a database was written with can
    neither decrypt its values nor find its contacts: ``storage.keys.check_data_key`` refuses to
    start with one.
    """

    __slots__ = ("_keys", "_by_id")

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()):
        self._keys = tuple(_Key.derive(k) for k in (key, *previous))
        self._by_id = {k.key_id: k for k in reversed(self._keys)}

    @classmethod
    def from_secret(cls, secret: str, previous: Sequence[str] = ()) -> DataCipher:
        """Derive the data keys from strings such as ``LAPOR_DATA_KEY`` (HKDF-SHA256); the
        ``previous`` ones only read.

        HKDF does not slow down guessing: the secret must be random (e.g. 32+ random characters),
        not a password.
        """
        if not secret:
            raise ValueError("the data key secret is empty")
        return cls(_derive_secret(secret), [_derive_secret(s) for s in previous if s])

    @property
    def key_id(self) -> str:
        """The current key's id, 8 hex characters (derived from the key; reveals nothing of it)."""
        return self._keys[0].key_id.hex()

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key's id, the current one first."""
        return tuple(k.key_id.hex() for k in self._keys)

    def lookup_hash(self, value: str) -> str:
        """Deterministic keyed hash of ``value`` with the current key: 64 lowercase hex characters."""
        return _mac(self._keys[0], value)

    def lookup_hashes(self, value: str) -> tuple[str, ...]:
        """The hash of ``value`` under every key, the current one first (to find rows that an
        earlier key wrote, before ``lapor keys rotate`` has re-hashed them)."""
        return tuple(_mac(k, value) for k in self._keys)

    def encrypt(self, value: str) -> bytes:
        """AES-256-GCM with the current key and a random 12-byte nonce; the blob names the key."""
        key = self._keys[0]
        nonce = secrets.token_bytes(NONCE_SIZE)
        return FORMAT + key.key_id + nonce + key.aead.encrypt(nonce, value.encode("utf-8"), None)

    def decrypt(self, blob: bytes) -> str:
        """The value ``encrypt`` was given, with whichever of our keys made it; WrongDataKey when
        none of them did, or the blob has been altered."""
        blob = bytes(blob)
        if len(blob) < NONCE_SIZE + TAG_SIZE:
            raise WrongDataKey("cannot decrypt: the value is too short to be a DataCipher blob")
        if blob[:1] == FORMAT and (key := self._by_id.get(blob[1:HEADER_SIZE])) is not None:
            plain = _open(key, blob[HEADER_SIZE:])
            if plain is not None:
                return plain
        for key in self._keys:  # a blob from before key ids (or a header that only looks like one)
            plain = _open(key, blob)
            if plain is not None:
                return plain
        raise WrongDataKey("cannot decrypt: the value was encrypted with another LAPOR_DATA_KEY, or is corrupted")

    def is_current(self, blob: bytes) -> bool:
        """Whether ``blob`` is already encrypted with the current key (``lapor keys rotate`` skips it)."""
        blob = bytes(blob)
        return blob[:1] == FORMAT and blob[1:HEADER_SIZE] == self._keys[0].key_id


def _derive_secret(secret: str) -> bytes:
    return _hkdf(secret.encode("utf-8"), b"lapor-intake/data-key/v1", salt=b"lapor-intake")


def _mac(key: _Key, value: str) -> str:
    return hmac.new(key.mac_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def _open(key: _Key, sealed: bytes) -> str | None:
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        return None
    try:
        return key.aead.decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], None).decode("utf-8")
    except InvalidTag:
        return None


SEALED = "$enc"


def seal(cipher: DataCipher, value: str) -> dict[str, str]:
    """``value`` encrypted, as a JSON value: ``{"$enc": "<base64 blob>"}``."""
    return {SEALED: base64.b64encode(cipher.encrypt(value)).decode("ascii")}


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def sealed_blob(value: Any) -> bytes:
    """The blob inside a sealed JSON value (ValueError if it is not one)."""
    if not is_sealed(value):
        raise ValueError("not a sealed value")
    return base64.b64decode(value[SEALED], validate=True)


def unseal(cipher: DataCipher, value: Any) -> str:
    """The text inside a sealed JSON value; WrongDataKey when no key of ours made it."""
    try:
        return cipher.decrypt(sealed_blob(value))
    except (ValueError, TypeError) as exc:
        if isinstance(exc, WrongDataKey):
            raise
        raise WrongDataKey(f"cannot unseal a value: {exc}") from None
