"""``keel bench orders``: real-time sourcing latency and cost beside the greedy baseline and the batch optimum,
then order capture on a database beside plain SQL writing the same orders.

Nodes are the retail twin's locations with its opening stock; orders are generated from a seed. The
three strategies source the same orders, wave by wave, each from its own copy of the same stock, and
every plan is priced by the one shared ``plan_cost``. The capture phase (``keel.bench.capture``) loads the
same twin into a fresh database and captures real orders through the service.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from keel.bench import capture, store
from keel.bench.inventory import bench_database
from keel.bootstrap import bootstrap
from keel.orders import (
    CostModel,
    Fulfilment,
    Network,
    Node,
    Order,
    OrderLine,
    Plan,
    Policy,
    Weights,
    haversine_km,
    plan_greedy,
    plan_order,
    plan_wave,
)
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.platform.vocabulary import Capability, LocationKind
from keel.sim.geography import COUNTRIES, WEIGHT
from keel.sim.load import load_world
from keel.sim.world import Scale, World, generate

console = Console(stderr=True)

# Units a node can pick in the bench's day: stores pick between customers, warehouses run shifts.
CAPACITY = {
    LocationKind.WAREHOUSE: 4000,
    LocationKind.THREE_PL: 2500,
    LocationKind.DARK_STORE: 600,
    LocationKind.STORE: 120,
}
FULFILMENT_MIX = [
    (Fulfilment.SHIP_STANDARD, 0.55),
    (Fulfilment.SHIP_EXPRESS, 0.2),
    (Fulfilment.SAME_DAY, 0.1),
    (Fulfilment.PICKUP, 0.1),
    (Fulfilment.CURBSIDE, 0.05),
]
SAME_DAY_KM = 50.0
LISTING_KM = 1400.0  # inside the default policy's 1,500 km, leaving room for the ship-to jitter
STORE_FLOOR = 2  # the default policy's store protection
LISTED_SHARE = 0.8


def build_nodes(world: World) -> list[Node]:
    """One node per twin location, stocked from the twin's opening stock."""
    stock: dict[str, dict[str, int]] = {}
    for row in world.opening_stock:
        held = stock.setdefault(row["location"], {})
        held[row["sku"]] = held.get(row["sku"], 0) + int(row["quantity"])
    return [
        Node(
            code=loc["code"],
            kind=LocationKind(loc["kind"]),
            country=loc["country"],
            lat=float(loc["latitude"]),
            lon=float(loc["longitude"]),
            capabilities=frozenset(Capability(c) for c in loc["capabilities"]),
            capacity=CAPACITY[LocationKind(loc["kind"])],
            stock=stock.get(loc["code"], {}),
        )
        for loc in world.locations
    ]


# Marketplaces rate sellers on late deliveries; wholesale customers accept split deliveries more easily.
KIND_WEIGHTS = {"market": Weights(late=2.0), "b2b": Weights(split=0.5)}


def bench_models(orders: list[Order]) -> dict[str, CostModel]:
    """One cost model per channel of the orders, weighted by the kind its code starts with."""
    return {
        ch: CostModel(weights=KIND_WEIGHTS.get(ch.split("-", 1)[0], Weights())) for ch in {o.channel for o in orders}
    }


@dataclass
class _Country:
    ship_skus: dict[str, list[str]] = field(default_factory=dict)  # per city: what the web store lists there
    pickup_nodes: list[Node] = field(default_factory=list)
    ship_nodes: list[Node] = field(default_factory=list)


def _index(nodes: list[Node]) -> dict[str, _Country]:
    out: dict[str, _Country] = {c: _Country() for c in COUNTRIES}
    for country, entry in out.items():
        here = [n for n in nodes if n.country == country]
        entry.ship_nodes = [n for n in here if n.capabilities & {Capability.SHIP, Capability.SHIP_FROM_STORE}]
        entry.pickup_nodes = [n for n in here if Capability.PICKUP in n.capabilities and n.stock]
        for city, _, lat, lon in COUNTRIES[country][1]:
            # Customers order what the channel lists for their address: SKUs a node may ship them (a store
            # only above its protected floor, a node only within the policy's distance).
            skus = {
                s
                for n in entry.ship_nodes
                if haversine_km(lat, lon, n.lat, n.lon) <= LISTING_KM
                for s, q in n.stock.items()
                if q > (STORE_FLOOR if n.kind is LocationKind.STORE else 0)
            }
            pool = sorted(skus)
            # A fixed shuffle per city, so popularity (below) falls on different SKUs in each market.
            random.Random(f"{country}:{city}").shuffle(pool)
            entry.ship_skus[city] = pool
    return out


def _popular(rng: random.Random, items: list[str]) -> str:
    # A skewed pick: a few SKUs sell often, most rarely, as in any catalogue.
    return items[int(len(items) * rng.random() ** 2)]


