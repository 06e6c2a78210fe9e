"""Admin passwords, hashed with Argon2id (argon2-cffi).

The parameters are OWASP's first recommendation for Argon2id (19 MiB, 2 passes, 1 lane): some
tens of milliseconds per check here, slow to guess, and light enough that a burst of sign-ins
does not exhaust memory. At most ``CONCURRENT_HASHES`` checks run at once per process; others
wait their turn. Hashes made before Argon2id (``scrypt$n$r$p$salt$hash``) still verify, and
``Verdict.rehash`` says to store a new hash then, as it does when the parameters change.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
CONCURRENT_HASHES = 2
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_TURNS = threading.BoundedSemaphore(CONCURRENT_HASHES)


class WeakPassword(ValueError):
    """A password too short to protect an admin account."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a password matched its hash, and whether that hash should be replaced."""

    ok: bool
    rehash: bool = False


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (WeakPassword if it is shorter than MIN_LENGTH)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_LENGTH} characters")
    with _TURNS:
        return _HASHER.hash(password)


def check_password(password: str, stored: str) -> Verdict:
    """Check ``password`` against ``stored`` (Argon2id, or an older scrypt hash) in constant
    time; never ok for a malformed hash. Costs the same work for a real hash as for
    ``dummy_hash()``, so callers can check unknown names the same way."""
    with _TURNS:
        if stored.startswith("scrypt$"):
            return Verdict(ok=_scrypt_matches(password, stored), rehash=True)
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verdict(ok=False)
        return Verdict(ok=True, rehash=_HASHER.check_needs_rehash(stored))


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` is the one ``stored`` was made from."""
    return check_password(password, stored).ok


@functools.cache
def dummy_hash() -> str:
    """A hash (of a password nobody has) to check unknown names against: the same work."""
    return hash_password("not-a-real-password-only-for-timing")


def _scrypt_matches(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = bytes.fromhex(digest)
        actual = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                maxmem=64 * 1024 * 1024, dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
