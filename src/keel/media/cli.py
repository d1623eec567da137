"""``keel media ...`` commands: ad accounts, the setup (a JSON batch, or a CSV file per level), campaigns with
their stock status, performance imports and totals. Rules, approvals, states, savings and the sender's and
rules' passes live in ``cli_rules`` (mounted beside these). Money prints as minor units with its currency;
``--json`` prints what the HTTP API answers."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from keel.cli_support import MAX_FILE_BYTES, DbOpt, JsonOpt, emit, fail, open_keel, page, read_document, refuse
from keel.media import read_csv
from keel.media.cli_rules import app as rules_app
from keel.media.schemas import (
    AdAccountPublic,
    CampaignDetail,
    CampaignPage,
    ImportedPublic,
    PerformanceLinePublic,
    SetupSaved,
)
from keel.platform.errors import KeelError

app = typer.Typer(
    help="Ads: accounts, campaigns, performance, inventory-aware rules, approvals, the outbox and savings.",
    no_args_is_help=True,
)
app.add_typer(rules_app)  # no name: its commands sit beside these (keel media rules, approve, ...)
console = Console()
_err = Console(stderr=True)
Limit = Annotated[int, typer.Option(min=1, max=1000, help="rows in one page")]
Offset = Annotated[int, typer.Option(min=0, max=2**31 - 1, help="rows to skip")]
LEVELS = ("campaigns", "ad_groups", "ads")
# CSV cells are text: these columns are numbers or lists in the documents the model checks
WHOLE = frozenset({"daily_budget", "default_bid", "bid"})
DECIMAL = frozenset({"radius_km"})


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def read_text(path: Path) -> str:
    """A text file (UTF-8) no bigger than the CLI's file limit; one line and exit 2 otherwise."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise refuse(f"{path}: over {MAX_FILE_BYTES} bytes")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise refuse(f"{path}: {exc}") from exc


def csv_rows(text: str) -> list[dict[str, Any]]:
    """A setup CSV (header first) as row documents: empty cells left out, money as whole numbers, ``skus``
    split on ``|`` or spaces. A cell that is no number stays text, so the model names its row and field."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        doc: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or value == "":
                continue
            if key in WHOLE and value.strip().isdigit():
                doc[key] = int(value)
            elif key in DECIMAL:
                try:
                    doc[key] = float(value)
                except ValueError:
                    doc[key] = value
            elif key == "skus":
                doc[key] = value.replace("|", " ").split()
            else:
                doc[key] = value
        rows.append(doc)
    return rows


@app.command("accounts")
def accounts(database_url: DbOpt = None, json_out: JsonOpt = False) -> None:
    """Every ad account: platform, channel, currency, API and guardrails (tokens are never shown)."""
    keel = open_keel(database_url)
    rows = [AdAccountPublic.of(a) for a in keel.media.setup.accounts()]
    if json_out:
        emit(rows)
        return
    table = Table("code", "platform", "channel", "currency", "name", "api", title=f"{len(rows)} ad accounts")
    for a in rows:
        table.add_row(a.code, a.platform, a.channel, a.currency, escape(a.name), escape(_or_dash(a.url)))
    console.print(table)


@app.command("setup")
def setup(
    file: Annotated[Path, typer.Argument(help="a JSON batch {accounts, campaigns, ad_groups, ads}, or a CSV file")],
    level: Annotated[str | None, typer.Option(help="FILE is a CSV of campaigns, ad_groups or ads")] = None,
    database_url: DbOpt = None,
) -> None:
    """Save an ad setup batch: every row checked first, nothing written when one is bad."""
    if level is not None and level not in LEVELS:
        raise refuse(f"--level {level!r}: one of {', '.join(LEVELS)}")
    batch = read_document(file) if level is None else {level: csv_rows(read_text(file))}
    if not isinstance(batch, dict):
        raise refuse(f"{file}: a JSON object with accounts, campaigns, ad_groups and/or ads")
    keel = open_keel(database_url)
    try:
        saved = SetupSaved.of(keel.media.setup.save(batch))
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(
        f"saved {saved.accounts} accounts, {saved.campaigns} campaigns, {saved.ad_groups} ad groups, {saved.ads} ads; "
        f"{saved.changed} changed (owed to their platforms)"
    )


@app.command("campaigns")
def campaigns(
    account: Annotated[str | None, typer.Option(help="only this account")] = None,
    country: Annotated[str | None, typer.Option(help="only this country, e.g. DE")] = None,
    status: Annotated[str | None, typer.Option(help="only enabled or paused campaigns")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The campaigns with their stock status: ads, out of stock, paused by rules, changes owed."""
    if status is not None and status not in ("enabled", "paused"):
        raise refuse(f"--status {status!r}: enabled or paused")
    keel = open_keel(database_url)
    found = CampaignPage.read(keel.media, account, country, status, limit, offset)
    items, total = found.items, found.total
    if json_out:
        emit(found)
        return
    shown = f" ({len(items)} from {offset + 1})" if total > len(items) else ""
    columns = ("code", "account", "country", "budget/day", "status", "ads", "out of stock", "paused", "owed")
    table = Table(*columns, title=f"{total} campaigns{shown}")
    for c in items:
        s = c.stock
        table.add_row(escape(c.code), c.account, c.country, f"{c.daily_budget} {c.currency or ''}".strip(), c.status,
                      str(s.ads), str(s.ads_out_of_stock), str(s.ads_paused_by_rules), str(s.owed))  # fmt: skip
    console.print(table)


