"""Which agency a report goes to: by its category and the region its location resolved to.

In order, the first that gives a name:
1. ``agency_rules`` of config.yaml, in file order: a rule for the category (or "*") whose
   region code is a prefix of the report's most specific code ("32" covers all of Jawa Barat);
2. the category's ``local_agency`` in the resolved region ("Pemerintah {regency}" ->
   "Pemerintah Kota Bandung");
3. the category's ``agency`` (the national one), or None.
A template naming a level the region does not know ({district} for "Kota Bandung" alone) does
not apply, and the next one is tried: an agency is never named with a hole in it.
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from bot.settings import Settings
from dialogs.model import REGION_LEVELS

__all__ = ["agency_for", "region_code"]

_FIELDS = string.Formatter()


def agency_for(settings: Settings, category: str, region: Mapping[str, Any]) -> str | None:
    """The agency that handles a report of ``category`` in ``region`` ({level: {"code", "name"}
    | None}, or {} when the location resolved to nothing)."""
    code = region_code(region)
    names = {level: part["name"] for level, part in region.items() if isinstance(part, Mapping) and part.get("name")}
    if code:
        for rule in settings.agency_rules:
            applies = rule.category in ("*", category) and code.startswith(rule.region)
            if applies and (named := _fill(rule.agency, names)) is not None:
                return named
    mapped = settings.category(category)
    if names and mapped.local_agency and (named := _fill(mapped.local_agency, names)) is not None:
        return named
    return mapped.agency


def region_code(region: Mapping[str, Any]) -> str:
    """The most specific Kemendagri code a region knows ("" for none)."""
    for level in reversed(REGION_LEVELS):
        part = region.get(level)
        if isinstance(part, Mapping) and part.get("code"):
            return str(part["code"]).replace(".", "")
    return ""


def _fill(template: str, names: Mapping[str, str]) -> str | None:
    """``template`` with its {level} fields named; None when one of them is not known."""
    wanted = [name for _, name, _, _ in _FIELDS.parse(template) if name]
    if any(name not in names for name in wanted):
        return None
    return template.format_map({name: names[name] for name in wanted})
