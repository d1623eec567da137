"""Request and response models of the media API (and the CLI's ``--json``): money as whole minor units with the
account's currency alongside (budgets per day, bids per click), never binary floats; hours and ratios as
numbers. A platform token is accepted in a setup batch and never answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from keel.media import (
    Account,
    Ad,
    AdGroup,
    AdStock,
    Campaign,
    CampaignStock,
    Guardrails,
    Imported,
    Level,
    MediaService,
    PerformanceLine,
    Saved,
)
from keel.media.model.savings import Figures, Groups, Savings
from keel.media.service import RuleView
from keel.media.store.log import ActionRow
from keel.media.store.outbox import StateRow
from keel.platform.schemas import StrictModel, clean_document

# Free-form rows the media model checks whole (every error with its row and field); clean of NUL bytes and
# lone surrogates, nested at most 16 levels, numbers within 64 bits (``keel.platform.schemas``).
Rows = Annotated[list[dict[str, Any]], AfterValidator(clean_document)]
Money = Annotated[int, Field(description="whole minor units of `currency` (cents for EUR)")]


class SetupBatch(StrictModel):
    accounts: Rows = Field(default_factory=list, description="code, platform, channel, currency, name, url, token")
    campaigns: Rows = Field(
        default_factory=list, description="code, account, name, country, region or store + radius_km, daily_budget"
    )
    ad_groups: Rows = Field(default_factory=list, description="code, campaign, name, default_bid, status")
    ads: Rows = Field(default_factory=list, description="code, ad_group, skus or category/brand/label, bid, status")


class SetupSaved(BaseModel):
    accounts: int = Field(description="accounts in the batch")
    campaigns: int
    ad_groups: int
    ads: int
    changed: int = Field(description="objects whose desired state changed (the outbox sends them)")

    @classmethod
    def of(cls, s: Saved) -> SetupSaved:
        return cls(accounts=s.accounts, campaigns=s.campaigns, ad_groups=s.ad_groups, ads=s.ads, changed=s.changed)


class GuardrailsPublic(BaseModel):
    max_budget_change_pct: float = Field(description="a campaign's budget moves at most this much a day")
    min_budget: int = Field(description="minor units of each account's currency: no rule goes below")
    approval_above: int | None = Field(description="a budget move above this (minor units) waits for a person")
    max_bid_factor: float = Field(description="a rule's bid stays within set bid / factor .. set bid x factor")
    excluded_campaigns: list[str] = Field(description="campaigns no rule acts on")

    @classmethod
    def of(cls, g: Guardrails) -> GuardrailsPublic:
        return cls(**{**g.__dict__, "excluded_campaigns": list(g.excluded_campaigns)})


class AdAccountPublic(BaseModel):
    code: str
    platform: str = Field(examples=["google"], description="amazon, google or meta")
    channel: str = Field(description="the Keel channel whose listings its ads sell from")
    currency: str = Field(examples=["EUR"])
    name: str
    url: str | None = Field(description="the platform's API; None: changes are only recorded")
    guardrails: GuardrailsPublic

    @classmethod
    def of(cls, a: Account) -> AdAccountPublic:
        rails = GuardrailsPublic.of(a.guardrails)
        return cls(code=a.code, platform=a.platform.value, channel=a.channel, currency=a.currency, name=a.name,
                   url=a.url, guardrails=rails)  # fmt: skip


class StatePublic(BaseModel):
    """What Keel wants one object to be on its platform, and how far the platform has it."""

    level: str = Field(examples=["ad"], description="campaign, ad_group or ad")
    code: str
    account: str
    currency: str | None = Field(description="the account's currency: what bid and budget count in")
    status: str = Field(examples=["enabled"])
    bid: Money | None = Field(description="ad groups and ads: per click")
    budget: Money | None = Field(description="campaigns: per day")
    held_by: list[str] = Field(description="rules holding it paused")
    version: int = Field(description="bumped by every change of the desired state")
    sent_version: int = Field(description="the newest version the platform confirmed")
    owed: bool = Field(description="a newer version waits to be sent (not dead, not drifted)")
    attempts: int
    dead: bool = Field(description="a dead letter: refused for good or too often; retry it once fixed")
    error: str | None
    drift: dict[str, Any] | None = Field(description="what a person set on the platform, until resolved")
    changed_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, r: StateRow, currency: str | None) -> StatePublic:
        return cls(
            level=r.level.value, code=r.code, account=r.account, currency=currency, status=r.state.status.value,
            bid=r.state.bid, budget=r.state.budget, held_by=list(r.held_by), version=r.version,
            sent_version=r.sent_version, owed=r.owed and not r.dead and r.drift is None, attempts=r.attempts,
            dead=r.dead, error=r.error, drift=r.drift, changed_at=r.changed_at, sent_at=r.sent_at,
        )  # fmt: skip


class StatePage(BaseModel):
    items: list[StatePublic]
    total: int
    limit: int
    offset: int


class Resolve(StrictModel):
    keep: Literal["keel", "platform"] = Field(description="keel: send Keel's state again; platform: adopt its")


class StockStatus(BaseModel):
    ads: int
    ads_out_of_stock: int = Field(description="ads the watcher last saw without sellable stock")
    ads_paused_by_rules: int = Field(description="ads rules hold paused")
    owed: int = Field(description="objects (the campaign, its ad groups, its ads) owing their platform a change")
    dead: int = Field(description="dead letters among them")
    drift: int = Field(description="drifted objects among them")

    @classmethod
    def of(cls, s: CampaignStock) -> StockStatus:
        return cls(ads=s.ads, ads_out_of_stock=s.out_of_stock, ads_paused_by_rules=s.paused_by_rules, owed=s.owed,
                   dead=s.dead, drift=s.drift)  # fmt: skip


class CampaignPublic(BaseModel):
    code: str
    account: str
    name: str
    country: str = Field(examples=["DE"])
    region: str | None = Field(description="a region of the country, as Keel's locations name it")
    store: str | None = Field(description="local campaigns: the store its radius is around")
    radius_km: float | None
    daily_budget: Money = Field(description="the budget a person set, per day")
    currency: str | None = Field(examples=["EUR"])
    status: str = Field(description="the status a person set: enabled or paused")
    stock: StockStatus

    @classmethod
    def of(cls, c: Campaign, currency: str | None, stock: CampaignStock) -> CampaignPublic:
        r = c.region
        return cls(code=c.code, account=c.account, name=c.name, country=r.country, region=r.region, store=r.store,
                   radius_km=r.radius_km, daily_budget=c.daily_budget, currency=currency, status=c.status.value,
                   stock=StockStatus.of(stock))  # fmt: skip


class CampaignPage(BaseModel):
    items: list[CampaignPublic]
    total: int
    limit: int
    offset: int

    @classmethod
    def read(
        cls, media: MediaService, account: str | None, country: str | None, status: str | None, limit: int, offset: int
    ) -> CampaignPage:
        """A page of campaigns with their currency and stock status, as the API and the CLI answer it."""
        rows, total = media.setup.campaigns(account, country, status, limit, offset)
        stock = media.campaign_stock(c.code for c in rows)
        money = {a.code: a.currency for a in media.setup.accounts()}
        items = [CampaignPublic.of(c, money.get(c.account), stock[c.code]) for c in rows]
        return cls(items=items, total=total, limit=limit, offset=offset)


class AdGroupPublic(BaseModel):
    code: str
    name: str
    default_bid: Money
    status: str
    state: StatePublic | None = Field(description="its desired state on the platform")

    @classmethod
    def of(cls, g: AdGroup, state: StatePublic | None) -> AdGroupPublic:
        return cls(code=g.code, name=g.name, default_bid=g.default_bid, status=g.status.value, state=state)


class AdPublic(BaseModel):
    code: str
    ad_group: str
    skus: list[str] = Field(description="the SKUs it advertises (a product group resolved when saved)")
    category: str | None = Field(description="a product group's category, brand or label")
    brand: str | None
    label: str | None
    bid: Money | None = Field(description="its own bid; None: the ad group's default")
    status: str = Field(description="the status a person set")
    state: StatePublic | None = Field(description="its desired state: status, bid, held_by, owed, dead, drift")
    sellable: int | None = Field(description="units its SKUs have to sell, as the watcher last saw (None: not yet)")
    cover_days: float | None = Field(description="days of cover at the recent run rate (None: no sales or unseen)")
    stock_since: datetime | None = Field(description="since when it has (or lacks) stock")

    @classmethod
    def of(cls, ad: Ad, skus: list[str], state: StatePublic | None, stock: AdStock | None) -> AdPublic:
        t = ad.target
        return cls(
            code=ad.code, ad_group=ad.ad_group, skus=skus, category=t.category, brand=t.brand, label=t.label,
            bid=ad.bid, status=ad.status.value, state=state, sellable=None if stock is None else stock.sellable,
            cover_days=None if stock is None else stock.cover_days, stock_since=None if stock is None else stock.since,
        )  # fmt: skip


class CampaignDetail(BaseModel):
    campaign: CampaignPublic
    state: StatePublic | None = Field(description="the campaign's desired state (budget, status)")
    ad_groups: list[AdGroupPublic]
    ads: list[AdPublic]

    @classmethod
    def read(cls, media: MediaService, code: str) -> CampaignDetail:
        """The campaign with its ad groups and ads, their desired states and stock (``NotFound`` when unknown)."""
        campaign, groups, ads = media.setup.campaign(code)
        currency = next((a.currency for a in media.setup.accounts() if a.code == campaign.account), None)
        wanted = (
            (Level.CAMPAIGN, [code]),
            (Level.AD_GROUP, [g.code for g in groups]),
            (Level.AD, [a.code for a, _ in ads]),
        )
        states = {
            level: {k: StatePublic.of(r, currency) for k, r in media.states_of(level, codes).items()}
            for level, codes in wanted
        }
        seen = media.stock([a.code for a, _ in ads])
        return cls(
            campaign=CampaignPublic.of(campaign, currency, media.campaign_stock([code])[code]),
            state=states[Level.CAMPAIGN].get(code),
            ad_groups=[AdGroupPublic.of(g, states[Level.AD_GROUP].get(g.code)) for g in groups],
            ads=[AdPublic.of(a, skus, states[Level.AD].get(a.code), seen.get(a.code)) for a, skus in ads],
        )


class PerformanceRows(StrictModel):
    rows: Rows = Field(
        description="date, hour, campaign, ad_group, ad, sku, impressions, clicks, cost, orders_7d, units_7d, "
        "sales_7d, orders_14d, units_14d, sales_14d: amounts in the account's currency as platforms report them"
    )


class ImportedPublic(BaseModel):
    rows: int
    days: int
    ads: int

    @classmethod
    def of(cls, i: Imported) -> ImportedPublic:
        return cls(rows=i.rows, days=i.days, ads=i.ads)


class PerformanceLinePublic(BaseModel):
    key: str = Field(description="the SKU, campaign, channel, country, account or day")
    currency: str
    impressions: int
    clicks: int
    cost: Money
    orders_7d: int
    units_7d: int
    sales_7d: Money
    sales_14d: Money
    roas_7d: float | None = Field(description="sales_7d / cost (None: nothing spent)")
    acos_7d: float | None = Field(description="cost / sales_7d (None: no sales)")

    @classmethod
    def of(cls, p: PerformanceLine) -> PerformanceLinePublic:
        return cls(**p.__dict__, roas_7d=p.roas_7d, acos_7d=p.acos_7d)


class PerformancePage(BaseModel):
    by: str
    items: list[PerformanceLinePublic]
    total: int
    limit: int
    offset: int


class AdRulePublic(BaseModel):
    name: str
    document: dict[str, Any] = Field(description="the rule as stored, defaults filled in")
    version: int
    updated_at: datetime

    @classmethod
    def of(cls, r: RuleView) -> AdRulePublic:
        return cls(name=r.name, document=r.document, version=r.version, updated_at=r.updated_at)


class ActionPublic(BaseModel):
    id: int
    at: datetime
    rule: str | None = Field(description="None: a person's or the drift check's")
    level: str
    code: str
    account: str
    currency: str | None = Field(description="the account's currency: what bids and budgets count in")
    mode: str = Field(description="applied, dry_run, approval (waiting), approved, rejected, drift or manual")
    before: dict[str, Any] = Field(description="status, bid, budget (minor units)")
    after: dict[str, Any]
    reason: str
    numbers: dict[str, Any] = Field(description="the figures the rule decided on")
    version: int | None = Field(description="the state version it became")
    caused_by: int | None = Field(description="the event that triggered it")
    decided_by: str | None = Field(description="who approved or rejected it")

    @classmethod
    def of(cls, a: ActionRow, currency: str | None) -> ActionPublic:
        return cls(**a.__dict__, currency=currency)


class ActionPage(BaseModel):
    items: list[ActionPublic]
    total: int
    limit: int
    offset: int


class FiguresPublic(BaseModel):
    currency: str
    wasted_spend: Money = Field(description="spent while out of stock and showing")
    avoided_spend: Money = Field(description="an estimate: paused hours x the ad's clean hourly spend")
    avoided_waste: Money = Field(description="the part of avoided_spend paused while out of stock")
    missed_sales: Money = Field(description="an estimate: paused hours with stock x clean hourly sales")
    budget_moved: Money
    moved_sales: Money = Field(description="sales attributed to moved budget")
    return_on_moved: float | None = Field(description="moved_sales / budget_moved (None: nothing moved)")
    out_of_stock_hours: float
    paused_hours: float
    unpriced_hours: float = Field(description="paused hours of ads without a clean hour to price them by")

    @classmethod
    def of(cls, f: Figures) -> FiguresPublic:
        return cls(**f.__dict__, return_on_moved=f.return_on_moved)


class GroupFigures(FiguresPublic):
    name: str

    @classmethod
    def group(cls, name: str, f: Figures) -> GroupFigures:
        return cls(name=name, **FiguresPublic.of(f).model_dump())


def _groups(groups: Groups) -> list[GroupFigures]:
    return [GroupFigures.group(name, f) for (name, _), f in groups.items()]


class SavingsPublic(BaseModel):
    since: datetime = Field(description="the window's start (a whole hour)")
    until: datetime
    total: list[FiguresPublic] = Field(description="one per currency: money is never added across currencies")
    by_rule: list[GroupFigures]
    by_campaign: list[GroupFigures]
    by_account: list[GroupFigures]
    by_channel: list[GroupFigures]
    by_region: list[GroupFigures]

    @classmethod
    def of(cls, s: Savings, since: datetime, until: datetime) -> SavingsPublic:
        return cls(
            since=since, until=until, total=[FiguresPublic.of(f) for f in s.total.values()],
            by_rule=_groups(s.by_rule), by_campaign=_groups(s.by_campaign), by_account=_groups(s.by_account),
            by_channel=_groups(s.by_channel), by_region=_groups(s.by_region),
        )  # fmt: skip
