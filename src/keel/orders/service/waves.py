"""Waves: re-optimise allocated orders jointly (the batch program) before the floor starts picking them.

Real-time sourcing plans each order alone, at capture, against the stock of that moment. A wave takes the
orders that are still only allocated, gives their committed units back to the network in memory, and
lets the mixed-integer program place all of them at once against stock and node capacity. Orders whose
joint plan is cheaper move in one transaction through the ledger (uncommit at the old nodes, commit at the
new ones); a dry run only reports what would change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import StockService
from keel.orders.model import Assigned, assign
from keel.orders.service.common import (
    SOURCE,
    PolicyBook,
    Timeline,
    locked_order,
    movement_rows,
    only_stock_errors,
    per_sku,
    refresh_status,
    routing_entry,
    sourcing_order,
)
from keel.orders.service.inputs import SourcingInputs
from keel.orders.sourcing import Allocation, CostModel, Network, Order, Plan, Policy, plan_cost
from keel.orders.sourcing.batch import WaveResult, plan_wave
from keel.orders.store import orders, reads, shipments
from keel.orders.views import OrderRecord, Piece, PlanWave, WaveChange, WaveReport
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, ValidationFailed
from keel.platform.geo import COUNTRIES
from keel.platform.scope import Scope
from keel.platform.vocabulary import OrderStatus, ShipmentStatus

MAX_WAVE = 1000
MIN_FILL_PENALTY = 1_000.0
EPSILON = 1e-6


class WaveStale(Conflict):
    """Orders or stock changed between reading the wave and writing it: planning again may well succeed
    (unlike a plan that breaks an invariant, which is a plain ``Conflict`` and is not retried)."""


@dataclass
class _Held:
    """An order of the wave: its row, the open pieces it holds now, and the planner's view of it."""

    row: OrderRecord
    pieces: list[Piece]
    order: Order

    @property
    def allocations(self) -> tuple[Allocation, ...]:
        merged: dict[tuple[str, str], int] = {}
        for p in self.pieces:
            merged[(p.location, p.sku)] = merged.get((p.location, p.sku), 0) + p.quantity
        return tuple(Allocation(node, sku, qty) for (node, sku), qty in sorted(merged.items()))


