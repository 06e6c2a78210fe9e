"""Location answers."""
from __future__ import annotations

import math
import re
from typing import Any

from dialogs.answers.context import ParseContext
from dialogs.model import Parsed, Place
from dialogs.normalize import clean_text, loose

__all__ = ["parse"]

_COORDINATES = re.compile(r"(-?[0-9]{1,3}\.[0-9]{1,12}) ?[,; ] ?(-?[0-9]{1,3}\.[0-9]{1,12})")
_LOCATION_MIN, _LOCATION_MAX = 3, 300


def parse(ctx: ParseContext) -> Parsed:
    """A shared location, "lat, long" typed, or an address of 3-300 characters.

    With the regions the caller found for it (``Inbound.places``): one is the answer's
    ``region``; several are offered to the citizen (``Parsed.places``); none leave the text as
    it is, never refused. A point's region is the one found for the point."""
    shared = ctx.inbound.location
    places = ctx.inbound.places
    if shared is not None and _valid_point(shared.latitude, shared.longitude):
        text = clean_text(shared.address)[:_LOCATION_MAX]
        return Parsed(value=_value(text, float(shared.latitude), float(shared.longitude), places[:1]))
    text = clean_text(ctx.inbound.text)
    if match := _COORDINATES.fullmatch(ctx.norm):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not _valid_point(latitude, longitude):
            return ctx.hint("hint_location")
        return Parsed(value=_value(text, latitude, longitude, places[:1]))
    if not _LOCATION_MIN <= len(text) <= _LOCATION_MAX or not loose(ctx.norm):
        return ctx.hint("hint_location")
    if len(places) > 1:
        return Parsed(value=_value(text, None, None, ()), places=places)
    return Parsed(value=_value(text, None, None, places))


def _value(text: str, latitude: float | None, longitude: float | None, places: tuple[Place, ...]) -> dict[str, Any]:
    value: dict[str, Any] = {"text": text, "latitude": latitude, "longitude": longitude}
    if places:
        value["region"] = {level: dict(part) if part else None for level, part in places[0].region.items()}
    return value


def _valid_point(latitude: float, longitude: float) -> bool:
    return math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180
