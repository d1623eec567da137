"""Request and response models of the pricing API (and the CLI's ``--json``): amounts as decimal strings in
their currency, never binary floats; every write answers what it recomputed."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from keel.platform.money import plain
from keel.platform.schemas import StrictModel, clean, clean_document
from keel.pricing.competitors import CompetitorPricesSaved
from keel.pricing.engine import Recomputed
from keel.pricing.model import PriceEntry
from keel.pricing.model.documents import CompetitorPrice
from keel.pricing.views import Explained, PolicyView, PriceListView, PriceView, TaxRateView
from keel.pricing.whatif import PolicyPreview

# Free-form JSON documents the pricing model checks whole (row-level errors); clean of NUL bytes and
# lone surrogates, nested at most 16 levels, numbers within 64 bits (``keel.platform.schemas``).
Rows = Annotated[list[Any], AfterValidator(clean_document)]


def rate_text(rate: Decimal) -> str:
    return f"{rate.normalize():f}" if rate else "0"


class RecomputedPublic(BaseModel):
    prices: int = Field(description="(channel, country, SKU) prices computed")
    changed: int = Field(description="of which new or different: written and announced as price.changed")
    removed: int = Field(description="prices no longer given (no list prices the SKU there any more)")
    seconds: float

    @classmethod
    def of(cls, r: Recomputed) -> RecomputedPublic:
        return cls(prices=r.prices, changed=r.changed, removed=r.removed, seconds=r.seconds)


class PriceListPublic(BaseModel):
    code: str
    name: str
    currency: str = Field(examples=["EUR"])
    channel: str | None = Field(description="the channel it applies to (None: every channel)")
    country: str | None = Field(description="the country it applies to (None: every country)")
    customer_group: str | None
    valid_from: datetime | None = Field(description="the window it applies in (None: open-ended)")
    valid_to: datetime | None
    priority: int
    prices: int = Field(description="prices it holds (one per SKU and quantity tier)")
    updated_at: datetime | None

    @classmethod
    def of(cls, v: PriceListView) -> PriceListPublic:
        return cls(**v.price_list.__dict__, prices=v.prices, updated_at=v.updated_at)


class EntryPublic(BaseModel):
    sku: str
    amount: str = Field(examples=["19.99"], description="in the list's currency")
    compare_at: str | None = Field(description="the price shown struck through")
    min_quantity: int

    @classmethod
    def of(cls, e: PriceEntry, currency: str) -> EntryPublic:
        compare = None if e.compare_at is None else plain(e.compare_at, currency)
        return cls(sku=e.sku, amount=plain(e.amount, currency), compare_at=compare, min_quantity=e.min_quantity)


class EntryPage(BaseModel):
    items: list[EntryPublic]
    total: int
    limit: int
    offset: int


class PriceListDetail(BaseModel):
    price_list: PriceListPublic
    prices: EntryPage


class PriceListSaved(BaseModel):
    price_list: PriceListPublic
    recomputed: RecomputedPublic


class TaxRatePublic(BaseModel):
    country: str
    tax_class: str
    rate: str = Field(examples=["0.19"], description="a fraction: 0.19 is 19 %")
    source: Literal["stored", "default"] = Field(description="default: the country's standard rate built in")

    @classmethod
    def of(cls, r: TaxRateView) -> TaxRatePublic:
        return cls(
            country=r.country, tax_class=r.tax_class, rate=rate_text(r.rate), source="stored" if r.stored else "default"
        )


class TaxRateSet(StrictModel):
    rate: Annotated[str, Field(max_length=12, examples=["0.19"]), AfterValidator(clean)] = Field(
        description="a fraction from 0 to below 1 as a decimal string"
    )


class TaxRateSaved(BaseModel):
    rate: TaxRatePublic
    recomputed: RecomputedPublic


class PolicyPublic(BaseModel):
    scope: str = Field(description="* (every channel without its own) or a channel code")
    rules: list[dict[str, Any]]
    updated_at: datetime

    @classmethod
    def of(cls, p: PolicyView) -> PolicyPublic:
        return cls(scope=p.scope, rules=p.rules, updated_at=p.updated_at)


class PolicySaved(BaseModel):
    policy: PolicyPublic
    recomputed: RecomputedPublic


class PriceMovePublic(BaseModel):
    channel: str
    country: str
    sku: str
    currency: str
    before: str | None = Field(description="the price now (None: not priced now)")
    after: str | None = Field(description="the price under the proposed rules (None: no longer priced)")
    units_per_day: str = Field(description="units sold there a day over the preview's days")
    net_per_day: str = Field(description="(net after - net before) x units a day: what revenue and margin move by")


class PolicyEffectPublic(BaseModel):
    currency: str
    prices: int = Field(description="prices that would move in this currency")
    up: int
    down: int
    net_per_day_before: str = Field(description="net of tax, at the units sold a day, of the prices that move")
    net_per_day_after: str


class PolicyPreviewPublic(BaseModel):
    scope: str
    prices: int = Field(description="prices computed")
    changed: int = Field(description="prices that would be new or different")
    removed: int = Field(description="prices that would no longer be given")
    days: int = Field(description="the days of sales the volumes are taken from")
    currencies: list[PolicyEffectPublic]
    moves: list[PriceMovePublic] = Field(description="the largest effects first, at most 100")

    @classmethod
    def of(cls, p: PolicyPreview) -> PolicyPreviewPublic:
        def money(minor: int | None, currency: str) -> str | None:
            return None if minor is None else plain(minor, currency)

        effects = [
            PolicyEffectPublic(currency=e.currency, prices=e.prices, up=e.up, down=e.down,
                               net_per_day_before=plain(e.net_per_day_before, e.currency),
                               net_per_day_after=plain(e.net_per_day_after, e.currency))
            for e in p.currencies
        ]  # fmt: skip
        moves = [
            PriceMovePublic(channel=m.channel, country=m.country, sku=m.sku, currency=m.currency,
                            before=money(m.before, m.currency), after=money(m.after, m.currency),
                            units_per_day=f"{m.units_per_day:.2f}", net_per_day=plain(m.net_per_day, m.currency))
            for m in p.moves
        ]  # fmt: skip
        return cls(scope=p.scope, prices=p.prices, changed=p.changed, removed=p.removed, days=p.days,
                   currencies=effects, moves=moves)  # fmt: skip


class PricePublic(BaseModel):
    channel: str
    country: str
    sku: str
    currency: str
    amount: str = Field(examples=["19.99"])
    compare_at: str | None = Field(description="the price shown struck through")
    price_list: str = Field(description="the list the base price came from")
    tax_inclusive: bool = Field(description="whether the market states prices with tax")
    changed_at: datetime

    @classmethod
    def of(cls, p: PriceView) -> PricePublic:
        compare = None if p.compare_at is None else plain(p.compare_at, p.currency)
        return cls(
            channel=p.channel, country=p.country, sku=p.sku, currency=p.currency, amount=p.amount_text,
            compare_at=compare, price_list=p.price_list, tax_inclusive=p.tax_inclusive, changed_at=p.changed_at,
        )  # fmt: skip


class PricePage(BaseModel):
    items: list[PricePublic]
    total: int
    limit: int
    offset: int


class CompetitorPricePublic(BaseModel):
    competitor: str
    country: str
    sku: str
    currency: str = Field(examples=["EUR"], description="the currency it was observed in")
    amount: str = Field(examples=["18.49"])
    observed_at: datetime

    @classmethod
    def of(cls, c: CompetitorPrice) -> CompetitorPricePublic:
        return cls(**{**c.__dict__, "amount": plain(c.amount, c.currency)})


class CompetitorPricePage(BaseModel):
    items: list[CompetitorPricePublic]
    total: int
    limit: int
    offset: int


class CompetitorPricesSavedPublic(BaseModel):
    saved: int = Field(description="observations in the request (one older than the stored one is kept out)")
    recomputed: RecomputedPublic = Field(description="none unless a policy has a competitor rule")

    @classmethod
    def of(cls, s: CompetitorPricesSaved) -> CompetitorPricesSavedPublic:
        return cls(saved=s.saved, recomputed=RecomputedPublic.of(s.recomputed))


class StepPublic(BaseModel):
    rule: str = Field(
        description="price_list, a policy rule (cost_plus, map, parity, competitor, markdown, ...), floor or ending"
    )
    before: str
    after: str
    note: str


class TaxSplit(BaseModel):
    tax_class: str
    rate: str
    net: str
    tax: str
    gross: str


class PriceExplained(PricePublic):
    floor: str | None = Field(description="the highest hard floor (cost plus margin, MAP); None: none")
    steps: list[StepPublic] = Field(description="every step that set or changed the price, in order")
    tax: TaxSplit = Field(description="net + tax == gross; the stated amount is gross when tax_inclusive")

    @classmethod
    def explain(cls, e: Explained) -> PriceExplained:
        p, c = e.price, e.price.currency
        steps = [
            StepPublic(rule=s.rule, before=plain(s.before, c), after=plain(s.after, c), note=s.note) for s in p.steps
        ]
        split = TaxSplit(
            tax_class=e.tax_class, rate=rate_text(e.taxed.rate), net=plain(e.taxed.net, c),
            tax=plain(e.taxed.tax, c), gross=plain(e.taxed.gross, c),
        )  # fmt: skip
        return cls(
            **PricePublic.of(p).model_dump(), floor=plain(p.floor, c) if p.floor else None, steps=steps, tax=split
        )