class WaveOrders:
    """Joint re-planning of allocated orders."""

    def __init__(
        self, db: Database, stock: StockService, inputs: SourcingInputs, book: PolicyBook, timeline: Timeline
    ) -> None:
        self.db = db
        self.stock = stock
        self.inputs = inputs
        self.book = book
        self.timeline = timeline

    def plan(self, command: PlanWave, scope: Scope = Scope.ALL) -> WaveReport:
        """Plan the oldest ``limit`` allocated, shipped-to-customer orders (optionally of one country or
        channel; only orders in ``scope``) as one wave; with ``apply`` move the orders whose joint plan is
        cheaper. Returns the report: orders considered, changed, cost before and after, every change, and the
        attempts made."""
        country, channel, limit, apply, time_limit_s = (
            command.country,
            command.channel,
            command.limit,
            command.apply,
            command.time_limit_s,
        )
        self._check_wave_args(country, channel, limit, time_limit_s)
        matching = reads.OrderFilter(
            channel=channel, country=country, channels=scope.channels, countries=scope.countries
        )
        for attempt in (1, 2):
            try:
                return replace(self._wave_once(matching, limit, apply, time_limit_s), attempts=attempt)
            except WaveStale:
                # An order was picked or stock moved while the program solved: plan once more from what is
                # there now (the touched orders drop out of the wave); a second clash is the caller's to see.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _wave_once(self, matching: reads.OrderFilter, limit: int, apply: bool, time_limit_s: float) -> WaveReport:
        with self.db.read() as conn:
            held = self._held(conn, matching, limit)
        now = utcnow()
        policies, models = self.book.sourcing_for(h.row.channel for h in held)
        network, held, skipped = self._released_network(held, now)
        before = {h.order.id: plan_cost(h.order, h.allocations, network.nodes, models[h.order.channel]) for h in held}
        # Every current plan is a feasible answer, so an unfilled unit dearer than all of them together can
        # never be part of the optimum unless an order's current plan is no longer allowed.
        penalty = 2 * sum(c.total for c in before.values()) + MIN_FILL_PENALTY
        must_fill = {ch: replace(m, unfilled_per_unit=penalty) for ch, m in models.items()}
        result, kept = self._solve(held, network, policies, must_fill, time_limit_s)
        plans = {p.order_id: p for p in result.plans} if result else {}
        # The joint plan holds only as a whole: one order may get dearer so that another gets cheaper.
        changes = [
            (h, plans[h.order.id])
            for h in held
            if h.order.id in plans and set(plans[h.order.id].allocations) != set(h.allocations)
        ]
        if sum(before[h.order.id].total - p.cost.total for h, p in changes) <= EPSILON:
            changes = []
        applied = False
        if apply and changes:
            self._apply(changes, before, now)
            applied = True
        cost_before = sum(c.total for c in before.values())
        saving = sum(before[h.order.id].total - p.cost.total for h, p in changes)
        splits = {h.order.id: max(0, len({a.node for a in h.allocations}) - 1) for h in held}
        moved = {h.order.id: p.splits for h, p in changes}
        return WaveReport(
            applied=applied,
            orders_considered=len(held) + len(skipped),
            orders_planned=len(held) - len(kept),
            orders_changed=len(changes),
            kept=tuple(sorted(int(order_id) for order_id in [*kept, *skipped])),
            cost_before=round(cost_before, 2),
            cost_after=round(cost_before - saving, 2),
            saving=round(saving, 2),
            splits_before=sum(splits.values()),
            splits_after=sum(moved.get(k, v) for k, v in splits.items()),
            status=result.status if result else "empty",
            seconds=round(result.seconds, 3) if result else 0.0,
            attempts=1,
            changes=tuple(self._change(h, p, before[h.order.id].total) for h, p in changes),
        )

    # -- reading the wave ---------------------------------------------------------------------------------
    def _check_wave_args(self, country: str | None, channel: str | None, limit: int, time_limit_s: float) -> None:
        errors = []
        if not 1 <= limit <= MAX_WAVE:
            errors.append(FieldError(None, "limit", f"between 1 and {MAX_WAVE}"))
        if country is not None and country not in COUNTRIES:
            errors.append(FieldError(None, "country", f"unknown ISO country {country!r}"))
        if not 0 < time_limit_s <= 300:
            errors.append(FieldError(None, "time_limit_s", "above 0 and at most 300 seconds"))
        if errors:
            raise ValidationFailed("invalid wave", errors)
        if channel is not None:
            self.inputs.channel(channel)  # NotFound for an unknown channel

    @staticmethod
    def _held(conn: Connection, matching: reads.OrderFilter, limit: int) -> list[_Held]:
        rows = reads.wave_candidates(conn, matching, limit)
        pieces = shipments.pieces_by_order(conn, [r.id for r in rows], [ShipmentStatus.ALLOCATED]) if rows else {}
        now = utcnow()
        out = []
        for row in rows:
            mine = pieces.get(row.id, [])
            if not mine:
                continue
            order = sourcing_order(row, per_sku((p.sku, p.quantity) for p in mine), now)
            out.append(_Held(row, mine, order))
        return out

    def _released_network(self, held: list[_Held], now: datetime) -> tuple[Network, list[_Held], list[str]]:
        """One network for the whole wave with the wave's own units given back (stock and today's capacity),
        and each order limited to its channel's sources minus the nodes that rejected it. Orders holding
        units at a node that is no longer a source (deactivated, policy changed) keep their plan."""
        sources: dict[tuple[str, str], frozenset[str]] = {}
        for h in held:
            key = (h.row.channel, h.row.country)
            if key not in sources:
                sources[key] = frozenset(self.inputs.sources(*key))
        skus = sorted({p.sku for h in held for p in h.pieces})
        network = self.inputs.network_of(skus, set().union(*sources.values()) if sources else set())
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        planned, skipped = [], []
        for h in held:
            allowed = sources[(h.row.channel, h.row.country)] - set(h.row.excluded_nodes)
            if any(p.location not in allowed or p.location not in network.nodes for p in h.pieces):
                skipped.append(h.order.id)
                continue
            h.order = replace(h.order, sources=allowed)
            for p in h.pieces:
                network.receive(p.location, p.sku, p.quantity)
                if p.created_at >= midnight:
                    node = network.nodes[p.location]
                    node.used = max(0, node.used - p.quantity)
            planned.append(h)
        return network, planned, skipped

    @staticmethod
    def _solve(
        held: list[_Held],
        network: Network,
        policies: Mapping[str, Policy],
        models: Mapping[str, CostModel],
        time_limit_s: float,
    ) -> tuple[WaveResult | None, list[str]]:
        """Solve; an order the program cannot fully place (its current nodes fell out of policy) keeps
        its plan: its units go back out of the network and the rest is solved again."""
        kept: list[str] = []
        wave = list(held)
        result = None
        for _ in range(3):
            if not wave:
                return None, kept
            result = plan_wave(
                [h.order for h in wave],
                network,
                models=models,
                time_limit_s=time_limit_s,
                incumbent={h.order.id: h.allocations for h in wave},
                policies=policies,
            )
            short = {p.order_id for p in result.plans if p.unfilled}
            if not short and result.status in ("optimal", "feasible"):
                return result, kept
            for h in wave:
                if h.order.id in short or result.status not in ("optimal", "feasible"):
                    cost = plan_cost(h.order, h.allocations, network.nodes, models[h.order.channel])
                    # The plan is in place already: its node may be full today (or closed since) and still
                    # hold these units for this order.
                    network.commit(Plan(h.order.id, "current", h.allocations, (), cost), within_capacity=False)
                    kept.append(h.order.id)
            wave = [h for h in wave if h.order.id not in kept]
        return None, kept

    # -- writing ------------------------------------------------------------------------------------------
    def _apply(self, changes: list[tuple[_Held, Plan]], before: Mapping[str, Any], now: datetime) -> None:
        """Move every changed order in one transaction, or none: an order touched since the wave was read
        is a ``Conflict``, and stock taken meanwhile makes the ledger refuse (nothing is oversold).

        Locks are taken in the order every other writer takes them (order rows, then the ledger, then the
        event log), order rows sorted by id, so a wave cannot deadlock with pickers, captures or receipts."""
        ordered = sorted(changes, key=lambda c: c[0].row.id)
        try:
            with self.db.write() as conn:
                rows = {h.row.id: self._check(conn, h) for h, _ in ordered}
                released: list[dict[str, Any]] = []
                taken: list[dict[str, Any]] = []
                moved: list[tuple[_Held, Plan, list[int], list[int]]] = []
                for h, plan in ordered:
                    old, new, numbers = self._move(conn, h, plan, now)
                    released += movement_rows(
                        h.row.id, "uncommitted", [(p.location, p.sku, p.quantity) for p in h.pieces]
                    )
                    taken += movement_rows(h.row.id, "committed", [(a.node, a.sku, a.quantity) for a in new])
                    moved.append((h, plan, old, numbers))
                # Every release before any commit: one order's new node may use what another order left.
                self.stock.apply_in(conn, released + taken, SOURCE)
                for h, plan, old, numbers in moved:
                    self._record(conn, rows[h.row.id], h, plan, before[h.order.id].total, old, numbers, now)
        except ValidationFailed as exc:
            if not only_stock_errors(exc):
                raise
            raise WaveStale("stock moved while the wave was planned; nothing was changed, plan the wave again") from exc

    @staticmethod
    def _check(conn: Connection, h: _Held) -> OrderRecord:
        """Lock the order and make sure it still holds exactly what the wave planned with."""
        order_id = h.row.id
        row = locked_order(conn, order_id)
        was = {(p.number, p.line_no, p.quantity, ShipmentStatus.ALLOCATED) for p in h.pieces}
        if row.status != OrderStatus.ALLOCATED or shipments.live_holdings(conn, order_id) != was:
            raise WaveStale(f"order {order_id} changed while the wave was planned; nothing was changed, plan again")
        return row

    def _move(
        self, conn: Connection, h: _Held, plan: Plan, now: datetime
    ) -> tuple[list[int], list[Assigned], list[int]]:
        """Close the order's shipments as replanned and open the new ones; returns (old shipment numbers,
        new pieces, new shipment numbers)."""
        order_id = h.row.id
        new, short = assign(
            [(p.line_no, p.sku, p.quantity) for p in h.pieces],
            [(a.node, a.sku, a.qty) for a in plan.allocations],
        )
        held = per_sku((p.sku, p.quantity) for p in h.pieces)
        if (
            short or per_sku((piece.sku, piece.quantity) for piece in new) != held
        ):  # the program was told to place every unit; refuse rather than lose any
            raise Conflict(f"order {order_id}: the wave plan does not place every unit it holds; nothing was changed")
        for p in h.pieces:
            shipments.take(conn, order_id, p.number, p.line_no, p.quantity, "moved")
        old = sorted({p.number for p in h.pieces})
        shipments.close(conn, order_id, old, ShipmentStatus.REPLANNED, now)
        return old, new, shipments.add(conn, order_id, new, now)

    def _record(
        self,
        conn: Connection,
        row: OrderRecord,
        h: _Held,
        plan: Plan,
        cost_before: float,
        old: list[int],
        numbers: list[int],
        now: datetime,
    ) -> None:
        """Routing history, timeline and event (the event log's lock comes last, as for every writer)."""
        order_id = row.id
        routing = [*row.routing, routing_entry("wave", plan, now, cost_before=round(cost_before, 4))]
        orders.set_routing(conn, order_id, routing)
        self.timeline.note(
            conn,
            order_id,
            "replanned",
            f"wave moved shipments {', '.join(map(str, old))} ({', '.join(sorted({p.location for p in h.pieces}))})"
            f" to {', '.join(plan.nodes)}: cost {cost_before:.2f} -> {plan.cost.total:.2f}",
            {"from_shipments": old, "to_shipments": numbers, "nodes": list(plan.nodes)},
        )
        refresh_status(conn, order_id)

    @staticmethod
    def _change(h: _Held, plan: Plan, cost_before: float) -> WaveChange:
        return WaveChange(
            order_id=h.row.id,
            channel=h.row.channel,
            external_id=h.row.external_id,
            before={"nodes": sorted({p.location for p in h.pieces}), "cost": round(cost_before, 4)},
            after={
                "nodes": list(plan.nodes),
                "cost": round(plan.cost.total, 4),
                "allocations": [asdict(a) for a in plan.allocations],
            },
        )
