"""``keel orders ...`` commands: enough to capture, inspect, ship and cancel from a terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.cli_support import EXIT_NOT_FOUND, DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page, refuse
from keel.orders import AdvanceShipment, CancelOrder, PlanWave, capture_command
from keel.orders.model import short_of
from keel.platform.errors import KeelError
from keel.platform.vocabulary import OrderStatus, ShipmentStatus

app = typer.Typer(help="Orders: capture, routing, fulfilment.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)
OrderId = Annotated[int, typer.Argument(help="the order number (keel orders list shows them)")]
STATUSES = ", ".join(s.value for s in OrderStatus)


def _fail(exc: KeelError) -> typer.Exit:
    return fail(exc, label="line")


@app.command("list")
def list_orders(
    database_url: DbOpt = None,
    channel: Annotated[str | None, typer.Option(help="only this channel's orders")] = None,
    status: Annotated[str | None, typer.Option(help=f"only orders in this status: {STATUSES}")] = None,
    country: Annotated[str | None, typer.Option(help="only orders shipped to this ISO country, e.g. DE")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="rows in one page")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip (the next page: offset + limit)")] = 0,
    json_out: JsonOpt = False,
) -> None:
    """The newest orders, with the split, on-time and same-day rates of the orders matching the filters."""
    if status is not None and status not in set(OrderStatus):
        raise refuse(f"unknown order status {status!r}; one of {STATUSES}")
    keel = open_keel(database_url)
    scope = cli_scope()
    try:
        if channel is not None:
            keel.channels.get(channel, scope=scope)  # a mistyped code is named, not an empty list
    except KeelError as exc:
        raise _fail(exc) from exc
    found = keel.orders.reads.list(
        channel=channel, status=status, country=country, limit=limit, offset=offset, scope=scope
    )
    m = keel.orders.reads.metrics(channel=channel, country=country, scope=scope)
    if json_out:
        emit({**page(found.items, found.total, limit=limit, offset=offset), "metrics": m})
        return
    table = Table(
        "id", "channel", "external id", "status", "fulfilment", "units", "nodes", title=f"{found.total} orders"
    )
    for o in found.items:
        table.add_row(str(o.id), o.channel, o.external_id, o.status, o.fulfilment, str(o.units), ",".join(o.nodes))
    console.print(table)
    console.print(
        " · ".join(
            f"{label} {'-' if rate is None else format(rate, '.1%')}"
            for label, rate in (("split", m.split_rate), ("on time", m.on_time_rate), ("same day", m.same_day_rate))
        )
    )


@app.command("show")
def show_order(order_id: OrderId, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One order: lines, shipments, timeline and the routing explanation."""
    keel = open_keel(database_url)
    try:
        order = keel.orders.reads.get(order_id, scope=cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    if json_out:
        emit(order)
        return
    console.print(f"[bold]order {order.id}[/bold] {order.channel}/{order.external_id} {order.status}")
    for line in order.lines:
        console.print(
            f"  line {line.line_no}: {line.quantity} x {line.sku} at {line.unit_price}"
            f" (committed {line.committed}, shipped {line.shipped}, cancelled {line.cancelled},"
            f" backordered {line.backordered})"
        )
    for s in order.shipments:
        units = ", ".join(f"{p.quantity} x {p.sku}" for p in s.lines if p.quantity)
        console.print(f"  shipment {s.number} from {s.location}: {s.status.value} ({units})")
    for t in order.timeline:
        console.print(f"  {t.at:%Y-%m-%d %H:%M:%S} {t.kind}: {t.message}")
    for r in order.routing:
        e = r["explanation"] or {}
        console.print(
            f"  routing ({r['trigger']}): {' + '.join(r['nodes']) or 'no node'} cost {r['cost']['total']:.2f}"
        )
        for x in e.get("rejections", []):
            console.print(f"    rejected {x['node']}: {x['filter']}: {x['reason']}")
        for rank, p in enumerate(e.get("ranking", []), start=1):
            console.print(f"    #{rank} {'+'.join(p['nodes'])} splits={p['splits']} cost={p['cost']:.2f}")


@app.command("capture")
def capture_order(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="JSON document, as POST /orders")],
    database_url: DbOpt = None,
) -> None:
    """Capture an order from a JSON file (idempotent by channel and external_id)."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise refuse(f"{path}: not JSON: {exc.msg}") from exc
    if not isinstance(document, dict):
        raise refuse(f"{path}: an order is a JSON object")
    keel = open_keel(database_url)
    try:
        captured = keel.orders.capture.place(capture_command(document), scope=cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    order = captured.order
    verb = "captured" if captured.created else "already captured:"
    nodes = ", ".join(s.location for s in order.shipments) or "no node"
    console.print(f"{verb} order {order.id} ({order.status}), routed to {nodes}")


@app.command("ship")
def ship(
    order_id: OrderId,
    number: Annotated[int, typer.Argument(help="shipment (allocation) number")],
    carrier: Annotated[str, typer.Option(help="carrier name")],
    tracking: Annotated[str, typer.Option(help="tracking number")],
    walk: Annotated[bool, typer.Option(help="pick and pack first when the shipment is not packed yet")] = False,
    database_url: DbOpt = None,
) -> None:
    """Ship one shipment of an order (it must be packed, or use --walk)."""
    keel = open_keel(database_url)
    scope = cli_scope()
    try:
        if walk:
            shipment = keel.orders.reads.get(order_id, scope=scope).shipment(number)
            if shipment is None:
                raise refuse(f"order {order_id} has no shipment {number}", EXIT_NOT_FOUND)
            for step in (ShipmentStatus.PICKING, ShipmentStatus.PACKED):
                if short_of(shipment.status, step):
                    keel.orders.fulfilment.advance(AdvanceShipment(order_id, number, step), scope=scope)
        command = AdvanceShipment(order_id, number, ShipmentStatus.SHIPPED, carrier, tracking)
        order = keel.orders.fulfilment.advance(command, scope=scope)
    except KeelError as exc:
        raise _fail(exc) from exc
    console.print(f"order {order_id} shipment {number} shipped with {carrier} ({tracking}); order is {order.status}")


@app.command("cancel")
def cancel(
    order_id: OrderId,
    line: Annotated[int | None, typer.Option(help="cancel part of this line only")] = None,
    quantity: Annotated[int | None, typer.Option(help="units of --line to cancel")] = None,
    reason: Annotated[str, typer.Option(help="why, kept in the order's timeline")] = "",
    database_url: DbOpt = None,
) -> None:
    """Cancel an order (everything not shipped) or --quantity units of one --line."""
    if (line is None) != (quantity is None):
        raise refuse("give --line and --quantity together, or neither")
    lines = None if line is None or quantity is None else ((line, quantity),)
    keel = open_keel(database_url)
    try:
        order = keel.orders.fulfilment.cancel(CancelOrder(order_id, lines, reason), scope=cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    console.print(f"order {order_id} is {order.status}")


@app.command("wave")
def wave(
    country: Annotated[str | None, typer.Option(help="only orders shipping to this ISO country")] = None,
    channel: Annotated[str | None, typer.Option(help="only orders of this channel")] = None,
    limit: Annotated[int, typer.Option(help="the oldest allocated orders taken into the wave (1-1000)")] = 200,
    apply: Annotated[bool, typer.Option("--apply", help="move the orders (default: report only)")] = False,
    time_limit: Annotated[float, typer.Option(help="solver time limit in seconds")] = 20.0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-optimise allocated orders jointly (one batch program); --apply moves the ones that get cheaper."""
    keel = open_keel(database_url)
    try:
        with err.status("solving the wave"):
            report = keel.orders.waves.plan(PlanWave(country, channel, limit, apply, time_limit), cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    if json_out:
        emit(report)
        return
    table = Table("order", "channel", "from", "to", "cost before", "cost after", title="orders the wave moves")
    for c in report.changes:
        table.add_row(
            str(c.order_id),
            c.channel,
            ",".join(c.before["nodes"]),
            ",".join(c.after["nodes"]),
            f"{c.before['cost']:.2f}",
            f"{c.after['cost']:.2f}",
        )
    if report.changes:
        console.print(table)
    verb = "moved" if apply else "would move"
    console.print(
        f"{report.orders_considered} orders considered, {verb} {report.orders_changed}; "
        f"cost {report.cost_before:.2f} -> {report.cost_after:.2f} (saving {report.saving:.2f}), "
        f"splits {report.splits_before} -> {report.splits_after}; solver {report.status} "
        f"in {report.seconds:.2f} s" + ("" if apply or not report.changes else "; add --apply")
    )


@app.command("fill-backorders")
def fill_backorders(
    limit: Annotated[int, typer.Option(help="oldest waiting orders to try (1-1000)")] = 200,
    database_url: DbOpt = None,
) -> None:
    """Source backordered units against live stock now (the worker also does it after stock moves)."""
    keel = open_keel(database_url)
    try:
        report = keel.orders.backorders.fill(limit=limit, scope=cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    for f in report.filled:
        console.print(f"order {f.order_id}: {f.units} units at {', '.join(f.nodes)}")
    console.print(
        f"{report.orders_waiting} orders waiting, {report.orders_filled} got stock ({report.units_allocated} units)"
    )


policy_app = typer.Typer(help="Sourcing policies as data, per channel or '*' for the default.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
PolicyChannel = Annotated[str, typer.Argument(help="a channel code, or '*' for the default policy")]


@policy_app.command("show")
def policy_show(channel: PolicyChannel, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The policy in effect for CHANNEL, every filter with its numbers."""
    keel = open_keel(database_url)
    try:
        found = keel.orders.policies.get(channel, cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    if json_out:
        emit(found)
        return
    console.print(f"{channel}: {found.source} policy")
    console.print_json(json.dumps(found.effective))


@policy_app.command("set")
def policy_set(
    channel: PolicyChannel,
    file: Annotated[Path, typer.Argument(help="the policy as a JSON document (docs/orders.md)")],
    database_url: DbOpt = None,
) -> None:
    """Replace CHANNEL's policy with the JSON document in FILE ('*': every channel without its own)."""
    try:
        document = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise refuse(f"{file}: {exc}") from exc
    keel = open_keel(database_url)
    try:
        keel.orders.policies.set(channel, document, cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    console.print(f"sourcing policy of {channel} saved; it applies to the next order planned")


@policy_app.command("reset")
def policy_reset(channel: PolicyChannel, database_url: DbOpt = None) -> None:
    """Drop CHANNEL's own policy: it falls back to '*', then to the built-in policy."""
    keel = open_keel(database_url)
    try:
        keel.orders.policies.delete(channel, cli_scope())
    except KeelError as exc:
        raise _fail(exc) from exc
    console.print(f"{channel} now follows the default sourcing policy")
