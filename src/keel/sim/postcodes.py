"""Synthetic postal codes of the twin's cities: a few per city, in the country's format, near the city.

They are made up (any resemblance to a real code is chance) and exist so that the twin's orders can be
located by postal code without a GeoNames download. Drawn from their own ``random.Random``, so adding them
changes nothing else the world's generator draws.
"""

from __future__ import annotations

import math
import random
import string
from typing import Any

from keel.sim.geography import COUNTRIES

# "#" a digit, "@" a capital letter, anything else as is; the first digit is never 0.
FORMATS = {
    "GB": "@@# #@@",
    "NL": "#### @@",
    "IE": "@## @#@#",
    "CA": "@#@ #@#",
    "PL": "##-###",
    "PT": "####-###",
    "JP": "###-####",
    "SE": "### ##",
    "CZ": "### ##",
    "BE": "####",
    "AT": "####",
    "CH": "####",
    "DK": "####",
    "NO": "####",
    "AU": "####",
}
DEFAULT_FORMAT = "#####"  # DE, FR, IT, ES, FI, US
PER_CITY = (3, 5)
SPREAD_KM = 6.0  # a code's centroid lies within this distance of the city centre, on each axis


def _code(rng: random.Random, pattern: str) -> str:
    out: list[str] = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randint(0 if any(c.isdigit() for c in out) else 1, 9)))
        elif ch == "@":
            out.append(rng.choice(string.ascii_uppercase))
        else:
            out.append(ch)
    return "".join(out)


def twin_postal_codes(seed: int) -> list[dict[str, Any]]:
    """3-5 postal codes per twin city (``country``, ``postal_code``, ``place``, ``latitude``, ``longitude``),
    the same for the same seed."""
    rng = random.Random(f"postal-codes:{seed}")
    out: list[dict[str, Any]] = []
    for country, (_, cities) in COUNTRIES.items():
        pattern = FORMATS.get(country, DEFAULT_FORMAT)
        taken: set[str] = set()
        for city, _region, lat, lon in cities:
            for _ in range(rng.randint(*PER_CITY)):
                code = _code(rng, pattern)
                while code in taken:
                    code = _code(rng, pattern)
                taken.add(code)
                dlat = rng.uniform(-SPREAD_KM, SPREAD_KM) / 111.0
                dlon = rng.uniform(-SPREAD_KM, SPREAD_KM) / (111.0 * math.cos(math.radians(lat)))
                out.append(
                    {
                        "country": country,
                        "postal_code": code,
                        "place": city,
                        "latitude": round(lat + dlat, 5),
                        "longitude": round(lon + dlon, 5),
                    }
                )
    return out
