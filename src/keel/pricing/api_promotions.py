"""HTTP API of promotions, their coupon codes and carts: the one cart evaluation the web store, the app and the
till call, and the redemption that counts what a paid cart used (mounted by ``keel.pricing.api``).

A promotion is addressed by its code in the path; its document is described in docs/api.md and in
``keel.pricing.model.promotions``. A cart is priced at the published prices of its channel and country, so a
caller restricted to some channels or countries prices carts in those only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset
from keel.platform.schemas import Document
from keel.pricing.schemas_promotions import (
    CartPublic,
    CodePage,
    CodePublic,
    CodesAdd,
    CodesAdded,
    PromotionPage,
    PromotionPreviewPublic,
    PromotionPublic,
    RedeemedPublic,
    Status,
)

router = APIRouter(tags=["pricing"])
CodePath = Annotated[str, Path(max_length=64, description="the promotion's code, e.g. xmas-20")]

PROMOTION_EXAMPLE = {
    "name": "Christmas: 20 % off Nordic Trail",
    "kind": "percent_off",
    "target": "items",
    "percent": "0.20",
    "scope": {"channels": ["web-de"], "brands": ["Nordic Trail"]},
    "valid_from": "2026-12-01T00:00:00+01:00",
    "valid_to": "2026-12-27T00:00:00+01:00",
    "priority": 10,
    "exclusive": "class",
    "coupon": True,
    "per_customer_limit": 1,
}
CODES_EXAMPLE = {"count": 100, "prefix": "XMAS-", "max_uses": 1}
CART_EXAMPLE = {
    "channel": "web-de",
    "country": "DE",
    "lines": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
    "customer": {"id": "c-1042", "group": "members", "loyalty_tier": "gold"},
    "codes": ["XMAS-7KQ2M9PZ4R"],
    "shipping": "4.95",
}


# -- promotions -----------------------------------------------------------------------------------------------------
@router.get(
    "/pricing/promotions", response_model=PromotionPage, operation_id="list_promotions", summary="List promotions"
)
def list_promotions(
    keel: KeelDep,
    scope: ScopeDep,
    status: Annotated[Status | None, Query(description="live, scheduled, ended or off")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> PromotionPage:
    """The promotions (those for every channel, or for one the caller sees) by code, a page at a time, each
    with its status now, its counters (carts redeemed, discount given) and its document.

    Refuses a status that is none of live, scheduled, ended, off and paging values out of range (422).
    Idempotent: a read, it changes nothing.
    """
    views, total = keel.promotions.promotions(scope, status, limit, offset)
    return PromotionPage(items=[PromotionPublic.of(v) for v in views], total=total, limit=limit, offset=offset)


@router.get(
    "/pricing/promotions/{code}",
    response_model=PromotionPublic,
    operation_id="get_promotion",
    summary="Get a promotion",
)
def get_promotion(code: CodePath, keel: KeelDep, scope: ScopeDep) -> PromotionPublic:
    """One promotion with its status, counters and document.

    Refuses an unknown promotion, or one only for channels the caller does not see (404). Idempotent: a read.
    """
    return PromotionPublic.of(keel.promotions.get(code, scope))


@router.put(
    "/pricing/promotions/{code}",
    response_model=PromotionPublic,
    operation_id="put_promotion",
    summary="Save a promotion",
)
def put_promotion(
    code: CodePath, keel: KeelDep, body: Annotated[Document, Body(examples=[PROMOTION_EXAMPLE])]
) -> PromotionPublic:
    """Creates or replaces the promotion (``kind``: percent_off, amount_off, buy_x_get_y, bundle,
    tiered_spend; its settings, ``scope``, window, ``priority``, ``exclusive``, ``stop_further``, ``group``,
    ``coupon``, limits and ``budget``; amounts as decimal strings in its ``currency``; see docs/api.md).
    Its counters and codes are kept; carts see it at once. A published one (``publish``: a sale price for
    everyone) also reprices what it reaches, announced as price.changed; the others change no published price.

    Refuses a bad document with every problem at once (422): an unknown field or a setting of another kind,
    a currency that is not ISO 4217, a negative or zero amount, a fraction outside (0, 1], an empty scope
    (``{"all": true}`` says every cart), a window that ends before it starts, and an exclusive promotion that
    would be live beside another exclusive one of the same priority and class for a common channel, country
    and customer group. Nothing is written then. Idempotent: the same document again leaves the same
    promotion (only its ``updated_at`` moves).
    """
    return PromotionPublic.of(keel.promotions.save(code, body))


@router.delete(
    "/pricing/promotions/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_promotion",
    summary="Delete a promotion",
)
def delete_promotion(code: CodePath, keel: KeelDep) -> Response:
    """Deletes the promotion with its codes and per-customer counts; the redemptions it gave stay (they are
    history). A published one's prices are recomputed without it and announced. Answers 204 with no body.

    Refuses an unknown promotion (404). Not idempotent: a second call answers 404, leaving the same state.
    """
    keel.promotions.delete(code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- coupon codes ---------------------------------------------------------------------------------------------------
@router.post(
    "/pricing/promotions/{code}/codes",
    response_model=CodesAdded,
    operation_id="add_promotion_codes",
    summary="Add coupon codes",
)
def add_codes(code: CodePath, keel: KeelDep, body: Annotated[CodesAdd, Body(examples=[CODES_EXAMPLE])]) -> CodesAdded:
    """Adds codes to a coupon promotion: ``codes`` as given (upper-cased) and ``count`` generated ones
    (``prefix`` then 10 random characters without 0/O or 1/I), each usable ``max_uses`` times (1 when left
    out, null: unlimited). Answers the codes that are new.

    Refuses an unknown promotion (404), one that is not a coupon promotion, no code at all or over 100,000,
    a code or prefix that is not letters, digits, _ and -, an unknown field (422), and a given code that
    belongs to another promotion (409); nothing is written then. Not idempotent for generated codes (each
    call makes new ones); given codes stored before are left as they are and not answered again.
    """
    added = keel.promotions.add_codes(
        code, count=body.count, codes=body.codes, prefix=body.prefix, max_uses=body.max_uses
    )
    return CodesAdded(promotion=code, codes=added)


@router.get(
    "/pricing/promotions/{code}/codes",
    response_model=CodePage,
    operation_id="list_promotion_codes",
    summary="List a promotion's codes",
)
def list_codes(code: CodePath, keel: KeelDep, scope: ScopeDep, limit: Limit = 100, offset: Offset = 0) -> CodePage:
    """A page of the promotion's codes by code, each with its uses and limit.

    Refuses an unknown promotion, or one only for channels the caller does not see (404), and paging values
    out of range (422). Idempotent: a read.
    """
    keel.promotions.get(code, scope)
    coupons, total = keel.promotions.codes(code, limit, offset)
    return CodePage(items=[CodePublic.of(c) for c in coupons], total=total, limit=limit, offset=offset)


# -- carts ----------------------------------------------------------------------------------------------------------
@router.post(
    "/pricing/carts/evaluate", response_model=CartPublic, operation_id="evaluate_cart", summary="Evaluate a cart"
)
def evaluate_cart(
    keel: KeelDep, scope: ScopeDep, body: Annotated[Document, Body(examples=[CART_EXAMPLE])]
) -> CartPublic:
    """Prices a cart (``channel``, ``country``, ``lines`` of ``sku`` and ``quantity``, optional ``customer``
    with ``id``, ``group`` and ``loyalty_tier``, ``codes``, ``shipping`` as a decimal string, ``at`` to price
    it at another moment) at the published prices, applies the promotions, spreads order discounts over the
    lines by value and taxes each line: every line with its discounts, tax split and its unit price's
    explanation; the totals (each the sum of its lines); every promotion for this market, applied or why
    not; every code's status. A read with a body: nothing is counted.

    Refuses a bad cart with every problem at once (422): an unknown field, not 1 to 200 lines, a quantity
    that is not a whole number from 1 to 100,000, an unknown or inactive channel, a country the channel does
    not sell in, a SKU without a price there (by its row), a bad shipping amount or moment; a channel outside
    the caller's restrictions (403). Codes that cannot be used are answered with why, not refused.
    Idempotent: it changes nothing.
    """
    return CartPublic.of(keel.promotions.evaluate(body, scope))


@router.post(
    "/pricing/carts/redeem/{reference}",
    response_model=RedeemedPublic,
    operation_id="redeem_cart",
    summary="Redeem a cart",
)
def redeem_cart(
    reference: Annotated[str, Path(max_length=128, description="the order or receipt the cart was paid as")],
    keel: KeelDep,
    scope: ScopeDep,
    body: Annotated[Document, Body(examples=[CART_EXAMPLE])],
) -> RedeemedPublic:
    """Evaluates the cart again and counts what applied under ``reference`` (an order, a receipt), in one
    transaction: each promotion's uses and discount given, each code's use, each customer's use. Answers the
    redemptions and the cart as redeemed.

    Refuses what evaluating refuses (422, 403), a reference that is not 1 to 128 printable characters (422),
    and a cart naming a code that cannot be used (unknown, expired, exhausted, not valid yet) or whose usage
    limit, budget or customer's limit ran out while it was counted (409): nothing is counted then.
    Safe to repeat: the same reference again answers what it took the first time (``replayed``), counting
    nothing.
    """
    return RedeemedPublic.of(keel.promotions.redeem(reference, body, scope))


@router.post(
    "/pricing/carts/orders/{order_id}",
    response_model=CartPublic,
    operation_id="price_order",
    summary="Price a captured order as a cart",
)
def price_order(
    order_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    keel: KeelDep,
    scope: ScopeDep,
    body: Annotated[Document | None, Body(examples=[{"codes": ["XMAS-7KQ2M9PZ4R"], "customer": {"id": "c-1"}}])] = None,
) -> CartPublic:
    """Prices a captured order's lines as a cart now, in its channel and ship-to country, at today's
    published prices and promotions, with the optional ``codes``, ``customer`` and ``shipping`` of the body:
    what Keel's prices and promotions make of the order (the unit prices captured with it are the channel's).
    Nothing is counted.

    Refuses an order the caller does not see (404), an unknown field in the body, and an order with a SKU
    no longer priced in its market (422, by line). Idempotent: it changes nothing.
    """
    return CartPublic.of(keel.promotions.price_order(order_id, body, scope))


@router.post(
    "/pricing/promotions/{code}/preview",
    response_model=PromotionPreviewPublic,
    operation_id="preview_promotion",
    summary="Preview a promotion before saving it",
)
def preview_promotion(
    code: CodePath,
    keel: KeelDep,
    body: Annotated[Document, Body(examples=[PROMOTION_EXAMPLE])],
    days: Annotated[int, Query(ge=1, le=366, description="how far back orders are replayed")] = 28,
    limit: Annotated[int, Query(ge=1, le=20_000, description="at most this many of the latest orders")] = 2000,
) -> PromotionPreviewPublic:
    """Weighs a promotion document before it is saved: the latest orders (up to ``limit`` of the last
    ``days``) replayed as carts at today's prices, with the promotions as they are and with this document
    saved as ``code``: per currency the discount and what the carts pay net of tax before and after, and
    that change per day; the SKUs whose discounts move most. Nothing is saved or counted.

    Refuses an invalid document exactly as saving it would (422). Idempotent: it changes nothing.
    """
    return PromotionPreviewPublic.of(keel.promotions.preview(code, body, days, limit))
