"""HTTP API of the pricing engine: price lists, SKU costs and tax classes, tax rates, policies, and the computed
prices with their explanations. Every write answers what it recomputed (``RecomputedPublic``). Promotions,
their codes and carts have a module of their own (``api_promotions``), mounted on this router.

Policies are addressed by scope in the path: a channel code, or ``*`` (the default of every channel without a
policy of its own), which travels in a path as it is (``/pricing/policies/*``) or percent-encoded (``%2A``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset
from keel.platform.schemas import Document
from keel.pricing.api_promotions import router as promotions_router
from keel.pricing.schemas import (
    CompetitorPricePage,
    CompetitorPricePublic,
    CompetitorPricesSavedPublic,
    EntryPage,
    EntryPublic,
    PolicyPreviewPublic,
    PolicyPublic,
    PolicySaved,
    PriceExplained,
    PriceListDetail,
    PriceListPublic,
    PriceListSaved,
    PricePage,
    PricePublic,
    RecomputedPublic,
    Rows,
    TaxRatePublic,
    TaxRateSaved,
    TaxRateSet,
)

router = APIRouter(tags=["pricing"])
CodePath = Annotated[str, Path(max_length=64, description="the price list's code, e.g. base-eur")]
ScopePath = Annotated[str, Path(max_length=64, description="* or a channel code")]
Country = Annotated[str, Path(max_length=2, description="ISO 3166 code, e.g. DE")]
Filter = Annotated[str | None, Query(max_length=64)]

LIST_EXAMPLE = {
    "name": "Base EUR",
    "currency": "EUR",
    "channel": None,
    "country": None,
    "valid_from": None,
    "valid_to": None,
    "priority": 0,
    "prices": [
        {"sku": "SKU-1", "amount": "19.99", "compare_at": "24.99"},
        {"sku": "SKU-1", "amount": "17.99", "min_quantity": 10},
    ],
}
POLICY_EXAMPLE = {
    "rules": [{"rule": "cost_plus", "margin_floor": "0.25"}, {"rule": "max_change_per_day", "limit": "0.10"}]
}
COMPETITOR_EXAMPLE = [
    {"competitor": "acme", "country": "DE", "sku": "SKU-1", "currency": "EUR", "amount": "18.49",
     "observed_at": "2026-12-01T08:00:00Z"},
]  # fmt: skip


# -- price lists ------------------------------------------------------------------------------------------------
@router.get(
    "/pricing/lists", response_model=list[PriceListPublic], operation_id="list_price_lists", summary="List price lists"
)
def list_lists(keel: KeelDep, scope: ScopeDep) -> list[PriceListPublic]:
    """Every price list (that the caller sees) with its scope (channel, country, customer group), currency,
    validity window, priority and how many prices it holds, by code.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [PriceListPublic.of(v) for v in keel.pricing.lists(scope)]


@router.get(
    "/pricing/lists/{code}", response_model=PriceListDetail, operation_id="get_price_list", summary="Get a price list"
)
def get_list(code: CodePath, keel: KeelDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0) -> PriceListDetail:
    """The price list and a page of its prices (by SKU, then quantity tier), amounts as decimal strings in the
    list's currency.

    Refuses an unknown list (404) and paging values out of range (422). Idempotent: a read.
    """
    found = keel.pricing.get_list(code, scope)
    entries, total = keel.pricing.list_prices(code, limit, offset, scope)
    currency = found.price_list.currency
    page = EntryPage(items=[EntryPublic.of(e, currency) for e in entries], total=total, limit=limit, offset=offset)
    return PriceListDetail(price_list=PriceListPublic.of(found), prices=page)


