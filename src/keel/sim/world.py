"""Deterministic generation of the retailer: locations, groups, channels, SKUs and opening stock.

Everything derives from one ``random.Random(seed)``, so the same seed and scale give the same world.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from keel.sim.geography import COUNTRIES, WEIGHT
from keel.sim.postcodes import twin_postal_codes

REGION_BLOCS = {
    "EU": ["DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL", "SE", "DK", "FI", "IE", "PT", "CZ"],
    "UK": ["GB", "CH", "NO"],
    "NA": ["US", "CA"],
    "APAC": ["AU", "JP"],
}


@dataclass(frozen=True)
class Scale:
    skus: int = 10_000
    locations: int = 300
    channels: int = 50
    positions_per_sku: int = 12


@dataclass
class World:
    seed: int
    scale: Scale
    locations: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    opening_stock: list[dict[str, Any]] = field(default_factory=list)
    postal_codes: list[dict[str, Any]] = field(default_factory=list)  # sim/postcodes.py


def _jitter(rng: random.Random, value: float) -> float:
    return round(value + rng.uniform(-0.08, 0.08), 5)


def _locations(rng: random.Random, total: int) -> list[dict[str, Any]]:
    weight_sum = sum(WEIGHT.values())
    out: list[dict[str, Any]] = []
    for country, (_, cities) in COUNTRIES.items():
        share = WEIGHT[country] / weight_sum
        n = max(4, round(total * share))
        plan = ["warehouse"] * max(1, round(n * 0.08)) + ["dark_store"] * max(1, round(n * 0.06))
        plan += ["3pl"] * (1 if n >= 8 else 0)
        plan += ["store"] * max(1, n - len(plan))
        for i, kind in enumerate(plan, start=1):
            city, region, lat, lon = cities[(i - 1) % len(cities)]
            caps = {
                "warehouse": ["ship"],
                "3pl": ["ship"],
                "dark_store": ["ship", "pickup"],
                "store": ["pickup"] + (["ship_from_store"] if rng.random() < 0.4 else []),
            }[kind]
            prefix = {"warehouse": "WH", "3pl": "3PL", "dark_store": "DS", "store": "ST"}[kind]
            out.append(
                {
                    "code": f"{prefix}-{country}-{i:03d}",
                    "name": f"{city} {kind.replace('_', ' ')} {i}",
                    "kind": kind,
                    "country": country,
                    "region": region,
                    "city": city,
                    "latitude": _jitter(rng, lat),
                    "longitude": _jitter(rng, lon),
                    "capabilities": caps,
                }
            )
    return out[: max(total, len(COUNTRIES) * 4)]


def _groups(locations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for country in COUNTRIES:
        here = [loc for loc in locations if loc["country"] == country]
        fulfil = [loc["code"] for loc in here if loc["kind"] in ("warehouse", "3pl", "dark_store")]
        stores = [loc["code"] for loc in here if loc["kind"] == "store"]
        sfs = [loc["code"] for loc in here if "ship_from_store" in loc["capabilities"]]
        groups.append({"code": f"fulfilment-{country}", "name": f"Fulfilment centres {country}", "members": fulfil})
        groups.append({"code": f"stores-{country}", "name": f"Stores {country}", "members": stores})
        groups.append({"code": f"ship-from-store-{country}", "name": f"Ship-from-store {country}", "members": sfs})
    return [g for g in groups if g["members"]]


def _channels(rng: random.Random, groups: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    have = {g["code"] for g in groups}

    def sources(country: str, *kinds: str) -> dict[str, Any]:
        return {"groups": [f"{k}-{country}" for k in kinds if f"{k}-{country}" in have]}

    out: list[dict[str, Any]] = []
    for country, (currency, _) in COUNTRIES.items():
        lc = country.lower()
        out.append(
            {
                "code": f"market-{lc}",
                "name": f"Marketplace {country}",
                "kind": "marketplace",
                "countries": [country],
                "currency": currency,
                "policy": {
                    "sources": {country: sources(country, "fulfilment")},
                    "safety_buffer": 2,
                    "allocation_pct": 80,
                    "max_listed": 500,
                    "zero_below": 2,
                    "backorder": False,
                },
            }
        )
        out.append(
            {
                "code": f"web-{lc}",
                "name": f"Web store {country}",
                "kind": "web_store",
                "countries": [country],
                "currency": currency,
                "policy": {
                    "sources": {country: sources(country, "fulfilment", "ship-from-store")},
                    "safety_buffer": 1,
                    "allocation_pct": 100,
                    "zero_below": 0,
                    "backorder": rng.random() < 0.3,
                },
            }
        )
    for bloc, members in REGION_BLOCS.items():
        out.append(
            {
                "code": f"pos-{bloc.lower()}",
                "name": f"Store POS {bloc}",
                "kind": "pos",
                "countries": members,
                "currency": COUNTRIES[members[0]][0],
                "policy": {"sources": {c: sources(c, "stores") for c in members if f"stores-{c}" in have}},
            }
        )
    for i, (name, members) in enumerate(
        [
            ("Social shop EU", REGION_BLOCS["EU"]),
            ("Social shop NA", REGION_BLOCS["NA"]),
            ("Social shop UK", REGION_BLOCS["UK"]),
        ],
        start=1,
    ):
        out.append(
            {
                "code": f"social-{i}",
                "name": name,
                "kind": "social",
                "countries": members,
                "currency": COUNTRIES[members[0]][0],
                "policy": {
                    "sources": {c: sources(c, "fulfilment") for c in members},
                    "allocation_pct": 50,
                    "max_listed": 100,
                    "zero_below": 3,
                },
            }
        )
    out.append(
        {
            "code": "b2b-eu",
            "name": "Wholesale EU",
            "kind": "b2b",
            "countries": ["DE", "FR", "NL"],
            "currency": "EUR",
            "policy": {
                "sources": {c: sources(c, "fulfilment") for c in ("DE", "FR", "NL")},
                "safety_buffer": 20,
                "allocation_pct": 30,
            },
        }
    )
    return (out + _more_channels(have, total - len(out)))[:total]


# Beyond the reference 50 channels, a large retailer sells through more marketplaces and more web stores
# (brands, outlets) in each country: added round-robin over the countries by weight, numbered from 2.
MORE_CHANNELS = (
    ("marketplace", "market", "Marketplace", {"safety_buffer": 2, "allocation_pct": 60, "max_listed": 200}),
    ("web_store", "web", "Web store", {"safety_buffer": 1, "allocation_pct": 100, "zero_below": 1}),
)


def _more_channels(have: set[str], count: int) -> list[dict[str, Any]]:
    """``count`` extra marketplaces and web stores, no randomness (the reference world's draws stay as
    they are); each country gets a share of them by weight."""
    out: list[dict[str, Any]] = []
    given = dict.fromkeys(COUNTRIES, 0)
    while len(out) < count:
        # the country furthest below its weighted share gets the next one
        country = min(COUNTRIES, key=lambda c: (given[c] + 1) / WEIGHT[c])
        given[country] += 1
        kind, code, name, rules = MORE_CHANNELS[given[country] % 2]
        n = (given[country] + 1) // 2 + 1
        fulfil = [f"fulfilment-{country}"] + ([f"ship-from-store-{country}"] if kind == "web_store" else [])
        out.append(
            {
                "code": f"{code}-{country.lower()}-{n}",
                "name": f"{name} {country} {n}",
                "kind": kind,
                "countries": [country],
                "currency": COUNTRIES[country][0],
                "policy": {
                    "sources": {country: {"groups": [g for g in fulfil if g in have]}},
                    **rules,
                    "backorder": kind == "web_store" and n % 3 == 0,
                },
            }
        )
    return out


# Positions per market: one fulfilment node and a few stores of the same country, as a retailer stocks
# the range it sells in a country (see docs/twin.md: a SKU scattered over random locations worldwide
# left most orders a single feasible node, which no retailer's network looks like).
PER_MARKET = 4


class _Markets:
    def __init__(self, locations: list[dict[str, Any]]) -> None:
        self.by_country: dict[str, tuple[list[str], list[str]]] = {}
        for loc in locations:
            fulfil, stores = self.by_country.setdefault(loc["country"], ([], []))
            (stores if loc["kind"] == "store" else fulfil).append(loc["code"])
        self.fulfil = {code for fulfil, _ in self.by_country.values() for code in fulfil}
        self.everywhere = [loc["code"] for loc in locations]
        self.countries = sorted(self.by_country)
        self.cum_weights = list(itertools.accumulate(WEIGHT[c] for c in self.countries))

    def homes(self, rng: random.Random, positions: int) -> list[str]:
        """Where one SKU is stocked: markets drawn by country weight, each a fulfilment node plus stores;
        the count always equals ``positions`` (topped up anywhere when the markets run out)."""
        homes: list[str] = []
        chosen: set[str] = set()
        while len(homes) < positions and len(chosen) < len(self.countries):
            country = rng.choices(self.countries, cum_weights=self.cum_weights)[0]  # same draws as weights=
            if country in chosen:
                continue
            chosen.add(country)
            fulfil, stores = self.by_country[country]
            take = min(PER_MARKET, positions - len(homes))
            homes += rng.sample(fulfil, min(1, take, len(fulfil)))
            homes += rng.sample(stores, min(take - 1, len(stores)))
        if len(homes) < positions:  # rare (a small world): listing every location per SKU made loading quadratic
            taken = set(homes)
            homes += rng.sample([c for c in self.everywhere if c not in taken], positions - len(homes))
        return homes


def generate(seed: int = 42, scale: Scale | None = None) -> World:
    """Build the world for ``seed`` and ``scale``; pure and deterministic."""
    scale = scale or Scale()
    rng = random.Random(seed)
    world = World(seed, scale)
    world.locations = _locations(rng, scale.locations)
    world.groups = _groups(world.locations)
    world.channels = _channels(rng, world.groups, scale.channels)
    world.postal_codes = twin_postal_codes(seed)
    world.skus = [f"SKU-{i:06d}" for i in range(1, scale.skus + 1)]
    markets = _Markets(world.locations)
    for sku in world.skus:
        homes = markets.homes(rng, scale.positions_per_sku)
        for code in homes:
            qty = int(rng.lognormvariate(3.2, 0.9)) + 1 if code in markets.fulfil else rng.randint(1, 12)
            world.opening_stock.append(
                {
                    "id": f"open:{sku}:{code}",
                    "kind": "received",
                    "sku": sku,
                    "location": code,
                    "quantity": qty,
                    "reason": "opening stock",
                }
            )
    return world
