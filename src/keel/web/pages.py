"""Server-rendered pages of the control tower: inventory, channel availability, locations, channels.

Pages read through the services only. Query strings are parsed by ``keel.web.params`` (a bad value is a
400 page) and unknown SKUs, locations or channels raise ``NotFound`` (a 404 page, see ``PageRoute``).
The JSON API owns ``/locations``, ``/channels`` and ``/availability/{sku}``, so every page lives under
``/ui`` except the control tower's home at ``/`` (``keel.web.tower``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.bootstrap import Keel
from keel.channels import Channel, ChannelKind, Policy
from keel.deps import KeelDep
from keel.inventory import ListedQuantity, Position
from keel.platform.errors import NotFound
from keel.platform.scope import Scope
from keel.platform.vocabulary import LocationKind
from keel.web import params
from keel.web.params import Pager
from keel.web.render import STATIC_DIR, UI, PageRoute, page_scope, render

__all__ = ["STATIC_DIR", "router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)

QUANTITIES = (
    ("on_hand", "On hand"),
    ("available", "Available"),
    ("committed", "Committed"),
    ("reserved", "Reserved"),
    ("safety_stock", "Safety"),
    ("damaged", "Damaged"),
    ("quality_control", "QC"),
    ("incoming", "Incoming"),
)
LOCATION_KINDS = frozenset(k.value for k in LocationKind)
CHANNEL_KINDS = frozenset(k.value for k in ChannelKind)
T = TypeVar("T")
EVERYTHING = 1_000_000  # page size for the small reference lists behind filter drop-downs


def _require_sku(keel: Keel, sku: str, scope: Scope) -> list[Position]:
    """The SKU's positions (at most 1,000, in ``scope``); NotFound when no location (in it) has ever held it."""
    positions, total = keel.queries.positions(sku=sku, limit=1000, scope=scope)
    if total == 0:
        raise NotFound(f"No location holds or has held SKU {sku!r}. Check the spelling, or pick another SKU.")
    return positions


def _require_location(keel: Keel, code: str, scope: Scope) -> None:
    try:
        keel.locations.get(code, scope)
    except NotFound:
        raise NotFound(f"There is no location {code!r}.") from None


def _require_channel(keel: Keel, code: str, scope: Scope) -> Channel:
    try:
        return keel.channels.get(code, scope)
    except NotFound:
        raise NotFound(f"There is no channel {code!r}.") from None


def _options(keel: Keel, scope: Scope) -> dict[str, list[str]]:
    """Values offered by the filter drop-downs (only what ``scope`` sees)."""
    locations, _ = keel.locations.list(limit=EVERYTHING, scope=scope)
    channels, _ = keel.channels.list(limit=EVERYTHING, scope=scope)
    countries = {loc.country for loc in locations}.union(*(c.countries for c in channels))
    countries = {c for c in countries if scope.sees_country(c)}
    return {
        "location_codes": [loc.code for loc in locations],
        "countries": sorted(countries),
        "channel_codes": [c.code for c in channels],
    }