@router.put(
    "/pricing/lists/{code}", response_model=PriceListSaved, operation_id="put_price_list", summary="Save a price list"
)
def put_list(code: CodePath, keel: KeelDep, body: Annotated[Document, Body(examples=[LIST_EXAMPLE])]) -> PriceListSaved:
    """Creates or replaces the price list with its prices (``prices``: ``sku``, ``amount`` and optional
    ``compare_at`` as decimal strings in the list's currency, ``min_quantity`` for a quantity tier), then
    recomputes the prices it can affect: its SKUs (before and after) on the channels it applies to.

    Refuses a bad document with every problem at once (422; a price's problems name its row, 1-based): an
    unknown field, a currency that is not ISO 4217, a negative amount or one with too many decimals, a
    compare-at price not above the amount, a date-time without its offset, a window that ends before it
    starts. Nothing is written then. Idempotent: the same document again changes no price.
    """
    saved, done = keel.pricing.save_list(code, body)
    return PriceListSaved(price_list=PriceListPublic.of(saved), recomputed=RecomputedPublic.of(done))


@router.delete(
    "/pricing/lists/{code}",
    response_model=RecomputedPublic,
    operation_id="delete_price_list",
    summary="Delete a price list",
)
def delete_list(code: CodePath, keel: KeelDep) -> RecomputedPublic:
    """Deletes the price list and its prices, then recomputes its SKUs on the channels it applied to (another
    list takes over, or the price is removed and announced with no amount).

    Refuses an unknown list (404). Not idempotent: a second call answers 404, leaving the same state.
    """
    return RecomputedPublic.of(keel.pricing.delete_list(code))


# -- SKU costs and tax ----------------------------------------------------------------------------------------------
@router.put("/pricing/skus", response_model=RecomputedPublic, operation_id="put_pricing_skus", summary="Set SKU costs")
def put_skus(
    keel: KeelDep,
    body: Annotated[
        Rows, Body(examples=[[{"sku": "SKU-1", "cost": "8.00", "currency": "EUR", "tax_class": "standard"}]])
    ],
) -> RecomputedPublic:
    """Sets each SKU's unit cost (net of tax, in a currency of its own: cost and currency together, or neither)
    and tax class (``standard`` when left out), then recomputes those SKUs everywhere.

    Refuses the whole list when any row is bad (422, each row's problems): not a list of 1 to 100,000 objects,
    an unknown field, a SKU twice, a bad currency or cost. Idempotent: the same list again changes no price.
    """
    return RecomputedPublic.of(keel.pricing.set_skus(body))


@router.get(
    "/pricing/tax-rates", response_model=list[TaxRatePublic], operation_id="list_tax_rates", summary="List tax rates"
)
def list_tax_rates(keel: KeelDep, scope: ScopeDep) -> list[TaxRatePublic]:
    """The stored rates per (country, tax class) and the built-in standard rate of every country no stored
    ``standard`` rate replaces (``source``: stored or default), by country and class. A class without a rate
    of its own is taxed at its country's standard rate.

    Refuses nothing but callers without access. Idempotent: a read.
    """
    return [TaxRatePublic.of(r) for r in keel.pricing.tax_table(scope)]


@router.put(
    "/pricing/tax-rates/{country}/{tax_class}",
    response_model=TaxRateSaved,
    operation_id="put_tax_rate",
    summary="Set a tax rate",
)
def put_tax_rate(
    country: Country,
    tax_class: Annotated[str, Path(max_length=32, description="e.g. standard, reduced")],
    body: TaxRateSet,
    keel: KeelDep,
) -> TaxRateSaved:
    """Stores the rate of a tax class in a country (``{"rate": "0.19"}``), replacing the default, then
    recomputes every price in that country.

    Refuses a country that is not two capital letters, a class that is not letters, digits and _, and a rate
    that is not a fraction from 0 to below 1 (422). Idempotent: the same rate again changes no price.
    """
    done = keel.pricing.set_tax_rate(country, tax_class, body.rate)
    stored = next(r for r in keel.pricing.tax_table() if (r.country, r.tax_class) == (country, tax_class))
    return TaxRateSaved(rate=TaxRatePublic.of(stored), recomputed=RecomputedPublic.of(done))