def generate_orders(nodes: list[Node], count: int, seed: int = 7) -> list[Order]:
    """Deterministic orders: ship-to near real cities of the order's country, 1-4 lines, mixed fulfilment."""
    rng = random.Random(seed)
    countries = _index(nodes)
    codes = [c for c in COUNTRIES if all(countries[c].ship_skus.values())]
    weights = [WEIGHT[c] for c in codes]
    kinds = [k for k, _ in FULFILMENT_MIX]
    mix = [w for _, w in FULFILMENT_MIX]
    # What the channels list: customers can only order listed units, so demand follows stock as it sells
    # (a share of it, as channel allocation policies list, leaving room for the strategies to differ).
    ship_atp: dict[tuple[str, str], int] = {}
    pickup_atp: dict[tuple[str, str], int] = {}
    for n in nodes:
        floor = STORE_FLOOR if n.kind is LocationKind.STORE else 0
        for sku, qty in n.stock.items():
            if n.capabilities & {Capability.SHIP, Capability.SHIP_FROM_STORE} and qty > floor:
                ship_atp[(n.country, sku)] = ship_atp.get((n.country, sku), 0) + int((qty - floor) * LISTED_SHARE)
            if Capability.PICKUP in n.capabilities:
                pickup_atp[(n.code, sku)] = int(qty * LISTED_SHARE)
    orders: list[Order] = []
    i = 0
    while len(orders) < count:
        i += 1
        country = rng.choices(codes, weights)[0]
        entry = countries[country]
        fulfilment = rng.choices(kinds, mix)[0]
        channel = f"{rng.choice(['web', 'web', 'market'])}-{country.lower()}"
        n_lines = rng.choices([1, 2, 3, 4], [50, 28, 14, 8])[0]
        city, _, lat, lon = rng.choice(COUNTRIES[country][1])
        lat, lon = lat + rng.gauss(0, 0.12), lon + rng.gauss(0, 0.12)
        pickup: str | None = None
        pool = entry.ship_skus[city]
        if fulfilment.collected and entry.pickup_nodes:
            node = rng.choice(entry.pickup_nodes)
            pickup, lat, lon, channel = node.code, node.lat, node.lon, f"web-{country.lower()}"
            pool = sorted(node.stock)
        elif fulfilment is Fulfilment.SAME_DAY:
            near = [n for n in entry.ship_nodes if haversine_km(lat, lon, n.lat, n.lon) <= SAME_DAY_KM]
            pool = sorted(
                {
                    s
                    for n in near
                    for s, q in n.stock.items()
                    if q > (STORE_FLOOR if n.kind is LocationKind.STORE else 0)
                }
            )
            if not pool:
                fulfilment, pool = Fulfilment.SHIP_EXPRESS, entry.ship_skus[city]
        elif fulfilment.collected:
            fulfilment = Fulfilment.SHIP_STANDARD
        atp = pickup_atp if pickup else ship_atp
        where = pickup or country
        lines: list[OrderLine] = []
        for _ in range(n_lines * 5):  # a few draws per line: sold-out and repeated SKUs are skipped
            if len(lines) == n_lines or not pool:
                break
            sku = _popular(rng, pool)
            qty = 1 if pickup else rng.choices([1, 2, 3], [80, 15, 5])[0]
            have = atp.get((where, sku), 0)
            if have <= 0 or any(line.sku == sku for line in lines):
                continue
            lines.append(OrderLine(sku, min(qty, have)))
            atp[(where, sku)] = have - min(qty, have)
        promise = {
            Fulfilment.SHIP_STANDARD: rng.choice([48.0, 72.0, 96.0]),
            Fulfilment.SHIP_EXPRESS: rng.choice([24.0, 36.0]),
            Fulfilment.SAME_DAY: 8.0,
            Fulfilment.PICKUP: 4.0,
            Fulfilment.CURBSIDE: 2.0,
        }[fulfilment]
        if not lines:
            continue
        orders.append(
            Order(
                f"O{i:06d}", channel, tuple(lines), round(lat, 5), round(lon, 5), country, fulfilment, promise, pickup
            )
        )
    return orders


@dataclass
class _Tally:
    cost: float = 0.0
    splits: int = 0
    unfilled: int = 0
    late: int = 0
    plans: int = 0
    parts: dict[str, float] = field(default_factory=dict)  # cost components: where the strategies differ
    store_units: int = 0

    def add(self, plan: Plan, nodes: dict[str, Node]) -> None:
        self.cost += plan.cost.total
        for name in ("shipping", "handling", "split", "late", "unfilled"):
            self.parts[name] = self.parts.get(name, 0.0) + getattr(plan.cost, name)
        self.store_units += sum(a.qty for a in plan.allocations if nodes[a.node].kind is LocationKind.STORE)
        self.splits += plan.splits
        self.unfilled += sum(line.qty for line in plan.unfilled)
        self.late += plan.cost.late > 0
        self.plans += 1


def measure_capture(
    database_url: str | None, world: World, count: int, profile: Path | None = None
) -> capture.CaptureFigures:
    """Load ``world`` into a fresh database and capture ``count`` orders through the service, then by plain SQL."""
    with bench_database(database_url) as url:
        keel = bootstrap(load_settings(), database_url=url)
        try:
            migrate.upgrade(keel.db)
            with console.status("loading the retail twin"):
                load_world(keel, world, catalog=False)  # stock and orders: the catalog is not measured
                store.analyze(keel.db)
            with console.status(f"capturing {count} orders, then the same orders by plain SQL"):
                return capture.measure(keel, world, count, profile=profile)
        finally:
            keel.close()


