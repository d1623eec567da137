"""``keel channels sync ...`` commands: status, the desired state, configuration and operator actions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from keel.channels.sync.api import HealthPublic, check, drift, item, public
from keel.channels.sync.api_orders import order_update
from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, refuse
from keel.platform.errors import KeelError

app = typer.Typer(
    help="Pushing Keel's state to channels: status, dead letters, pause, resume, resync.", no_args_is_help=True
)
console = Console()
Code = Annotated[str, typer.Argument(help="the channel code, e.g. amazon-de")]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@app.command("status")
def status(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every configured channel: backlog, dead letters, lag p50/p99 and errors (last 15 minutes), owner; then
    the seller standards on each channel's orders (cancellation, late shipment, valid tracking, on-time
    delivery, order defect rate) against their thresholds. With --json: each channel's health list."""
    keel = open_keel(database_url)
    rows = [public(s) for s in keel.sync.status(cli_scope())]
    if json_out:
        emit(rows)
        return
    table = Table(
        "channel",
        "pending",
        "synced",
        "dead",
        "lag p50 s",
        "lag p99 s",
        "requests",
        "errors",
        "state",
        "owner",
        title=f"{len(rows)} channels synced",
    )
    for s in rows:
        state = "paused" if s.paused else ("waiting" if s.retry_at else "live")
        table.add_row(
            s.channel,
            str(s.pending),
            str(s.synced),
            str(s.dead),
            _seconds(s.lag_p50_s),
            _seconds(s.lag_p99_s),
            str(s.requests),
            str(s.errors),
            state,
            s.owner or "-",
        )
    console.print(table)
    standards = [(s.channel, h) for s in rows for h in s.health if h.orders is not None]
    if standards:
        console.print(_standards(standards))


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _standards(rows: list[tuple[str, HealthPublic]]) -> Table:
    """The seller standards of every channel: value over the window, the threshold with its direction, the
    status and where the projection goes (and when, if it crosses)."""
    table = Table(
        "channel", "metric", "days", "orders", "value", "threshold", "status", "projected", title="seller standards"
    )
    for channel, h in rows:
        projected = _share(h.projected)
        if h.projected_in_s is not None:
            projected += f" in {h.projected_in_s / 86400:.1f} d"
        table.add_row(
            channel,
            h.metric,
            f"{h.window_s / 86400:g}",
            str(h.orders),
            _share(h.value),
            f"{h.direction} {_share(h.threshold)}",
            h.status,
            projected,
        )
    return table


@app.command("items")
def items(
    code: Code,
    state: Annotated[str | None, typer.Option(help="pending, synced or dead (dead letters)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")] = 100,
    after: Annotated[str | None, typer.Option(help="next_after of the previous page (SKU@country)")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The channel's desired state per (country, SKU), with the version it holds and the last error."""
    keel = open_keel(database_url)
    key = None
    if after:
        sku, _, country = after.rpartition("@")
        key = (sku, country)
    try:
        rows = keel.sync.items(code, state, key, limit, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit([item(r) for r in rows])
        return
    table = Table(
        "sku",
        "country",
        "quantity",
        "version",
        "pushed",
        "state",
        "attempts",
        "last error",
        title=f"{code}: {len(rows)} rows",
    )
    for r in rows:
        table.add_row(
            r.sku,
            r.country,
            str(r.quantity),
            str(r.version),
            str(r.pushed_version),
            r.state,
            str(r.attempts),
            r.last_error or "",
        )
    console.print(table)


@app.command("configure")
def configure(
    code: Code,
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSON document, as PUT /sync/channels/{code}")
    ],
    database_url: DbOpt = None,
) -> None:
    """Set how Keel pushes to a channel (connector, url, secret, batch_size, rate_limit, window_s, ...)."""
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise refuse(f"{path}: not JSON: {exc.msg}") from exc
    keel = open_keel(database_url)
    try:
        s = keel.sync.configure(code, document, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    owed = f"{s.pending} value{'' if s.pending == 1 else 's'} owed"
    console.print(f"{code}: pushing to {s.url} ({owed})")


def _action(name: str, verb: str, method: str) -> None:
    def act(code: Code, database_url: DbOpt = None) -> None:
        keel = open_keel(database_url)
        try:
            changed = getattr(keel.sync, method)(code, cli_scope())
        except KeelError as exc:
            raise fail(exc) from exc
        console.print(f"{code}: {verb} ({int(changed)} changed)")

    act.__doc__ = {
        "pause": "Stop pushing to a channel (changes keep coalescing).",
        "resume": "Push to a paused channel again.",
        "resync": "Owe the channel every listing again (a full resync).",
        "retry": "Give the channel's dead letters another round of attempts.",
    }[name]
    app.command(name)(act)


_action("pause", "paused", "pause")
_action("resume", "resumed", "resume")
_action("resync", "every value owed again", "resync")
_action("retry", "dead letters retried", "retry_dead")


@app.command("drift")
def drift_check(code: Code, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Read the channel's values back now: find, record and correct what differs from what Keel pushed."""
    keel = open_keel(database_url)
    try:
        done = keel.sync.check_drift(code, cli_scope())
        found = keel.sync.drift_found(code, limit=done.differences, scope=cli_scope()) if done.differences else []
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit({"check": check(done), "differences": [drift(d) for d in found]})
        return
    console.print(
        f"{code}: {done.checked} values compared, {done.differences} differ "
        f"({done.corrected} pushed again, {done.adopted} adopted)"
    )
    if done.error:
        console.print(f"[red]the read back failed: {done.error}[/red] (the check stopped there)")
    if found:
        table = Table("sku", "country", "Keel pushed", "channel showed", "action", title="differences found")
        for d in found:
            shown = "-" if d.channel_quantity is None else str(d.channel_quantity)
            table.add_row(d.sku, d.country, str(d.keel_quantity), shown, d.action)
        console.print(table)


@app.command("updates")
def order_updates(
    code: Code,
    state: Annotated[str | None, typer.Option(help="pending, sent or dead (dead letters)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip (the next page: offset + limit)")] = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The shipment, cancellation and refund updates owed or sent to the channel, newest first."""
    keel = open_keel(database_url)
    try:
        rows, total = keel.sync.order_updates(code, state, limit, offset, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit({"items": [order_update(r).model_dump(mode="json") for r in rows], "total": total})
        return
    table = Table(
        "order",
        "kind",
        "lines",
        "carrier",
        "tracking",
        "state",
        "attempts",
        "last error",
        title=f"{code}: {len(rows)} of {total} order updates",
    )
    for r in rows:
        u = r.update
        lines = ", ".join(f"{q} x {sku}" for sku, q in u.lines)
        table.add_row(
            u.external_id,
            u.kind,
            lines,
            u.carrier or "",
            u.tracking or "",
            r.state,
            str(r.attempts),
            r.last_error or "",
        )
    console.print(table)