# -- policies -------------------------------------------------------------------------------------------------------
@router.get(
    "/pricing/policies",
    response_model=list[PolicyPublic],
    operation_id="list_pricing_policies",
    summary="List pricing policies",
)
def list_policies(keel: KeelDep, scope: ScopeDep) -> list[PolicyPublic]:
    """The stored pricing policies: ``*`` (the default) and each channel with its own, with their ordered rules.

    Refuses nothing but callers without access. Idempotent: a read.
    """
    return [PolicyPublic.of(p) for p in keel.pricing.policies(scope)]


@router.get(
    "/pricing/policies/{scope}",
    response_model=PolicyPublic,
    operation_id="get_pricing_policy",
    summary="Get a pricing policy",
)
def get_policy(scope: ScopePath, keel: KeelDep, within: ScopeDep) -> PolicyPublic:
    """The stored policy of ``*`` or of a channel.

    Refuses a scope without a stored policy (404). Idempotent: a read.
    """
    return PolicyPublic.of(keel.pricing.policy(scope, within))


@router.put(
    "/pricing/policies/{scope}",
    response_model=PolicySaved,
    operation_id="put_pricing_policy",
    summary="Set a pricing policy",
)
def put_policy(
    scope: ScopePath, keel: KeelDep, body: Annotated[Document, Body(examples=[POLICY_EXAMPLE])]
) -> PolicySaved:
    """Replaces the ordered rules of ``*`` or of an active channel (``{"rules": [...]}``: cost_plus, map,
    parity, max_change_per_day, competitor, markdown, no_discount_when_short, ending; see docs/pricing.md),
    then recomputes the channels it governs.

    Refuses an unknown scope, an unknown rule or setting and a bad fraction (422, each rule's problems by its
    row). Idempotent: the same rules again change no price.
    """
    saved, done = keel.pricing.set_policy(scope, body)
    return PolicySaved(policy=PolicyPublic.of(saved), recomputed=RecomputedPublic.of(done))


@router.post(
    "/pricing/policies/{scope}/preview",
    response_model=PolicyPreviewPublic,
    operation_id="preview_pricing_policy",
    summary="Preview a pricing policy before saving it",
)
def preview_policy(
    scope: ScopePath,
    keel: KeelDep,
    body: Annotated[Document, Body(examples=[POLICY_EXAMPLE])],
    days: Annotated[int, Query(ge=1, le=366, description="days of sales the volumes are taken from")] = 28,
) -> PolicyPreviewPublic:
    """Weighs rules for ``*`` or a channel before they are saved: a dry run of the recompute with them in
    place of the stored ones gives every price they would move (before and after), and the units sold in
    the last ``days`` give, per currency, the net revenue a day before and after (what the margin moves by:
    costs do not change); the 100 largest effects. Nothing is written or announced.

    Refuses what saving the rules would refuse (422). Idempotent: it changes nothing.
    """
    return PolicyPreviewPublic.of(keel.pricing.preview_policy(scope, body, days))


@router.delete(
    "/pricing/policies/{scope}",
    response_model=RecomputedPublic,
    operation_id="delete_pricing_policy",
    summary="Delete a pricing policy",
)
def delete_policy(scope: ScopePath, keel: KeelDep) -> RecomputedPublic:
    """Drops the policy of ``*`` or of a channel (a channel falls back to ``*``, ``*`` to no rules but the
    price endings), then recomputes the channels it governed.

    Refuses a scope without a stored policy (404). Not idempotent: a second call answers 404.
    """
    return RecomputedPublic.of(keel.pricing.delete_policy(scope))