# -- inventory overview -----------------------------------------------------------------------------------
@router.get(f"{UI}/inventory")
def inventory_page(
    request: Request,
    keel: KeelDep,
    sku: str | None = None,
    location: str | None = None,
    country: str | None = None,
    channel: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    filters = {
        "sku": params.text(sku, "sku"),
        "location": params.text(location, "location"),
        "country": params.country(country),
        "channel": params.text(channel, "channel"),
    }
    pager = Pager.parse(page, size)
    scope = page_scope(request)
    if filters["sku"]:
        _require_sku(keel, filters["sku"], scope)
    if filters["location"]:
        _require_location(keel, filters["location"], scope)
    notes: list[str] = []
    sources: list[str] | None = None
    if filters["channel"]:
        _require_channel(keel, filters["channel"], scope)
        try:
            sources = keel.availability.source_locations(filters["channel"])
        except NotFound:  # the channel exists but is inactive or names no active location
            sources = []
            notes.append(f"Channel {filters['channel']} is inactive or has no active source locations.")
        else:
            notes.append(f"Showing the {len(sources)} locations that feed channel {filters['channel']}.")
    items, total = keel.queries.positions(
        sku=filters["sku"],
        location=filters["location"],
        country=filters["country"],
        locations=sources,
        limit=pager.size,
        offset=pager.offset,
        scope=scope,
    )
    pager = pager.with_total(total)
    sums = {key: sum(getattr(row, key) for row in items) for key, _ in QUANTITIES}
    return render(
        request,
        "inventory.html",
        {
            "title": "Inventory",
            "positions": items,
            "pager": pager,
            "filters": filters,
            "filtered": any(filters.values()),
            "notes": notes,
            "quantities": QUANTITIES,
            "sums": sums,
            "complete": pager.page == 1 and total <= pager.size,
            **_options(keel, scope),
        },
    )


# -- channel availability ---------------------------------------------------------------------------------
@router.get(f"{UI}/availability")
def availability_page(
    request: Request,
    keel: KeelDep,
    sku: str | None = None,
    channel: str | None = None,
    country: str | None = None,
) -> Response:
    filters = {
        "sku": params.text(sku, "sku"),
        "channel": params.text(channel, "channel"),
        "country": params.country(country),
    }
    scope = page_scope(request)
    if filters["channel"]:
        _require_channel(keel, filters["channel"], scope)
    rows: list[ListedQuantity] | None = None
    stock: dict[str, int] = {}
    if filters["sku"]:
        positions = _require_sku(keel, filters["sku"], scope)
        stock = {
            "locations": sum(1 for p in positions if p.on_hand or p.available),
            "on_hand": sum(p.on_hand for p in positions),
            "available": sum(p.available for p in positions),
        }
        found = keel.availability.projected([filters["sku"]], filters["channel"], filters["country"], scope)
        rows = found[filters["sku"]]
    channels, _ = keel.channels.list(limit=EVERYTHING, scope=scope)
    first, _ = keel.queries.positions(limit=60, scope=scope)
    return render(
        request,
        "availability.html",
        {
            "title": f"Availability of {filters['sku']}" if filters["sku"] else "Channel availability",
            "filters": filters,
            "rows": rows,
            "stock": stock,
            "listed": sum(r.quantity for r in rows or []),
            "listing": sum(1 for r in rows or [] if r.quantity > 0),
            "channels": {c.code: c for c in channels},
            "examples": sorted({p.sku for p in first})[:6],
            **_options(keel, scope),
        },
    )


@router.get(UI + "/availability/{sku:path}")
def explain_page(
    request: Request,
    sku: str,
    keel: KeelDep,
    channel: str | None = None,
    country: str | None = None,
) -> Response:
    filters = {"channel": params.text(channel, "channel"), "country": params.country(country)}
    code = params.text(sku, "sku")
    if code is None:
        raise params.BadQuery("sku", "is missing")
    scope = page_scope(request)
    _require_sku(keel, code, scope)
    if filters["channel"]:
        _require_channel(keel, filters["channel"], scope)
    targets = keel.availability.explain(code, filters["channel"], filters["country"], scope)
    return render(
        request,
        "explain.html",
        {
            "title": f"Why {code} lists what it lists",
            "sku": code,
            "filters": filters,
            "targets": targets,
            "stocked": [t for t in targets if t.stocked],
            "unstocked": [t for t in targets if not t.stocked],
            **_options(keel, scope),
        },
    )


# -- locations --------------------------------------------------------------------------------------------
def _registry_listing(
    search: Callable[..., tuple[list[T], int]],
    kinds: frozenset[str] | set[str],
    kind: str | None,
    country: str | None,
    active: str | None,
    page: str | None,
    size: str | None,
    scope: Scope,
) -> tuple[dict[str, Any], Pager, list[T], int, list[T]]:
    """The shared part of the locations and channels pages: checked filters, a page, and every row."""
    filters = {
        "kind": params.choice(kind, "kind", kinds),
        "country": params.country(country),
        "active": params.text(active, "active"),
    }
    pager = Pager.parse(page, size)
    items, total = search(
        kind=filters["kind"],
        country=filters["country"],
        active=params.boolean(active, "active"),
        limit=pager.size,
        offset=pager.offset,
        scope=scope,
    )
    everything, _ = search(limit=EVERYTHING, scope=scope)
    return filters, pager, items, total, everything


@router.get(f"{UI}/locations")
def locations_page(
    request: Request,
    keel: KeelDep,
    kind: str | None = None,
    country: str | None = None,
    active: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    scope = page_scope(request)
    filters, pager, items, total, all_locations = _registry_listing(
        keel.locations.list, LOCATION_KINDS, kind, country, active, page, size, scope
    )
    accuracy = keel.queries.accuracy(scope=scope)
    by_location = {a.location: a for a in accuracy.locations}
    return render(
        request,
        "locations.html",
        {
            "title": "Locations",
            "locations": items,
            "pager": pager.with_total(total),
            "filters": filters,
            "filtered": any(filters.values()),
            "kinds": sorted(LOCATION_KINDS),
            "countries": sorted({loc.country for loc in all_locations}),
            "accuracy": by_location,
            "overall": accuracy.overall,
            "tolerance_pct": accuracy.tolerance_pct,
        },
    )


# -- channels ---------------------------------------------------------------------------------------------
def _policy_summary(policy: Policy) -> dict[str, Any]:
    """Sources grouped by identical spec (a bloc of countries often shares one pattern) and the rules."""
    by_spec: dict[tuple[str, ...], list[tuple[str, list[str]]]] = {}
    for country, spec in sorted(policy.sources.items()):
        names = [*spec.groups, *spec.locations]
        pattern = tuple(n.replace(f"-{country}", "-{country}") for n in names)
        by_spec.setdefault(pattern, []).append((country, names))
    sources = [
        {"countries": [c for c, _ in members], "names": members[0][1] if len(members) == 1 else list(pattern)}
        for pattern, members in by_spec.items()
    ]
    numbers = policy.rules
    rules = []
    if numbers.safety_buffer:
        rules.append(f"safety buffer {numbers.safety_buffer}")
    if numbers.allocation_pct != 100:
        rules.append(f"allocate {numbers.allocation_pct:g}%")
    if numbers.max_listed is not None:
        rules.append(f"list at most {numbers.max_listed}")
    if numbers.zero_below:
        rules.append(f"zero below {numbers.zero_below}")
    return {"sources": sources, "rules": rules, "backorder": numbers.backorder}


@router.get(f"{UI}/channels")
def channels_page(
    request: Request,
    keel: KeelDep,
    kind: str | None = None,
    country: str | None = None,
    active: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    scope = page_scope(request)
    filters, pager, items, total, everything = _registry_listing(
        keel.channels.list, CHANNEL_KINDS, kind, country, active, page, size, scope
    )
    rows = [{**asdict(c), "summary": _policy_summary(c.policy)} for c in items]
    return render(
        request,
        "channels.html",
        {
            "title": "Channels",
            "channels": rows,
            "pager": pager.with_total(total),
            "filters": filters,
            "filtered": any(filters.values()),
            "kinds": sorted(CHANNEL_KINDS),
            "countries": sorted({c for ch in everything for c in ch.countries}),
        },
    )