@app.command("campaign")
def campaign(
    code: Annotated[str, typer.Argument(help="the campaign's code")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """A campaign, its ad groups and its ads with their SKUs, desired states and stock."""
    keel = open_keel(database_url)
    try:
        detail = CampaignDetail.read(keel.media, code)
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(detail)
        return
    c = detail.campaign
    budget = detail.state.budget if detail.state else None
    console.print(
        f"{escape(c.code)} ({escape(c.name)}) on {c.account} in {c.country}: budget {c.daily_budget} {c.currency} a "
        f"day set, {_or_dash(budget)} wanted; {c.status}",
        highlight=False,
    )
    table = Table("ad", "ad group", "skus", "status", "bid", "held by", "sellable", "cover days", "owed", "dead",
                  "drift", title=f"{len(detail.ads)} ads")  # fmt: skip
    for a in detail.ads:
        s = a.state
        table.add_row(
            escape(a.code), escape(a.ad_group), escape(", ".join(a.skus)), s.status if s else "-",
            _or_dash(s.bid if s else None), escape(", ".join(s.held_by)) if s else "-", _or_dash(a.sellable),
            _or_dash(a.cover_days), "yes" if s and s.owed else "", "yes" if s and s.dead else "",
            "yes" if s and s.drift else "",
        )  # fmt: skip
    console.print(table)


@app.command("import-performance")
def import_performance(
    file: Annotated[Path, typer.Argument(help="a performance CSV: date, hour, ad, sku, impressions, clicks, ...")],
    database_url: DbOpt = None,
) -> None:
    """Import performance rows from a CSV file, all or nothing; the same file again changes nothing."""
    text = read_text(file)
    keel = open_keel(database_url)
    try:
        with _err.status(f"importing {file.name}"):
            done = ImportedPublic.of(keel.media.performance.save(read_csv(text)))
    except KeelError as exc:
        raise fail(exc) from exc
    console.print(f"{done.rows} performance rows imported: {done.days} days, {done.ads} ads")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise refuse(f"{option} {value!r}: a date as YYYY-MM-DD") from None


@app.command("performance")
def performance(
    by: Annotated[str, typer.Option(help="sku, campaign, channel, region, account or day")] = "campaign",
    since: Annotated[str | None, typer.Option(help="from this day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="up to this day, inclusive")] = None,
    key: Annotated[str | None, typer.Option(help="only this SKU, campaign, ... or day")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Performance totals per SKU, campaign, channel, region, account or day and currency, with ROAS and ACoS."""
    first, last = _day(since, "--since"), _day(until, "--until")
    keel = open_keel(database_url)
    try:
        rows, total = keel.media.performance.totals(by, first, last, key, limit, offset)
    except KeelError as exc:
        raise fail(exc) from exc
    items = [PerformanceLinePublic.of(p) for p in rows]
    if json_out:
        emit({"by": by} | page(items, total, limit=limit, offset=offset))
        return
    columns = (by, "currency", "impressions", "clicks", "cost", "orders 7d", "sales 7d", "roas 7d", "acos 7d")
    table = Table(*columns, title=f"{total} {by} totals")
    for p in items:
        table.add_row(escape(p.key), p.currency, f"{p.impressions:,}", f"{p.clicks:,}", str(p.cost), str(p.orders_7d),
                      str(p.sales_7d), _or_dash(p.roas_7d), _or_dash(p.acos_7d))  # fmt: skip
    console.print(table)