# -- competitor prices ----------------------------------------------------------------------------------------------
@router.put(
    "/pricing/competitor-prices",
    response_model=CompetitorPricesSavedPublic,
    operation_id="put_competitor_prices",
    summary="Record competitor prices",
)
def put_competitor_prices(
    keel: KeelDep, body: Annotated[Rows, Body(examples=[COMPETITOR_EXAMPLE])]
) -> CompetitorPricesSavedPublic:
    """Records competitors' observed prices, one per (competitor, country, SKU): ``competitor`` (a code),
    ``country``, ``sku``, ``currency``, ``amount`` (a decimal string in that currency) and ``observed_at`` (a
    date-time with its offset), all required. An observation replaces the stored one unless that was observed
    later. When a policy has a ``competitor`` rule, those SKUs are recomputed in those countries.

    Refuses the whole list when any row is bad (422, each row's problems): not a list of 1 to 10,000 objects,
    an unknown field, a currency that is not ISO 4217, a negative amount or one with too many decimals, a
    moment without its offset or in the future, a (competitor, country, SKU) twice. Nothing is written then.
    Idempotent: the same list again changes nothing.
    """
    return CompetitorPricesSavedPublic.of(keel.pricing.competitors.save(body))


@router.get(
    "/pricing/competitor-prices",
    response_model=CompetitorPricePage,
    operation_id="list_competitor_prices",
    summary="List competitor prices",
)
def list_competitor_prices(
    keel: KeelDep,
    scope: ScopeDep,
    competitor: Filter = None,
    country: Annotated[str | None, Query(max_length=2, description="ISO 3166 code, e.g. DE")] = None,
    sku: Filter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> CompetitorPricePage:
    """The stored competitor prices by SKU, country and competitor, filtered by each, a page at a time, in the
    currency each was observed in. A caller restricted to some countries sees only theirs.

    Refuses paging values out of range and filters that are too long (422). Idempotent: a read.
    """
    rows, total = keel.pricing.competitors.page(competitor, country, sku, limit, offset, scope)
    items = [CompetitorPricePublic.of(c) for c in rows]
    return CompetitorPricePage(items=items, total=total, limit=limit, offset=offset)


# -- prices ---------------------------------------------------------------------------------------------------------
@router.get("/pricing/prices", response_model=PricePage, operation_id="list_prices", summary="List computed prices")
def list_prices(
    keel: KeelDep,
    scope: ScopeDep,
    channel: Filter = None,
    country: Annotated[str | None, Query(max_length=2, description="ISO 3166 code, e.g. DE")] = None,
    sku: Filter = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PricePage:
    """The computed prices by channel, country and SKU, filtered by each, a page at a time. A caller restricted
    to some channels (countries) sees only theirs and names one when it may see several.

    Refuses paging values out of range and filters that are too long (422). Idempotent: a read.
    """
    rows, total = keel.pricing.prices(channel, country, sku, limit, offset, scope)
    return PricePage(items=[PricePublic.of(p) for p in rows], total=total, limit=limit, offset=offset)


@router.get(
    "/pricing/prices/{channel}/{country}/{sku:path}",  # a SKU may hold a /
    response_model=PriceExplained,
    operation_id="explain_price",
    summary="Explain a price",
)
def explain_price(
    channel: Annotated[str, Path(max_length=64)],
    country: Country,
    sku: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    scope: ScopeDep,
) -> PriceExplained:
    """One computed price with its explanation: the price list it came from, each step that set or changed it
    (rule, before, after, note), the hard floor, and its tax split (net, tax, gross at the SKU's tax class's
    rate in the country, stored or default) with whether the market states prices with tax.

    Refuses a (channel, country, SKU) without a price (404). Idempotent: a read.
    """
    return PriceExplained.explain(keel.pricing.explain(channel, country, sku, scope))


@router.post(
    "/pricing/recompute", response_model=RecomputedPublic, operation_id="recompute_prices", summary="Recompute prices"
)
def recompute(keel: KeelDep) -> RecomputedPublic:
    """Recomputes every price of every active channel and country; writes and announces only those that
    changed (e.g. after exchange rates moved, or a day later for ``max_change_per_day``).

    Refuses nothing but callers without access. Safe to repeat: a second run finds nothing to change.
    """
    return RecomputedPublic.of(keel.pricing.recompute())


router.include_router(promotions_router)
