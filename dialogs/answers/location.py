"""Location answers."""
from __future__ import annotations

import math
import re

from dialogs.answers.context import ParseContext
from dialogs.model import Parsed
from dialogs.normalize import clean_text, loose

__all__ = ["parse"]

_COORDINATES = re.compile(r"(-?[0-9]{1,3}\.[0-9]{1,12}) ?[,; ] ?(-?[0-9]{1,3}\.[0-9]{1,12})")
_LOCATION_MIN, _LOCATION_MAX = 3, 300


def parse(ctx: ParseContext) -> Parsed:
    """A shared location, "lat, long" typed, or an address of 3-300 characters."""
    shared = ctx.inbound.location
    if shared is not None and _valid_point(shared.latitude, shared.longitude):
        text = clean_text(shared.address)[:_LOCATION_MAX]
        return Parsed(value={"text": text, "latitude": float(shared.latitude), "longitude": float(shared.longitude)})
    text = clean_text(ctx.inbound.text)
    if match := _COORDINATES.fullmatch(ctx.norm):
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if not _valid_point(latitude, longitude):
            return ctx.hint("hint_location")
        return Parsed(value={"text": text, "latitude": latitude, "longitude": longitude})
    if not _LOCATION_MIN <= len(text) <= _LOCATION_MAX or not loose(ctx.norm):
        return ctx.hint("hint_location")
    return Parsed(value={"text": text, "latitude": None, "longitude": None})


def _valid_point(latitude: float, longitude: float) -> bool:
    return math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180
