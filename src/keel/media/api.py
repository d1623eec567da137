"""HTTP API of the media context: ad accounts, the setup batch, campaigns with their stock status, and
performance (JSON rows or a CSV file, totals with ROAS and ACoS). Rules, guardrails, the action log with its
approvals, the outbox's states and savings have a module of their own (``api_rules``), mounted here.

Money is whole minor units of the account's currency, which every answer names beside it. A platform token
goes in with a setup batch and never comes out.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from keel.deps import KeelDep
from keel.media import read_csv
from keel.media.api_rules import router as rules_router
from keel.media.schemas import (
    AdAccountPublic,
    CampaignDetail,
    CampaignPage,
    ImportedPublic,
    PerformanceLinePublic,
    PerformancePage,
    PerformanceRows,
    SetupBatch,
    SetupSaved,
)
from keel.platform.api import Limit, Offset
from keel.platform.errors import FieldError, ValidationFailed

router = APIRouter(tags=["media"])
CSV = "text/csv"
CodePath = Annotated[str, Path(max_length=64, description="the object's code, also its id on the platform")]
Filter = Annotated[str | None, Query(max_length=64)]
Country = Annotated[str | None, Query(pattern="^[A-Z]{2}$", description="ISO 3166 code, e.g. DE")]
Day = Annotated[date | None, Query(description="YYYY-MM-DD, inclusive")]

SETUP_EXAMPLE = {
    "accounts": [{"code": "g-de", "platform": "google", "channel": "web-de", "currency": "EUR", "name": "Google DE",
                  "url": "https://ads.example/google", "token": "secret"}],
    "campaigns": [{"code": "c-tee", "account": "g-de", "name": "Tees DE", "country": "DE", "daily_budget": 5000}],
    "ad_groups": [{"code": "g-tee", "campaign": "c-tee", "name": "Tees", "default_bid": 40}],
    "ads": [{"code": "a-tee-s", "ad_group": "g-tee", "skus": ["TEE-S"]},
            {"code": "a-tops", "ad_group": "g-tee", "category": "tops", "bid": 35}],
}  # fmt: skip
PERFORMANCE_EXAMPLE = {
    "rows": [{"date": "2026-03-02", "hour": 14, "ad": "a-tee-s", "sku": "TEE-S", "impressions": 1200, "clicks": 31,
              "cost": "12.40", "orders_7d": 2, "units_7d": 2, "sales_7d": "39.80"}]
}  # fmt: skip
CSV_EXAMPLE = (
    "date,hour,ad,sku,impressions,clicks,cost,orders_7d,units_7d,sales_7d\n"
    "2026-03-02,14,a-tee-s,TEE-S,1200,31,12.40,2,2,39.80\n"
)


def _currencies(keel: KeelDep) -> dict[str, str]:
    return {a.code: a.currency for a in keel.media.setup.accounts()}


# -- accounts and the setup -----------------------------------------------------------------------------------
@router.get(
    "/media/accounts", response_model=list[AdAccountPublic], operation_id="list_ad_accounts", summary="List ad accounts"
)
def list_accounts(keel: KeelDep) -> list[AdAccountPublic]:
    """Every ad account by code: its platform, the channel its ads sell from, its currency, the platform API
    it sends to and its guardrails. Tokens are never shown.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [AdAccountPublic.of(a) for a in keel.media.setup.accounts()]


@router.get(
    "/media/accounts/{code}", response_model=AdAccountPublic, operation_id="get_ad_account", summary="Get an ad account"
)
def get_account(code: CodePath, keel: KeelDep) -> AdAccountPublic:
    """One ad account (its token never shown).

    Refuses an unknown account (404). Idempotent: a read.
    """
    return AdAccountPublic.of(keel.media.setup.account(code))


@router.put("/media/setup", response_model=SetupSaved, operation_id="put_ad_setup", summary="Save an ad setup batch")
def put_setup(keel: KeelDep, body: Annotated[SetupBatch, Body(examples=[SETUP_EXAMPLE])]) -> SetupSaved:
    """Creates or updates accounts, campaigns, ad groups and ads as one batch (any of the four lists). A new
    object is taken to be what its platform holds already; a later change of a budget, bid or status becomes
    a new desired state the outbox sends. Money in minor units of the account's currency.

    Refuses the whole batch when one row is bad (422, every error by row and field: an unknown field, a
    negative budget, an unknown channel, a country the account's channel does not sell in, an unknown account,
    campaign, ad group or SKU, a product group selecting no SKU, an account changing platform or currency) and
    more than 50,000 objects (413). Nothing is written then. Idempotent: the same batch again changes nothing
    (``changed`` 0).
    """
    return SetupSaved.of(keel.media.setup.save(body.model_dump()))


