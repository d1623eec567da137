"""``keel pricing ...`` commands: price lists, SKU costs, tax rates, policies, competitor prices, the computed
prices and their explanations, and a full recompute. Documents come as JSON files, the same documents the
HTTP API takes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page, read_document
from keel.platform.errors import KeelError
from keel.pricing.cli_promotions import app as promotions_app
from keel.pricing.engine import Recomputed
from keel.pricing.schemas import (
    CompetitorPricePublic,
    EntryPublic,
    PolicyPreviewPublic,
    PolicyPublic,
    PriceExplained,
    PriceListPublic,
    PricePublic,
    TaxRatePublic,
)

app = typer.Typer(
    help="The pricing engine: price lists, costs, tax rates, policies, computed prices, promotions and carts.",
    no_args_is_help=True,
)
app.add_typer(promotions_app)  # no name: its commands sit beside these (keel pricing promotions, cart, ...)
competitors_app = typer.Typer(help="Competitors' observed prices, read by the competitor rule.", no_args_is_help=True)
app.add_typer(competitors_app, name="competitors")
console = Console()
_err = Console(stderr=True)
Limit = Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")]
File = Annotated[Path, typer.Argument(help="a JSON document (docs/pricing.md)")]


def _figures(done: Recomputed) -> str:
    return f"{done.prices} prices computed, {done.changed} changed, {done.removed} removed in {done.seconds:.2f} s"


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


@app.command("lists")
def lists(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every price list with its scope, currency, window, priority and number of prices."""
    keel = open_keel(database_url)
    rows = [PriceListPublic.of(v) for v in keel.pricing.lists(cli_scope())]
    if json_out:
        emit(rows)
        return
    table = Table(
        "code",
        "currency",
        "channel",
        "country",
        "group",
        "from",
        "to",
        "priority",
        "prices",
        title=f"{len(rows)} price lists",
    )
    for r in rows:
        window = [r.valid_from.isoformat() if r.valid_from else "-", r.valid_to.isoformat() if r.valid_to else "-"]
        scope = [_or_dash(r.channel), _or_dash(r.country), _or_dash(r.customer_group)]
        table.add_row(r.code, r.currency, *scope, *window, str(r.priority), str(r.prices))
    console.print(table)