def run(
    database_url: str | None = None,
    *,
    json_out: bool,
    orders: int = 10_000,
    wave: int = 500,
    seed: int = 42,
    capture_orders: int = 1000,
    skus: int = 10_000,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run the three strategies on the same orders in waves, then capture ``capture_orders`` real orders on
    the database; print tables and, with ``json_out``, figures."""
    world = generate(seed, Scale(skus=skus))
    base = Network(build_nodes(world))
    order_list = generate_orders(list(base.nodes.values()), orders)
    policy, models = Policy(), bench_models(order_list)
    greedy_net, realtime_net, batch_net = base.copy(), base.copy(), base.copy()
    greedy, realtime, optimal = _Tally(), _Tally(), _Tally()
    latencies: list[float] = []
    milp_seconds = 0.0
    statuses: dict[str, int] = {}
    waves = [order_list[i : i + wave] for i in range(0, len(order_list), wave)]
    with console.status("sourcing") as status:
        for w, batch in enumerate(waves, start=1):
            status.update(f"wave {w}/{len(waves)}")
            for order in batch:
                plan = plan_greedy(order, greedy_net, policy, models[order.channel])
                greedy_net.commit(plan)
                greedy.add(plan, base.nodes)
            for order in batch:
                t0 = time.perf_counter()
                plan = plan_order(order, realtime_net, policy, models[order.channel])
                latencies.append((time.perf_counter() - t0) * 1000)
                realtime_net.commit(plan)
                realtime.add(plan, base.nodes)
            result = plan_wave(batch, batch_net, policy, models=models)
            milp_seconds += result.seconds
            statuses[result.status] = statuses.get(result.status, 0) + 1
            for plan in result.plans:
                batch_net.commit(plan)
                optimal.add(plan, base.nodes)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    figures: dict[str, Any] = {
        "orders": len(order_list),
        "nodes": len(base.nodes),
        "realtime_p50_ms": round(cuts[49], 3),
        "realtime_p99_ms": round(cuts[98], 3),
        "orders_per_s": round(len(latencies) / (sum(latencies) / 1000)),
        "milp_seconds": round(milp_seconds, 2),
        "cost_greedy": round(greedy.cost, 2),
        "cost_realtime": round(realtime.cost, 2),
        "cost_optimal": round(optimal.cost, 2),
        "splits_greedy": greedy.splits,
        "splits_realtime": realtime.splits,
        "splits_optimal": optimal.splits,
    }
    table = Table(
        "strategy",
        "cost",
        "vs optimal",
        "extra packages (splits)",
        "late orders",
        "unfilled units",
        title=f"keel bench orders ({len(order_list)} orders in {len(waves)} waves of {wave}, {len(base.nodes)} nodes)",
    )
    for name, t in (("greedy (nearest node per line)", greedy), ("real-time", realtime), ("batch MILP", optimal)):
        gap = (t.cost - optimal.cost) / optimal.cost * 100 if optimal.cost else 0.0
        table.add_row(name, f"{t.cost:,.2f}", f"{gap:+.2f} %", str(t.splits), str(t.late), str(t.unfilled))
    console.print(table)
    parts = Table(
        "strategy", "shipping", "handling", "split", "late", "unfilled", "units from stores", title="cost by part"
    )
    for name, t in (("greedy", greedy), ("real-time", realtime), ("batch MILP", optimal)):
        parts.add_row(
            name,
            *(f"{t.parts.get(k, 0.0):,.0f}" for k in ("shipping", "handling", "split", "late", "unfilled")),
            str(t.store_units),
        )
    console.print(parts)
    console.print(
        f"real-time latency p50 {figures['realtime_p50_ms']} ms, p99 {figures['realtime_p99_ms']} ms, "
        f"{figures['orders_per_s']} orders/s; MILP {milp_seconds:.1f} s over {len(waves)} waves ({statuses})"
    )
    captured = measure_capture(database_url, world, capture_orders, profile)
    figures.update(
        capture_per_s=round(captured.per_s, 1),
        capture_p50_ms=round(captured.p50_ms, 3),
        capture_p99_ms=round(captured.p99_ms, 3),
        capture_raw_per_s=round(captured.raw_per_s, 1),
        capture_ratio=round(captured.per_s / captured.raw_per_s, 3),
        **{f"capture_{n}_line_per_s": round(v, 1) for n, v in captured.per_shape.items()},
    )
    cap = Table("figure", "value", title=f"order capture ({captured.orders} orders, one worker, {captured.database})")
    for key in ("capture_per_s", "capture_p50_ms", "capture_p99_ms", "capture_raw_per_s", "capture_ratio"):
        cap.add_row(key, str(figures[key]))
    for n in captured.per_shape:
        cap.add_row(f"  {n}-line orders/s", str(figures[f"capture_{n}_line_per_s"]))
    console.print(cap)
    if json_out:
        print(json.dumps(figures))
    return figures
