"""``keel pricing ...`` commands for promotions, their coupon codes and carts: promotions kept as JSON documents
(the same documents the HTTP API takes), a cart evaluated and explained line by line, a cart redeemed under a
reference. Amounts print as decimal strings in their currency; ``--json`` prints them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel, page, read_document, refuse
from keel.platform.errors import KeelError
from keel.platform.money import plain
from keel.pricing.carts import CartView, PromotionView
from keel.pricing.model.wording import audience, offer, percent, stacking
from keel.pricing.schemas_promotions import CartPublic, PromotionPreviewPublic, PromotionPublic, RedeemedPublic

app = typer.Typer()
console = Console()
Code = Annotated[str, typer.Argument(help="the promotion's code, e.g. summer-sale")]
Limit = Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")]
File = Annotated[Path, typer.Argument(help="a JSON document (docs/pricing.md)")]
STATUSES = ("live", "scheduled", "ended", "off")


def _money(minor: int | None, currency: str | None) -> str | None:
    return None if minor is None or currency is None else plain(minor, currency)


def _promotion(v: PromotionView) -> dict[str, Any]:
    """A promotion for ``--json``: what the HTTP API answers."""
    return PromotionPublic.of(v).model_dump(mode="json")


def _cart(view: CartView) -> dict[str, Any]:
    """An evaluated cart for ``--json``: what the HTTP API answers."""
    return CartPublic.of(view).model_dump(mode="json")


@app.command("promotions")
def promotions(
    status: Annotated[str | None, typer.Option(help="only live, scheduled, ended or off promotions")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The promotions by code: what each gives, to whom, how it stacks, its window, uses and spend."""
    if status is not None and status not in STATUSES:
        raise refuse(f"--status {status!r}: one of {', '.join(STATUSES)}")
    keel = open_keel(database_url)
    views, total = keel.promotions.promotions(cli_scope(), status, limit, offset)
    if json_out:
        emit(page([_promotion(v) for v in views], total, limit=limit, offset=offset))
        return
    shown = f" ({len(views)} from {offset + 1})" if total > len(views) else ""
    columns = ("code", "status", "offer", "for", "priority", "stacking", "uses", "spent", "valid")
    table = Table(*columns, title=f"{total} promotions{shown}")
    for v in views:
        p = v.promotion
        uses = f"{v.uses:,}" + (f" / {p.usage_limit:,}" if p.usage_limit is not None else "")
        spent = _money(v.spent, p.currency) or "-"
        if p.budget is not None:
            spent += f" / {_money(p.budget, p.currency)}"
        if p.currency is not None:
            spent += f" {p.currency}"
        table.add_row(
            escape(p.code), v.status, escape(offer(p)) + (" (coupon)" if p.coupon else ""), escape(audience(p)),
            str(p.priority), stacking(p), uses, spent, _window(v),
        )  # fmt: skip
    console.print(table)


def _window(v: PromotionView) -> str:
    p = v.promotion
    start = p.valid_from.strftime("%Y-%m-%d %H:%M") if p.valid_from else "always"
    end = p.valid_to.strftime("%Y-%m-%d %H:%M") if p.valid_to else "open"
    return f"{start} → {end}"


