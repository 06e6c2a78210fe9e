"""The process's memory allocator: fewer glibc malloc arenas for our threaded processes.

glibc gives a thread that allocates an arena of its own, up to eight per core, and an arena
once made is never returned. Our processes run many threads (gunicorn's, delivery's send
threads) that mostly take turns under the GIL, so extra arenas only hold memory that another
arena could have reused: some 2 MB per web worker under the load benchmark (``make bench``).
``limit_arenas`` caps them, as ``MALLOC_ARENA_MAX`` would, for this process and for those it
forks (gunicorn's workers); a process it starts with exec (``lapor worker``) calls it itself.
"""
from __future__ import annotations

import ctypes
import os

__all__ = ["ARENAS", "limit_arenas"]

ARENAS = 2  # the main arena and one more: threads that allocate at the same moment share it
_M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap this process's malloc arenas at ``arenas``; call it before the process starts threads.

    Returns whether the cap is set: False where the C library is not glibc, and when
    ``MALLOC_ARENA_MAX`` is in the environment (glibc has applied the operator's value then).
    """
    if "MALLOC_ARENA_MAX" in os.environ or not _is_glibc():
        return False
    return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas))


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):  # not a name this system knows: not glibc
        return False
