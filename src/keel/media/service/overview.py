"""What the media pages and API read: campaigns with the stock and outbox figures of their ads, one campaign
with every ad group and ad (SKUs, stock, Keel's state against the set one, the rules holding it, the outbox),
the figures of the summary, and savings day by day.

Money stays in the account's currency (minor units); nothing here adds amounts of two currencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Connection

from keel.media.model import Ad, AdGroup, AdState, Campaign, Level, Platform, Status
from keel.media.model.savings import Savings
from keel.media.service import savings as savings_service
from keel.media.store import log, objects, outbox, overview
from keel.media.store.log import ActionRow
from keel.media.store.outbox import StateRow
from keel.platform.db import Database
from keel.platform.errors import NotFound, single_field

RECENT_ACTIONS = 20


@dataclass(frozen=True)
class CampaignView:
    """A campaign as the list shows it: where it runs, its budget as set and as Keel holds it now, and how its
    ads stand (out of stock, held paused by rules) and what the outbox owes or could not send."""

    code: str
    name: str
    account: str
    platform: Platform
    channel: str
    currency: str
    country: str
    region: str | None
    store: str | None
    radius_km: float | None
    status: Status  # as a person set it
    daily_budget: int  # as set, minor units of ``currency``
    state: AdState | None  # Keel's desired state now (a rule may have moved the budget); None: not mirrored
    ads: int
    ads_out_of_stock: int
    ads_held: int  # paused by rules now
    owed: int  # the campaign's objects whose newest state the platform has not accepted yet
    dead: int
    drift: int


@dataclass(frozen=True)
class GroupLine:
    group: AdGroup
    state: StateRow | None


@dataclass(frozen=True)
class AdLine:
    """One ad of a campaign: what it advertises, its stock as the watcher last saw it, and its outbox row."""

    ad: Ad
    skus: list[str]
    set_bid: int  # the ad's own bid, else its group's default
    sellable: int | None  # None: the watcher has not looked at it yet
    cover_days: float | None
    stock_since: datetime | None  # since when it has been in (or out of) stock
    state: StateRow | None


@dataclass(frozen=True)
class CampaignDetail:
    view: CampaignView
    groups: list[GroupLine]
    ads: list[AdLine]
    actions: list[ActionRow]  # the newest on the campaign, its groups and ads


@dataclass(frozen=True)
class Summary:
    accounts: int
    campaigns: int
    ad_groups: int
    ads: int
    ads_held: int  # paused by rules now
    ads_out_of_stock: int
    owed: int
    dead: int
    drift: int


def campaign_views(
    db: Database,
    account: str | None = None,
    country: str | None = None,
    status: str | None = None,
    stock_outs: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[CampaignView], int]:
    """A page of campaigns (by code) with their figures, and how many match; ``stock_outs``: only those with
    an ad out of stock."""
    with db.read() as conn:
        codes, total = overview.campaign_codes(conn, account, country, status, stock_outs, limit, offset)
        found = _views(conn, objects.campaigns(conn, codes))
    return found, total


def _views(conn: Connection, campaigns: list[Campaign]) -> list[CampaignView]:
    accounts = {a.code: a for a in objects.accounts(conn)}
    codes = [c.code for c in campaigns]
    tallies = overview.tallies(conn, codes)
    states = outbox.get(conn, Level.CAMPAIGN, codes)
    out = []
    for c in campaigns:
        a, t, row = accounts[c.account], tallies.get(c.code, overview.Tally()), states.get(c.code)
        r = c.region
        out.append(
            CampaignView(
                c.code, c.name, c.account, a.platform, a.channel, a.currency, r.country, r.region, r.store,
                r.radius_km, c.status, c.daily_budget, None if row is None else row.state, t.ads, t.out_of_stock,
                t.held, t.owed, t.dead, t.drift,
            )
        )  # fmt: skip
    return out


def campaign_detail(db: Database, code: str, actions: int = RECENT_ACTIONS) -> CampaignDetail:
    """One campaign with its ad groups and ads (SKUs, stock, states) and its newest ``actions``."""
    with db.read() as conn:
        found = objects.campaigns(conn, [code])
        if not found:
            raise NotFound(f"There is no campaign {code!r}.")
        view = _views(conn, found)[0]
        groups = objects.groups(conn, [code])
        ads = [ad for ad, _ in objects.ads(conn, [code])]
        skus = objects.ad_skus(conn, [a.code for a in ads])
        group_states = outbox.get(conn, Level.AD_GROUP, [g.code for g in groups])
        ad_states = outbox.get(conn, Level.AD, [a.code for a in ads])
        stock = log.stock(conn, [a.code for a in ads])
        recent = overview.recent_actions(conn, [code, *(g.code for g in groups), *(a.code for a in ads)], actions)
    bids = {g.code: g.default_bid for g in groups}
    lines = []
    for ad in ads:
        sellable, cover, since = stock.get(ad.code) or (None, None, None)
        set_bid = ad.bid if ad.bid is not None else bids.get(ad.ad_group, 0)
        lines.append(AdLine(ad, skus.get(ad.code, []), set_bid, sellable, cover, since, ad_states.get(ad.code)))
    return CampaignDetail(view, [GroupLine(g, group_states.get(g.code)) for g in groups], lines, recent)


def summary(db: Database) -> Summary:
    """The counts of the setup, of the ads paused by rules or out of stock now, and of the outbox's states."""
    with db.read() as conn:
        counts = objects.counts(conn)
        totals = outbox.totals(conn)
        held, out = overview.held_ads(conn), overview.out_of_stock_ads(conn)
    return Summary(
        counts["accounts"], counts["campaigns"], counts["ad_groups"], counts["ads"], held, out,
        totals["owed"], totals["dead"], totals["drift"],
    )  # fmt: skip


def countries(db: Database) -> list[str]:
    """The countries campaigns target."""
    with db.read() as conn:
        return overview.countries(conn)


def savings_by_day(db: Database, since: datetime, until: datetime) -> list[tuple[date, Savings]]:
    """Savings for each UTC day from ``since`` to ``until`` (whole hours; the first and last days may be part
    days). Each day is estimated from its own clean hours, so the days need not add up to the window's."""
    start, end = savings_service.hour_floor(since), savings_service.hour_floor(until)
    if end <= start:
        raise single_field("until", "after since, by at least an hour")
    if end - start > savings_service.MAX_WINDOW:
        raise single_field("since", f"a window of at most {savings_service.MAX_WINDOW.days} days")
    out = []
    day = start.date()
    while (begin := max(start, datetime.combine(day, time(0), tzinfo=UTC))) < end:
        finish = min(end, datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC))
        out.append((day, savings_service.compute(db, begin, finish)))
        day += timedelta(days=1)
    return out