@app.command("promotion")
def promotion(code: Code, database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """One promotion: its document, what it gives in words, its status and counters."""
    keel = open_keel(database_url)
    try:
        v = keel.promotions.get(code, cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(_promotion(v))
        return
    p = v.promotion
    budget = f" of a budget of {_money(p.budget, p.currency)} {p.currency}" if p.budget is not None else ""
    gave = f"{_money(v.spent, p.currency)} {p.currency}" if p.currency else "-"
    limit = f" of at most {p.usage_limit:,}" if p.usage_limit is not None else ""
    named = f" {escape(p.name)}" if p.name != p.code else ""
    console.print(f"[bold]{escape(p.code)}[/bold]{named}: {v.status}")
    console.print(f"gives {escape(offer(p))} to {escape(audience(p))}; priority {p.priority}, {stacking(p)}")
    console.print(f"valid {_window(v)}; {'coupon: needs one of its codes; ' if p.coupon else ''}{p.kind} ({p.klass})")
    console.print(f"used {v.uses:,} time(s){limit}; gave {gave}{budget}")
    console.print_json(data=v.document)


@app.command("set-promotion")
def set_promotion(code: Code, file: File, database_url: DbOpt = None) -> None:
    """Create or replace promotion CODE with the document in FILE; refused whole when anything is invalid."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        saved = keel.promotions.save(code, document)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"promotion {code} saved ({saved.status}): {escape(offer(saved.promotion))}")


@app.command("delete-promotion")
def delete_promotion(code: Code, database_url: DbOpt = None) -> None:
    """Delete promotion CODE and its coupon codes (what it gave stays in the redemptions)."""
    keel = open_keel(database_url)
    try:
        keel.promotions.delete(code)
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"promotion {code} deleted")


@app.command("codes")
def codes(
    code: Code, limit: Limit = 100, offset: Offset = 0, database_url: DbOpt = None, json_out: JsonOpt = False
) -> None:
    """The coupon codes of promotion CODE, a page at a time, each with its uses and limit."""
    keel = open_keel(database_url)
    try:
        found, total = keel.promotions.codes(code, limit, offset)
    except KeelError as exc:
        raise fail(exc) from exc
    rows = [{"code": c.code, "uses": c.uses, "max_uses": c.max_uses} for c in found]
    if json_out:
        emit(page(rows, total, limit=limit, offset=offset))
        return
    table = Table("code", "uses", "max uses", title=f"{code}: {total:,} codes")
    for c in found:
        table.add_row(c.code, f"{c.uses:,}", "unlimited" if c.max_uses is None else f"{c.max_uses:,}")
    console.print(table)


@app.command("add-codes")
def add_codes(
    code: Code,
    count: Annotated[int, typer.Option(min=0, help="codes to generate: the prefix, then 10 random characters")] = 0,
    prefix: Annotated[str, typer.Option(help="the generated codes' prefix, e.g. XMAS-")] = "",
    given: Annotated[list[str] | None, typer.Option("--code", help="a code of your own (repeat for more)")] = None,
    max_uses: Annotated[int, typer.Option(min=1, help="uses each code allows (1: single use)")] = 1,
    unlimited: Annotated[bool, typer.Option("--unlimited", help="codes usable any number of times")] = False,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Add coupon codes to coupon promotion CODE: generated ones, your own, or both; prints the new codes."""
    keel = open_keel(database_url)
    try:
        new = keel.promotions.add_codes(
            code, count=count, codes=given or (), prefix=prefix, max_uses=None if unlimited else max_uses
        )
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit({"promotion": code, "added": new})
        return
    for c in new:  # one a line on stdout: ready for a mail merge or a file
        print(c)


@app.command("cart")
def cart(
    file: Annotated[Path | None, typer.Argument(help="a cart document (docs/pricing.md)")] = None,
    order: Annotated[int | None, typer.Option(min=1, help="price this captured order's lines instead")] = None,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate the cart in FILE (channel, country, lines, customer, codes, shipping), or a captured order's
    lines with --order ID (FILE then optional: its codes, customer and shipping), without counting anything:
    each line's price and list, its discounts, tax and totals, which promotions applied or not and why."""
    if file is None and order is None:
        refuse("give a cart FILE, or --order ID")
    document = read_document(file) if file is not None else None
    keel = open_keel(database_url)
    try:
        if order is not None:
            view = keel.promotions.price_order(order, document, cli_scope())
        else:
            view = keel.promotions.evaluate(document, cli_scope())
    except KeelError as exc:
        raise fail(exc, label="line") from exc
    if json_out:
        emit(_cart(view))
        return
    _print_cart(view)


@app.command("preview-promotion")
def preview_promotion(
    code: Code,
    file: File,
    days: Annotated[int, typer.Option(min=1, max=366, help="how far back orders are replayed")] = 28,
    limit: Annotated[int, typer.Option(min=1, max=20_000, help="at most this many of the latest orders")] = 2000,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """What saving FILE as promotion CODE would do to the latest orders, replayed as carts at today's prices:
    per currency the discount and the net revenue before and after, and the SKUs it moves most. Saves
    nothing."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        preview = keel.promotions.preview(code, document, days, limit)
    except KeelError as exc:
        raise fail(exc) from exc
    out = PromotionPreviewPublic.of(preview)
    if json_out:
        emit(out.model_dump(mode="json"))
        return
    console.print(
        f"{escape(code)}: {out.carts:,} order(s) of {out.days:g} day(s) replayed, {out.unpriced:,} not priceable "
        f"today; it would apply to {out.applied:,}"
    )
    table = Table("currency", "carts", "discount now", "with it", "net now", "with it", "net change per day")
    for c in out.currencies:
        table.add_row(c.currency, f"{c.carts:,}", c.discount_before, c.discount_after, c.net_before, c.net_after,
                      c.net_change_per_day)  # fmt: skip
    console.print(table)
    if out.skus:
        moved = Table("channel", "country", "sku", "units", "discount now", "with it")
        for x in out.skus[:20]:
            moved.add_row(x.channel, x.country, escape(x.sku), f"{x.units:,}",
                          f"{x.discount_before} {x.currency}", f"{x.discount_after} {x.currency}")  # fmt: skip
        console.print(moved)


@app.command("redeem")
def redeem(
    reference: Annotated[str, typer.Argument(help="what the cart became: an order number, a receipt")],
    file: File,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Evaluate the cart in FILE and count what applied under REFERENCE (uses, codes, budgets), once: a
    reference redeemed before is answered with what it took then."""
    document = read_document(file)
    keel = open_keel(database_url)
    try:
        done = keel.promotions.redeem(reference, document, cli_scope())
    except KeelError as exc:
        raise fail(exc, label="line") from exc
    # each redemption keeps the currency it was counted in (a replay answers what was recorded then)
    currency = done.redemptions[0].currency if done.redemptions else (done.cart.result.currency if done.cart else "")
    taken = [
        {"promotion": r.promotion, "code": r.code, "amount": plain(r.amount, r.currency)} for r in done.redemptions
    ]
    if json_out:
        emit(RedeemedPublic.of(done).model_dump(mode="json"))
        return
    if done.cart is not None:
        _print_cart(done.cart)
    off = plain(sum(r.amount for r in done.redemptions), currency) if currency else "0"
    if done.replayed:
        console.print(f"{escape(reference)} was redeemed before: it took {off} {currency}; nothing counted again")
    else:
        console.print(f"{escape(reference)} redeemed: {len(taken)} promotion(s) counted, {off} {currency} off")
    for x in done.redemptions:
        code = f" with code {x.code}" if x.code else ""
        console.print(f"  {escape(x.promotion)}{escape(code)}: {plain(x.amount, x.currency)} {x.currency}")


def _print_cart(view: CartView) -> None:
    r, c = view.result, view.result.currency
    basis = "with tax" if r.inclusive else "before tax"
    title = f"cart on {view.channel} in {view.country}, amounts in {c} {basis}"
    table = Table("sku", "qty", "unit", "list", "amount", "discounts", "total", "tax", title=title)
    every = [*r.lines, *([r.shipping] if r.shipping else [])]
    for ln in every:
        shelf = view.shelves.get(ln.sku)
        off = ", ".join(f"{d.promotion} -{plain(d.amount, c)}" for d in ln.discounts) or "-"
        table.add_row(
            escape(ln.sku), str(ln.quantity), plain(ln.unit, c), shelf.price_list if shelf else "-",
            plain(ln.amount, c), escape(off), plain(ln.total, c), f"{plain(ln.tax, c)} ({percent(ln.rate)})",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"subtotal {plain(r.subtotal, c)} - discount {plain(r.discount, c)} = total {plain(r.total, c)} {c}; "
        f"net {plain(r.net, c)} + tax {plain(r.tax, c)} = to pay {plain(r.gross, c)} {c}"
    )
    if r.outcomes:
        why = Table("promotion", "applied", f"off ({c})", "why", title="promotions")
        for o in r.outcomes:
            why.add_row(escape(o.promotion), "yes" if o.applied else "no", plain(o.amount, c), escape(o.reason))
        console.print(why)
    for code, state in sorted(r.codes.items()):
        console.print(f"code {escape(code)}: {escape(state)}")
