"""bot.memory: the process's threads share a few malloc arenas, not one each."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from tests_support import ROOT

from bot import memory

# Eight threads allocate at once (blocks above pymalloc's 512 bytes go to malloc), then glibc's
# malloc_stats() prints one "Arena N:" section per arena on stderr.
PROBE = """
import ctypes, sys, threading
from bot.memory import limit_arenas
capped = limit_arenas() if sys.argv[1] == "capped" else False
ready = threading.Barrier(9)
def allocate():
    blocks = [bytearray(4096) for _ in range(64)]
    ready.wait()
    ready.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
ready.wait()
ctypes.CDLL(None).malloc_stats()
ready.wait()
for thread in threads:
    thread.join()
print(capped)
"""


def arenas(mode: str, **env: str) -> tuple[int, str]:
    environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env=environ)
    assert done.returncode == 0, done.stderr
    return len(re.findall(r"^Arena \d+:", done.stderr, re.MULTILINE)), done.stdout.strip()


@pytest.mark.skipif(not memory._is_glibc(), reason="malloc arenas are glibc's")
def test_threads_share_the_capped_arenas_where_they_had_one_each() -> None:
    uncapped, _ = arenas("plain")
    capped, said = arenas("capped")
    assert uncapped > memory.ARENAS  # what the cap prevents: here, an arena per thread
    assert (capped, said) == (memory.ARENAS, "True")


@pytest.mark.skipif(not memory._is_glibc(), reason="malloc arenas are glibc's")
def test_the_operators_malloc_arena_max_wins() -> None:
    assert arenas("capped", MALLOC_ARENA_MAX="3") == (3, "False")
