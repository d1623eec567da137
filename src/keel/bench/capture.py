"""Order capture on a real database: orders through ``keel.orders.capture.place``, one worker, beside the same
orders written by plain SQL (``keel.bench.store``), the physical limit of the database on this machine.

The orders are the twin's: web-store and marketplace orders of one country, 1 or 3 lines of SKUs its
fulfilment nodes hold, shipped to a real city with a postal code. Before the measured phases the bench
receives enough units at those nodes that neither phase runs out (so every order commits and both phases
write the same rows: the order, its lines, the positions, the ledger).
"""

from __future__ import annotations

import cProfile
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.bench import store
from keel.bootstrap import Keel
from keel.orders import capture_command
from keel.sim.world import World

SHAPES = (1, 3)  # lines per order: the two shapes the issue measures


@dataclass(frozen=True)
class Written:
    """What the service wrote for one order, as the raw phase writes it again: (line no, sku, quantity,
    unit price, location) per shipment piece."""

    doc: dict[str, Any]
    pieces: tuple[tuple[int, str, int, str, str], ...]


@dataclass(frozen=True)
class CaptureFigures:
    database: str
    orders: int
    per_s: float
    p50_ms: float
    p99_ms: float
    per_shape: dict[int, float]  # lines -> orders/s
    raw_per_s: float


def order_documents(world: World, count: int, lines: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """``count`` capture documents of ``lines`` distinct SKUs each, for the web store or marketplace of one
    country, shipped to the city of a fulfilment node there that holds every SKU of the order."""
    rng = random.Random(f"{seed}:{lines}")
    nodes = {loc["code"]: loc for loc in world.locations if loc["kind"] != "store" and "ship" in loc["capabilities"]}
    held: dict[str, list[str]] = {}
    for row in world.opening_stock:
        if row["location"] in nodes:
            held.setdefault(row["location"], []).append(row["sku"])
    selling: dict[str, list[str]] = {}
    for ch in world.channels:
        if ch["kind"] in ("web_store", "marketplace"):
            for country in ch["countries"]:
                selling.setdefault(country, []).append(ch["code"])
    homes = sorted(code for code, skus in held.items() if len(skus) >= lines and nodes[code]["country"] in selling)
    places: dict[tuple[str, str], list[str]] = {}
    for p in world.postal_codes:
        places.setdefault((p["country"], p["place"]), []).append(p["postal_code"])
    docs = []
    for i in range(count):
        node = nodes[rng.choice(homes)]
        country, city = node["country"], node["city"]
        codes = places.get((country, city))
        docs.append(
            {
                "channel": rng.choice(selling[country]),
                "external_id": f"{prefix}-{lines}-{i}",
                "lines": [
                    {"sku": s, "quantity": 1, "unit_price": "19.99"} for s in rng.sample(held[node["code"]], lines)
                ],
                "customer": {"name": f"Bench customer {i}", "email": f"b{i}@example.com"},
                "ship_to": {"country": country, "city": city, "postal_code": rng.choice(codes) if codes else "10000"},
            }
        )
    return docs


def top_up(keel: Keel, world: World, docs: list[dict[str, Any]], times: int) -> None:
    """Receive, at every fulfilment node of an order's country holding one of its SKUs, ``times`` the units
    the orders ask for, so that the service phase and the raw phase both find stock."""
    kinds = {loc["code"]: (loc["kind"], loc["country"]) for loc in world.locations}
    homes: dict[tuple[str, str], list[str]] = {}
    for row in world.opening_stock:
        kind, country = kinds[row["location"]]
        if kind != "store":
            homes.setdefault((row["sku"], country), []).append(row["location"])
    need: dict[tuple[str, str], int] = {}
    for doc in docs:
        for line in doc["lines"]:
            for code in homes[(line["sku"], doc["ship_to"]["country"])]:
                need[(line["sku"], code)] = need.get((line["sku"], code), 0) + line["quantity"] * times
    rows = [
        {"id": f"bench-topup:{sku}:{code}", "kind": "received", "sku": sku, "location": code, "quantity": qty}
        for (sku, code), qty in sorted(need.items())
    ]
    size = keel.settings.max_batch
    for start in range(0, len(rows), size):
        keel.stock.apply_batch(rows[start : start + size], source="bench")
    keel.availability.catch_up()


def capture_orders(keel: Keel, docs: list[dict[str, Any]]) -> tuple[list[float], list[Written]]:
    """Capture every document through the service, one after the other; milliseconds per order and what
    each order wrote."""
    latencies: list[float] = []
    written: list[Written] = []
    for doc in docs:
        t0 = time.perf_counter()
        captured = keel.orders.capture.place(capture_command(doc))
        latencies.append((time.perf_counter() - t0) * 1000)
        if not captured.created:
            raise RuntimeError(f"order {doc['external_id']} was not new")
        prices = {line.line_no: line.unit_price for line in captured.order.lines}
        pieces = tuple(
            (p.line_no, p.sku, p.quantity, prices[p.line_no], s.location)
            for s in captured.order.shipments
            for p in s.lines
        )
        if sum(p[2] for p in pieces) != sum(line["quantity"] for line in doc["lines"]):
            raise RuntimeError(f"order {doc['external_id']} was not fully allocated")
        written.append(Written(doc, pieces))
    return latencies, written


def measure(keel: Keel, world: World, count: int, seed: int = 11, profile: Path | None = None) -> CaptureFigures:
    """``count`` orders through the service (half of 1 line, half of 3), then the same orders by plain SQL.
    With ``profile``, the service phase runs under cProfile and its statistics go to that file (``python -m
    pstats``): where an order's time goes, at the price of slower figures."""
    shapes = {lines: order_documents(world, count // len(SHAPES), lines, seed, "bench") for lines in SHAPES}
    top_up(keel, world, [d for docs in shapes.values() for d in docs], times=3)
    latencies: list[float] = []
    written: list[Written] = []
    per_shape: dict[int, float] = {}
    profiler = cProfile.Profile() if profile else None
    for lines, docs in shapes.items():
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        took, wrote = capture_orders(keel, docs)
        if profiler:
            profiler.disable()
        per_shape[lines] = len(docs) / (time.perf_counter() - start)
        latencies += took
        written += wrote
    if profiler and profile:
        profiler.dump_stats(profile)
    per_s = len(latencies) / (sum(latencies) / 1000)
    raw_per_s = raw_orders(keel, written)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return CaptureFigures(keel.db.dialect, len(latencies), per_s, cuts[49], cuts[98], per_shape, raw_per_s)


def raw_orders(keel: Keel, written: list[Written]) -> float:
    """Orders/s of plain SQL writing the same orders again (new external ids, same pieces at the same nodes):
    the order and its lines, the positions, the ledger rows and one event, one transaction each."""
    with keel.db.read() as conn:
        ids = keel.locations.active_ids(conn)
    orders = [
        store.RawOrder(
            channel=w.doc["channel"],
            external_id=f"raw-{w.doc['external_id']}",
            customer_name=w.doc["customer"]["name"],
            country=w.doc["ship_to"]["country"],
            postal_code=w.doc["ship_to"].get("postal_code"),
            lines=tuple((no, sku, qty, price, ids[code]) for no, sku, qty, price, code in w.pieces),
        )
        for w in written
    ]
    return store.write_raw_orders(keel.db, orders)
