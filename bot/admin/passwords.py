"""Admin passwords, hashed with scrypt (hashlib; no extra dependency).

The stored form is ``scrypt$n$r$p$<salt hex>$<hash hex>``, so the cost can rise later without
breaking the hashes already stored. Verification runs in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**15, 8, 1  # 32 MiB and some 50-80 ms per hash on this machine: slow to guess
MIN_LENGTH = 12


class WeakPassword(ValueError):
    """A password too short to protect an admin account."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` is the one ``stored`` was made from; False for anything malformed."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(digest)
        actual = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
