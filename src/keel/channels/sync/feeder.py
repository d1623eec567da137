"""The feeder: events of other contexts turned into what the channels are owed, in the consumer's transaction.

- ``availability`` (``availability.changed``): each configured channel's quantity per (country, SKU), a new
  version of the row when it differs (a burst on one row becomes one new version with the latest value);
- ``listing`` (``listing.changed``): the content value (``state:revision``) of every country's row of the SKU;
- ``price`` (``price.changed``): the pricing engine's price per (country, SKU), a new version when it differs
  (a row that does not exist yet, a SKU the channel has no quantity for, gets its price with the next change
  of price: the pricing engine announces changes, not states);
- ``orders`` (shipped, cancelled, refunded): the updates owed to the channels whose connector takes them;
- ``order_facts`` (captured, shipped, delivered, cancelled, refunded): the facts the seller standards count.

The event types are named by the composition root: this context imports no other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from keel.channels.sync import facts_store, listing_store, store, updates_store
from keel.channels.sync.model import KIND_CAPABILITIES, Capabilities, OrderUpdate
from keel.channels.sync.standards import facts_of
from keel.platform.clock import utcnow
from keel.platform.events import Event

OrderUpdateOf = Callable[[str, dict[str, Any], int], "tuple[str, OrderUpdate] | None"]


@dataclass(frozen=True)
class FeedTypes:
    """The event types the feeder reads, as the composition root names them."""

    availability: str
    listing: str
    price: str | None = None
    orders: frozenset[str] = frozenset()
    order_facts: frozenset[str] = frozenset()
    every: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        named = {self.availability, self.listing, *self.orders, *self.order_facts}
        object.__setattr__(self, "every", frozenset(named | ({self.price} if self.price else set())))


def feed(conn: Connection, batch: list[Event], types: FeedTypes, order_update: OrderUpdateOf) -> None:
    rows = store.channel_rows(conn)
    configured = {r.channel for r in rows}
    if not configured:
        return
    takes_updates = {r.channel for r in rows if KIND_CAPABILITIES.get(r.connector, Capabilities()).shipments}
    quantities: dict[tuple[str, str, str], tuple[int, datetime]] = {}
    contents: dict[tuple[str, str], str] = {}
    prices: dict[tuple[str, str, str], str | None] = {}
    updates: list[tuple[str, OrderUpdate]] = []
    happened: list[tuple[str, dict[str, Any], datetime]] = []
    for e in batch:
        if e.type in types.order_facts:
            happened.append((e.type.split(".", 1)[1], e.data, e.recorded_at))
        if e.type == types.availability and e.subject in configured:
            for c in e.data["changes"]:
                quantities[(e.subject, c["country"], c["sku"])] = (int(c["quantity"]), e.recorded_at)
        elif e.type == types.listing:
            for item in e.data["listings"]:
                for ch in item["channels"]:
                    if ch in configured:
                        contents[(ch, item["sku"])] = f"{item['state']}:{e.data['revision']}"
        elif e.type == types.price and e.subject in configured:
            for c in e.data["changes"]:
                prices[(e.subject, c["country"], c["sku"])] = c["amount"]
        elif e.type in types.orders and takes_updates:
            found = order_update(e.type.split(".", 1)[1], e.data, e.seq)
            if found is not None and found[0] in takes_updates:
                updates.append(found)
    now = utcnow()
    store.desire(conn, [(ch, c, s, q, at) for (ch, c, s), (q, at) in quantities.items()])
    listing_store.set_content(conn, [(ch, s, v) for (ch, s), v in contents.items()], now)
    listing_store.set_price(conn, [(ch, c, s, p) for (ch, c, s), p in prices.items()], now)
    updates_store.queue(conn, updates, now)
    facts_store.apply(conn, facts_of(happened, frozenset(configured)))