@app.command("list")
def show_list(
    code: Annotated[str, typer.Argument(help="the price list's code")],
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A price list and a page of its prices, amounts in the list's currency."""
    keel = open_keel(database_url)
    try:
        found = keel.pricing.get_list(code, cli_scope())
        entries, total = keel.pricing.list_prices(code, limit, offset, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    currency = found.price_list.currency
    items = [EntryPublic.of(e, currency) for e in entries]
    if json_out:
        emit({"price_list": PriceListPublic.of(found), "prices": page(items, total, limit=limit, offset=offset)})
        return
    table = Table("sku", "min qty", "amount", "compare at", title=f"{code} ({currency}): {total} prices")
    for e in items:
        table.add_row(escape(e.sku), str(e.min_quantity), e.amount, _or_dash(e.compare_at))
    console.print(table)


@app.command("set-list")
def set_list(
    code: Annotated[str, typer.Argument(help="the price list's code")], file: File, database_url: DbOpt = None
) -> None:
    """Create or replace price list CODE with the document in FILE, then recompute what it affects."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        saved, done = keel.pricing.save_list(code, document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"price list {code} saved with {saved.prices} prices; {_figures(done)}")


@app.command("delete-list")
def delete_list(code: Annotated[str, typer.Argument(help="the price list's code")], database_url: DbOpt = None) -> None:
    """Delete price list CODE, then recompute the prices it gave."""
    keel = open_keel(database_url)
    try:
        done = keel.pricing.delete_list(code)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"price list {code} deleted; {_figures(done)}")


@app.command("skus")
def skus(file: File, database_url: DbOpt = None) -> None:
    """Set SKU costs and tax classes from FILE (a JSON list of sku, cost, currency, tax_class)."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        done = keel.pricing.set_skus(document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{len(document)} SKUs saved; {_figures(done)}")


@app.command("tax")
def tax(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The tax rates: stored ones and the built-in standard rate of each country."""
    keel = open_keel(database_url)
    rows = [TaxRatePublic.of(r) for r in keel.pricing.tax_table(cli_scope())]
    if json_out:
        emit(rows)
        return
    table = Table("country", "class", "rate", "source", title=f"{len(rows)} tax rates")
    for r in rows:
        table.add_row(r.country, r.tax_class, r.rate, r.source)
    console.print(table)


@app.command("set-tax")
def set_tax(
    country: Annotated[str, typer.Argument(help="ISO 3166 code, e.g. DE")],
    tax_class: Annotated[str, typer.Argument(metavar="CLASS", help="the tax class, e.g. standard")],
    rate: Annotated[str, typer.Argument(help="a fraction, e.g. 0.19")],
    database_url: DbOpt = None,
) -> None:
    """Store the rate of a tax class in a country, then recompute that country's prices."""
    keel = open_keel(database_url)
    try:
        done = keel.pricing.set_tax_rate(country, tax_class, rate)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{country} {tax_class} taxed at {rate}; {_figures(done)}")


@app.command("policies")
def policies(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """The stored pricing policies ('*' and each channel with its own) and their rules."""
    keel = open_keel(database_url)
    rows = [PolicyPublic.of(p) for p in keel.pricing.policies(cli_scope())]
    if json_out:
        emit(rows)
        return
    table = Table("scope", "rules", "updated", title=f"{len(rows)} pricing policies")
    for p in rows:
        shown = ", ".join(str(r.get("rule")) for r in p.rules) or "(none)"
        table.add_row(escape(p.scope), escape(shown), p.updated_at.isoformat())
    console.print(table)


@app.command("set-policy")
def set_policy(
    scope: Annotated[str, typer.Argument(help="'*' (every channel without its own) or a channel code")],
    file: File,
    database_url: DbOpt = None,
) -> None:
    """Replace the rules of SCOPE with the document in FILE ({"rules": [...]}), then recompute its channels."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        saved, done = keel.pricing.set_policy(scope, document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"pricing policy {scope} saved with {len(saved.rules)} rules; {_figures(done)}")


@app.command("preview-policy")
def preview_policy(
    scope: Annotated[str, typer.Argument(help="'*' (every channel without its own) or a channel code")],
    file: File,
    days: Annotated[int, typer.Option(min=1, max=366, help="days of sales the volumes are taken from")] = 28,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What the rules in FILE ({"rules": [...]}) would do as the policy of SCOPE, before saving them: the
    prices they move and, at the units sold in the last DAYS, the net revenue a day before and after. Saves
    nothing."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        preview = PolicyPreviewPublic.of(keel.pricing.preview_policy(scope, document, days))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(preview.model_dump(mode="json"))
        return
    console.print(
        f"policy {escape(scope)} as proposed: {preview.changed:,} of {preview.prices:,} prices would change, "
        f"{preview.removed:,} would go; volumes of the last {days} days"
    )
    table = Table("currency", "prices", "up", "down", "net a day now", "net a day then")
    for e in preview.currencies:
        table.add_row(e.currency, f"{e.prices:,}", f"{e.up:,}", f"{e.down:,}", e.net_per_day_before,
                      e.net_per_day_after)  # fmt: skip
    console.print(table)
    if preview.moves:
        moves = Table("channel", "country", "sku", "now", "then", "units a day", "net a day")
        for m in preview.moves[:20]:
            moves.add_row(m.channel, m.country, escape(m.sku), m.before or "-", m.after or "-", m.units_per_day,
                          f"{m.net_per_day} {m.currency}")  # fmt: skip
        console.print(moves)


@app.command("delete-policy")
def delete_policy(
    scope: Annotated[str, typer.Argument(help="'*' or a channel code")], database_url: DbOpt = None
) -> None:
    """Drop the policy of SCOPE (a channel falls back to '*'), then recompute its channels."""
    keel = open_keel(database_url)
    try:
        done = keel.pricing.delete_policy(scope)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"pricing policy {scope} deleted; {_figures(done)}")


@app.command("prices")
def prices(
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    country: Annotated[str | None, typer.Option(help="only this country, e.g. DE")] = None,
    sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The computed prices by channel, country and SKU, a page at a time."""
    keel = open_keel(database_url)
    try:
        rows, total = keel.pricing.prices(channel, country, sku, limit, offset, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    items = [PricePublic.of(p) for p in rows]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    shown = f" ({len(items)} from {offset + 1})" if total > len(items) else ""
    table = Table(
        "channel", "country", "sku", "amount", "compare at", "currency", "list", title=f"{total} prices{shown}"
    )
    for p in items:
        table.add_row(p.channel, p.country, escape(p.sku), p.amount, _or_dash(p.compare_at), p.currency, p.price_list)
    console.print(table)


@app.command("price")
def price(
    channel: Annotated[str, typer.Argument(help="the channel code")],
    country: Annotated[str, typer.Argument(help="ISO 3166 code, e.g. DE")],
    sku: Annotated[str, typer.Argument(help="the SKU")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """One price explained: the list it came from, each step, the floor and the tax split."""
    keel = open_keel(database_url)
    try:
        found = PriceExplained.explain(keel.pricing.explain(channel, country, sku, cli_scope()))
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    basis = "with tax" if found.tax_inclusive else "before tax"
    title = f"{escape(sku)} on {channel} in {country}: {found.amount} {found.currency} ({basis})"
    table = Table("step", "before", "after", "why", title=title)
    for s in found.steps:
        table.add_row(s.rule, s.before, s.after, escape(s.note))
    console.print(table)
    t = found.tax
    console.print(f"tax class {t.tax_class} at {t.rate}: net {t.net} + tax {t.tax} = gross {t.gross}")
    if found.compare_at is not None:
        console.print(f"compare at {found.compare_at}")
    if found.floor is not None:
        console.print(f"hard floor {found.floor}")


@app.command("recompute")
def recompute(database_url: DbOpt = None) -> None:
    """Recompute every price of every active channel and country; only changed prices are written."""
    keel = open_keel(database_url)
    with _err.status("recomputing every price"):
        done = keel.pricing.recompute()
    console.print(f"{_figures(done)}; changed prices are announced as price.changed")


@competitors_app.command("set")
def set_competitors(file: File, database_url: DbOpt = None) -> None:
    """Record competitor prices from FILE (a JSON list of competitor, country, sku, currency, amount,
    observed_at), then recompute those SKUs in those countries when a policy has a competitor rule."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        saved = keel.pricing.competitors.save(document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{saved.saved} competitor prices recorded; {_figures(saved.recomputed)}")


@competitors_app.command("list")
def list_competitors(
    competitor: Annotated[str | None, typer.Option(help="only this competitor")] = None,
    country: Annotated[str | None, typer.Option(help="only this country, e.g. DE")] = None,
    sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The stored competitor prices by SKU, country and competitor, a page at a time."""
    keel = open_keel(database_url)
    rows, total = keel.pricing.competitors.page(competitor, country, sku, limit, offset, cli_scope())
    items = [CompetitorPricePublic.of(c) for c in rows]
    if json_out:
        emit(page(items, total, limit=limit, offset=offset))
        return
    shown = f" ({len(items)} from {offset + 1})" if total > len(items) else ""
    table = Table(
        "sku", "country", "competitor", "amount", "currency", "observed", title=f"{total} competitor prices{shown}"
    )
    for c in items:
        table.add_row(escape(c.sku), c.country, c.competitor, c.amount, c.currency, c.observed_at.isoformat())
    console.print(table)
