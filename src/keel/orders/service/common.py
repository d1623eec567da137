"""What several order use cases share: the sourcing policy book, the timeline, status upkeep, ledger
rows and the planner's view of a stored order."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.engine import Connection

from keel.orders.model import order_status
from keel.orders.sourcing import CostModel, Fulfilment, Order, OrderLine, Plan, Policy
from keel.orders.sourcing.spec import Sourcing, default_sourcing, parse_sourcing, with_excluded
from keel.orders.store import orders, policies, shipments
from keel.orders.views import OrderRecord, StoredPolicy, TimelineEntry
from keel.platform.clock import utcnow
from keel.platform.db import Database, Later
from keel.platform.errors import NotFound, ValidationFailed
from keel.platform.events import NewEvent, SqlEventLog
from keel.platform.scope import Scope
from keel.platform.vocabulary import OrderStatus

SOURCE = "orders"
DEFAULT_POLICY = "*"  # the sourcing policy of every channel without its own
logger = logging.getLogger("keel.orders")


class PolicyBook:
    """Each channel's sourcing policy and cost model: what capture, re-routing, backorders and waves plan
    with, read at every plan so a saved policy applies to the next order."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def stored(self, channels: Iterable[str], conn: Connection | None = None) -> dict[str, StoredPolicy]:
        """The stored documents of ``channels`` and of the "*" default, by channel (read in ``conn``'s
        transaction when given)."""
        if conn is not None:
            return policies.of_channels(conn, [*channels, DEFAULT_POLICY])()
        with self.db.read() as own:
            return policies.of_channels(own, [*channels, DEFAULT_POLICY])()

    def sourcing_for(
        self, channels: Iterable[str], conn: Connection | None = None
    ) -> tuple[dict[str, Policy], dict[str, CostModel]]:
        """Each channel's policy and cost model, from its own document, else the "*" default, else the
        built-in one."""
        wanted = sorted(set(channels))
        return _chosen(wanted, self.stored(wanted, conn))

    def policy_for(
        self, channel: str, excluded: Iterable[str] = (), conn: Connection | None = None
    ) -> tuple[Policy, CostModel]:
        """One channel's policy, with the nodes that rejected this order excluded, and its cost model."""
        found, models = self.sourcing_for([channel], conn)
        return with_excluded(found[channel], frozenset(excluded)), models[channel]

    def find_policy(self, conn: Connection, channel: str) -> Later[tuple[Policy, CostModel]]:
        """``policy_for`` (nothing excluded) read in ``conn``'s transaction and sent now (see ``Later``)."""

        def pick(rows: dict[str, StoredPolicy]) -> tuple[Policy, CostModel]:
            found, models = _chosen([channel], rows)
            return found[channel], models[channel]

        return policies.of_channels(conn, [channel, DEFAULT_POLICY]).then(pick)


def _chosen(wanted: Iterable[str], rows: dict[str, StoredPolicy]) -> tuple[dict[str, Policy], dict[str, CostModel]]:
    """Each channel's policy and cost model from the stored ``rows``: its own document, else the "*"
    default's, else the built-in one."""
    fallback = stored_sourcing(rows[DEFAULT_POLICY].document) if DEFAULT_POLICY in rows else default_sourcing()
    chosen = {ch: stored_sourcing(rows[ch].document) if ch in rows else fallback for ch in wanted}
    return {ch: s.policy for ch, s in chosen.items()}, {ch: s.model for ch, s in chosen.items()}


