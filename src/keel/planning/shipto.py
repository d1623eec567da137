"""Online demand at the ship-to country, not at the node that happened to ship it.

What left a node is a mix: its own counter's sales and pick-ups (demand that chose this place), and orders
that sourcing routed to it (demand that arose in a country and was sent wherever stock and cost pointed that
hour). Learned at the node, routed demand moves with routing: when one DC runs dry, its orders go to
another, which then looks like a hit while the first looks censored. So a planning run splits each node's
daily demand (``DemandSeries.routed``, from the ledger) into:

- its **local** series: what it sold, less what orders committed there, plus what customers picked up there
  (pick-up and curbside orders chose the place);
- **online** series per SKU x ship-to country (``@DE``): the units orders shipped to customers of that country,
  whichever node shipped them. The orders context says where each shipped order went; what the ledger
  alone knows (orders written straight to the ledger by another system) counts for the node's own country.
  A day is censored only when every node that shipped the SKU to that country in the window was out of stock:
  while one of them had stock, routing could still serve the country's customers.

Each node then plans for its local forecast plus its **share** of each country's online forecast (``combined``
in ``outlook``): the share of that country's online units it shipped on the days when every node shipping
there had stock (``_shares``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from keel.inventory import DemandSeries
from keel.orders import OrderUnits

__all__ = ["ONLINE", "Attribution", "OrderUnitsOf", "attribute", "online_key"]

ONLINE = "@"  # an online series' location: "@" + the ship-to country (no location code starts with it)
# The orders context's units per SKU, node, day and ship-to country, from the first to the last day, of SKUs
OrderUnitsOf = Callable[[date, date, Sequence[str] | None], Sequence[OrderUnits]]


def online_key(country: str) -> str:
    return f"{ONLINE}{country}"


@dataclass(frozen=True, slots=True)
class Attribution:
    """The series a run forecasts, and how the online ones come back to the nodes."""

    local: list[DemandSeries]  # per node: its own demand (every node of the history, in its order)
    online: list[DemandSeries]  # per (SKU, ship-to country): location ``online_key(country)``
    shares: dict[tuple[str, str], dict[str, float]]  # (sku, node) -> online series location -> its share

    @property
    def series(self) -> list[DemandSeries]:
        return self.local + self.online


def attribute(
    history: Sequence[DemandSeries], orders: Iterable[OrderUnits], country_of: Mapping[str, str]
) -> Attribution:
    """Split ``history`` (nodes' daily demand over one window, with ``routed`` known) into local and online
    series (module docstring). ``orders``: the orders context's units per node, day and ship-to country;
    ``country_of``: each node's country."""
    to: dict[tuple[str, str, date], dict[str, int]] = {}
    picked_up: dict[tuple[str, str, date], int] = {}
    for row in orders:
        key = (row.sku, row.location, row.day)
        if not row.shipped:
            picked_up[key] = picked_up.get(key, 0) + row.units
            continue
        per = to.setdefault(key, {})
        per[row.country] = per.get(row.country, 0) + row.units
    local: list[DemandSeries] = []
    pools: dict[tuple[str, str], list[int]] = {}  # (sku, country) -> units per day
    sent: dict[tuple[str, str], dict[str, list[int]]] = {}  # (sku, country) -> node -> units per day
    first = {s.sku: s.first_day for s in history}
    for s in history:
        if not any(s.routed):
            local.append(replace(s, routed=()))
            continue
        units = list(s.units)
        for i, routed in enumerate(s.routed):
            if routed <= 0:
                continue
            day = s.first_day + timedelta(days=i)
            left = routed - min(picked_up.get((s.sku, s.location, day), 0), routed)  # a pick-up stays local
            units[i] -= left
            known = sorted(to.get((s.sku, s.location, day), {}).items())
            for country, n in [*known, (country_of[s.location], left)]:  # the rest: the ledger alone knows it
                take = min(n, left)
                if take <= 0:
                    continue
                left -= take
                pool = pools.setdefault((s.sku, country), [0] * len(s.units))
                pool[i] += take
                sent.setdefault((s.sku, country), {}).setdefault(s.location, [0] * len(s.units))[i] += take
        local.append(replace(s, units=tuple(units), routed=()))
    out = {(s.sku, s.location): s for s in history}
    online: list[DemandSeries] = []
    shares: dict[tuple[str, str], dict[str, float]] = {}
    for (sku, country), units in sorted(pools.items()):
        nodes = sent[(sku, country)]
        censored = tuple(all(out[(sku, n)].stockout[i] for n in nodes) for i in range(len(units)))
        where = online_key(country)
        online.append(DemandSeries(sku, where, first[sku], tuple(units), censored))
        for node, share in _shares(nodes, [[out[(sku, n)].stockout[i] for n in nodes] for i in range(len(units))]):
            shares.setdefault((sku, node), {})[where] = share
    return Attribution(local, online, shares)


def _shares(nodes: Mapping[str, Sequence[int]], out: Sequence[Sequence[bool]]) -> list[tuple[str, float]]:
    """Each node's share of a country's online units, counted on the days every one of them had stock: there
    routing chose freely, so the share is its preference, not its detours around an empty shelf (a node out of
    stock sends its orders elsewhere for a while). Without such a day, over the whole window."""
    free = [i for i, flags in enumerate(out) if not any(flags)]
    if not sum(sum(units[i] for i in free) for units in nodes.values()):
        free = list(range(len(out)))
    sums = {node: sum(units[i] for i in free) for node, units in nodes.items()}
    total = sum(sums.values())
    return [(node, n / total) for node, n in sorted(sums.items())]