# -- campaigns ------------------------------------------------------------------------------------------------
@router.get("/media/campaigns", response_model=CampaignPage, operation_id="list_campaigns", summary="List campaigns")
def list_campaigns(
    keel: KeelDep,
    account: Filter = None,
    country: Country = None,
    status: Annotated[Literal["enabled", "paused"] | None, Query(description="the status a person set")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> CampaignPage:
    """The campaigns by code, filtered by account, country and status, a page at a time, each with its stock
    status: its ads, how many the watcher last saw out of stock, how many rules hold paused, and how many of
    its objects owe the platform a change, are dead letters or drifted.

    Refuses a country that is not two capital letters, an unknown status and paging values out of range (422).
    Idempotent: a read.
    """
    return CampaignPage.read(keel.media, account, country, status, limit, offset)


@router.get(
    "/media/campaigns/{code}", response_model=CampaignDetail, operation_id="get_campaign", summary="Get a campaign"
)
def get_campaign(code: CodePath, keel: KeelDep) -> CampaignDetail:
    """A campaign with its stock status and desired state, its ad groups, and its ads: the SKUs each
    advertises, its desired state (status, bid, the rules holding it, owed, dead, drift) and its stock
    (sellable units and days of cover, as the watcher last saw them).

    Refuses an unknown campaign (404). Idempotent: a read.
    """
    return CampaignDetail.read(keel.media, code)


# -- performance ----------------------------------------------------------------------------------------------
@router.put(
    "/media/performance",
    response_model=ImportedPublic,
    operation_id="put_ad_performance",
    summary="Import performance rows",
)
def put_performance(
    keel: KeelDep, body: Annotated[PerformanceRows, Body(examples=[PERFORMANCE_EXAMPLE])]
) -> ImportedPublic:
    """Stores performance rows per (day, hour, ad, SKU): impressions, clicks, cost and what the clicks brought
    in 7 and 14 days, amounts in the account's currency as platforms report them (``"12.40"`` or 12.4). The
    SKU may be left out for an ad advertising one; the hour for a whole day's row.

    Refuses every row when one is bad (422, each error by row and field: an unknown column, a bad date or
    hour, a negative or non-whole count, more clicks than impressions, an unknown ad, a SKU the ad does not
    advertise, a campaign or ad group it does not belong to, the same day, hour, ad and SKU twice) and more
    than 200,000 rows (413). Nothing is written then. Idempotent: the same rows again replace themselves.
    """
    return ImportedPublic.of(keel.media.performance.save(body.rows))


@router.post(
    "/media/performance/csv",
    response_model=ImportedPublic,
    operation_id="import_ad_performance_csv",
    summary="Import a performance CSV",
    openapi_extra={
        "requestBody": {"content": {CSV: {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}, "required": True}
    },
)
async def import_performance_csv(request: Request, keel: KeelDep) -> ImportedPublic:
    """Imports a performance CSV (a header row naming the columns of ``PUT /media/performance``'s rows, at
    least date and ad), all or nothing, as ``PUT /media/performance`` stores rows.

    Refuses a body that is not ``text/csv`` (415), over the size limit (413), not UTF-8, without the header,
    with a row longer than the header or any bad row (422, every row's errors). Nothing is written then.
    Idempotent: the same file again replaces its rows with themselves.
    """
    raw = await request.body()  # at most max_body_bytes: the HTTP guard refused more
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ValidationFailed("the body is not UTF-8 text", [FieldError(line, "file", "not UTF-8")]) from exc
    rows = await run_in_threadpool(read_csv, text)
    return ImportedPublic.of(await run_in_threadpool(keel.media.performance.save, rows))


@router.get(
    "/media/performance",
    response_model=PerformancePage,
    operation_id="list_ad_performance",
    summary="Performance totals",
)
def list_performance(
    keel: KeelDep,
    by: Annotated[Literal["sku", "campaign", "channel", "region", "account", "day"], Query()] = "campaign",
    since: Day = None,
    until: Day = None,
    key: Annotated[str | None, Query(max_length=64, description="only this SKU, campaign, ... or day")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PerformancePage:
    """Performance totals per SKU, campaign, channel, region (country), account or day and currency (money is
    never added across currencies), biggest cost first, with ROAS (sales_7d / cost) and ACoS (cost /
    sales_7d), over the days ``since`` .. ``until``.

    Refuses an unknown ``by``, a bad date and paging values out of range (422). Idempotent: a read.
    """
    rows, total = keel.media.performance.totals(by, since, until, key, limit, offset)
    items = [PerformanceLinePublic.of(p) for p in rows]
    return PerformancePage(by=by, items=items, total=total, limit=limit, offset=offset)


router.include_router(rules_router)