class Timeline:
    """Writes what happened to an order: a timeline entry and the matching ``order.<kind>`` event."""

    def __init__(self, events: SqlEventLog) -> None:
        self.events = events

    def note(
        self, conn: Connection, order_id: int, kind: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        """A timeline entry and the matching event, in the caller's transaction."""
        self.note_all(conn, order_id, [TimelineEntry(utcnow(), kind, message, data or {})])

    def note_all(self, conn: Connection, order_id: int, entries: Sequence[TimelineEntry]) -> None:
        """Several entries and their events, in the caller's transaction, one statement each (in order)."""
        self.events.append(conn, self.write(conn, order_id, entries))

    @staticmethod
    def write(conn: Connection, order_id: int, entries: Sequence[TimelineEntry]) -> list[NewEvent]:
        """Write the entries, in one statement; returns their events for the caller to append in the same
        transaction (capture appends them with the stock it commits, in one append)."""
        orders.note_many(conn, order_id, entries)
        return [
            NewEvent(f"order.{e.kind}", f"orders/{order_id}", {"order_id": order_id, **e.data}, SOURCE) for e in entries
        ]


def refresh_status(conn: Connection, order_id: int) -> OrderStatus:
    """Store the order's one-word status as its shipments and backordered units now say."""
    status = order_status(shipments.statuses(conn, order_id), orders.backordered_units(conn, order_id))
    orders.set_status(conn, order_id, status.value, utcnow())
    return status


def locked_order(conn: Connection, order_id: int, scope: Scope = Scope.ALL) -> OrderRecord:
    """The order, locked for this transaction; ``NotFound`` when there is none, ``OutOfScope`` when its
    channel or ship-to country is outside ``scope``."""
    found = orders.get(conn, order_id, lock=True)
    if found is None:
        raise NotFound(f"order {order_id} does not exist")
    check_order_scope(found, scope)
    return found


def check_order_scope(order: OrderRecord, scope: Scope) -> None:
    """Refuse (403) a write to an order of a channel or ship-to country outside ``scope``."""
    scope.check_channel(order.channel)
    scope.check_country(order.country, "the ship-to country")


def only_stock_errors(exc: ValidationFailed) -> bool:
    """The ledger refused because a position had too little: a concurrent order took the stock."""
    return bool(exc.errors) and all(e.field == "quantity" for e in exc.errors)


def movement_rows(order_id: int, kind: str, pieces: Iterable[tuple[str, str, int]]) -> list[dict[str, Any]]:
    """Ledger rows for (location, sku, quantity) pieces, merged per position, with fresh ids."""
    merged: dict[tuple[str, str], int] = {}
    for location, sku, qty in pieces:
        if qty > 0:
            merged[(location, sku)] = merged.get((location, sku), 0) + qty
    tag = uuid.uuid4().hex[:12]
    return [
        {
            "id": f"ord:{order_id}:{tag}:{i}",
            "kind": kind,
            "sku": sku,
            "location": location,
            "quantity": qty,
            "reference": f"order {order_id}",
        }
        for i, ((location, sku), qty) in enumerate(sorted(merged.items()), start=1)
    ]


def as_json(value: Any) -> Any:
    """A (nested) dataclass as JSON gives it back: dicts, lists, strings and numbers, enums by value. The
    routing entry is built this way (``asdict`` keeps tuples and enums, and deep-copies everything on the
    way) so an order built from what capture wrote equals the order read back."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    names = getattr(type(value), "__dataclass_fields__", None)
    if names is not None:
        return {name: as_json(getattr(value, name)) for name in names}
    return value


def routing_entry(trigger: str, plan: Plan, now: datetime, **extra: Any) -> dict[str, Any]:
    """A plan and its explanation as JSON: what the order page and API show under "routing"."""
    return {
        "trigger": trigger,
        "at": now.isoformat(),
        "strategy": plan.strategy,
        "nodes": list(plan.nodes),
        "splits": plan.splits,
        "allocations": as_json(plan.allocations),
        "unfilled": as_json(plan.unfilled),
        "cost": {**as_json(plan.cost), "total": round(plan.cost.total, 4)},
        "explanation": as_json(plan.explanation) if plan.explanation else None,
        **as_json(extra),
    }


def promise_hours(promise_at: datetime | None, now: datetime) -> float | None:
    return None if promise_at is None else max(0.0, (promise_at - now) / timedelta(hours=1))


def sourcing_order(order: OrderRecord, demand: Mapping[str, int], now: datetime) -> Order:
    """The planner's view of a stored order for ``demand`` (units still to place), as of ``now``."""
    return Order(
        id=str(order.id),
        channel=order.channel,
        lines=tuple(OrderLine(sku, qty) for sku, qty in demand.items()),
        # Capture always places an order (given, postal code, city or pick-up node).
        lat=order.latitude or 0.0,
        lon=order.longitude or 0.0,
        country=order.country,
        fulfilment=Fulfilment(order.fulfilment),
        promise_hours=promise_hours(order.promise_at, now),
        pickup_node=order.pickup_location,
    )


def per_sku(pieces: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Units per SKU of (sku, quantity) pairs: the planner sources SKUs, while shipments hold line pieces."""
    out: dict[str, int] = {}
    for sku, qty in pieces:
        out[sku] = out.get(sku, 0) + qty
    return out


def stored_sourcing(document: Any) -> Sourcing:
    """A saved policy document. Documents are validated when saved; one that a later version no longer
    accepts must not stop every order of the channel, so it is logged and the built-in policy applies."""
    sourcing, errors = parse_sourcing(document)
    if sourcing is None:
        logger.error("stored sourcing policy no longer valid, using the built-in one: %s", errors)
        return default_sourcing()
    return sourcing
