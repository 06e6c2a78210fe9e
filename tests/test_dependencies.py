"""pyproject.toml and requirements.lock: every dependency has a tested upper bound, and the lock
that `make install` uses pins, with hashes, a version each bound admits."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(text) for text in (*project["dependencies"], *extras["test"], *extras["profile"])]


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, how many hashes), as pip-compile wrote them."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    found = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        if match := re.match(r"([A-Za-z0-9._-]+)==([^\s\\]+)", block):
            found[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return found


def test_every_dependency_has_an_upper_bound() -> None:
    unbounded = [str(r) for r in declared() if not any(spec.operator in ("<", "<=", "~=", "==") for spec in r.specifier)]
    assert unbounded == []


def test_the_lock_pins_each_dependency_within_its_bounds_with_hashes() -> None:
    pins = locked()
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r $(LOCK)" in make and "--no-deps -e ." in make  # what `make install` does
    for requirement in declared():
        if requirement.name == "py-spy":  # the profile extra is not locked (a tool, installed by hand)
            continue
        version, hashes = pins[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version), f"{requirement} does not admit the locked {version}"
        assert hashes >= 1, f"{requirement.name} is locked without a hash"
    assert all(hashes >= 1 for _, hashes in pins.values())
