"""Request and response models of the promotions and carts API: amounts as decimal strings in the cart's or
the promotion's currency (``keel.platform.money.plain``), never binary floats; rates as decimal fractions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, Field, StrictInt

from keel.platform.money import plain
from keel.platform.schemas import StrictModel, clean
from keel.pricing.carts import CartView, PromotionView, Redeemed
from keel.pricing.coupons import MAX_BATCH
from keel.pricing.model.cart import Line
from keel.pricing.promo_store import Coupon
from keel.pricing.schemas import StepPublic, rate_text
from keel.pricing.whatif import PromotionPreview

Status = Literal["live", "scheduled", "ended", "off"]
CouponCode = Annotated[str, Field(max_length=64), AfterValidator(clean)]


class PromotionPublic(BaseModel):
    code: str
    name: str
    kind: str = Field(examples=["percent_off"], description="percent_off, amount_off, buy_x_get_y, bundle, ...")
    currency: str | None = Field(description="the currency of its amounts (None: none, it applies in any)")
    status: Status = Field(description="live now, scheduled (its window has not begun), ended, or off")
    uses: int = Field(description="carts redeemed with it")
    spent: str | None = Field(
        description="the discount it gave in all, in its currency (None: it has no currency of its own)"
    )
    updated_at: datetime
    document: dict[str, Any] = Field(description="the promotion as saved: PUT it back, changed, to change it")

    @classmethod
    def of(cls, v: PromotionView) -> PromotionPublic:
        p = v.promotion
        spent = None if p.currency is None else plain(v.spent, p.currency)
        return cls(
            code=p.code, name=p.name, kind=p.kind, currency=p.currency, status=cast(Status, v.status), uses=v.uses,
            spent=spent, updated_at=v.updated_at, document=v.document,
        )  # fmt: skip


class PromotionPage(BaseModel):
    items: list[PromotionPublic]
    total: int
    limit: int
    offset: int


class CodesAdd(StrictModel):
    count: StrictInt = Field(0, ge=0, le=MAX_BATCH, description="codes to generate: prefix + 10 random characters")
    prefix: Annotated[str, Field(max_length=20), AfterValidator(clean)] = Field("", examples=["XMAS-"])
    codes: list[CouponCode] = Field([], max_length=MAX_BATCH, description="codes given as they are (upper-cased)")
    max_uses: StrictInt | None = Field(
        1, ge=1, le=1_000_000_000, description="uses of each code (1: single use; null: unlimited)"
    )


class CodesAdded(BaseModel):
    promotion: str
    codes: list[str] = Field(description="the codes new to the promotion (given ones stored before are left out)")


class CodePublic(BaseModel):
    code: str
    max_uses: int | None = Field(description="None: unlimited")
    uses: int

    @classmethod
    def of(cls, c: Coupon) -> CodePublic:
        return cls(code=c.code, max_uses=c.max_uses, uses=c.uses)


class CodePage(BaseModel):
    items: list[CodePublic]
    total: int
    limit: int
    offset: int


# -- carts ----------------------------------------------------------------------------------------------------------
class DiscountPublic(BaseModel):
    promotion: str
    amount: str = Field(examples=["2.10"], description="what the promotion took off this line")


def _taxed(ln: Line, currency: str) -> dict[str, Any]:
    """What a line and the shipping share: the amounts before and after discounts, and the tax split."""
    return {
        "amount": plain(ln.amount, currency),
        "discounts": [DiscountPublic(promotion=d.promotion, amount=plain(d.amount, currency)) for d in ln.discounts],
        "total": plain(ln.total, currency), "net": plain(ln.net, currency), "tax": plain(ln.tax, currency),
        "gross": plain(ln.gross, currency), "rate": rate_text(ln.rate),
    }  # fmt: skip


class LinePublic(BaseModel):
    sku: str
    quantity: int
    unit: str = Field(examples=["20.99"], description="the published unit price, on the market's basis")
    amount: str = Field(description="unit x quantity")
    discounts: list[DiscountPublic] = Field(description="each promotion's share of this line, by promotion")
    total: str = Field(description="amount less its discounts, on the market's basis")
    net: str
    tax: str
    gross: str
    rate: str = Field(examples=["0.19"], description="the tax rate of the SKU's class in the country: a fraction")
    price_list: str = Field(description="the list the unit price's base came from")
    compare_at: str | None = Field(description="the price shown struck through")
    steps: list[StepPublic] = Field(description="every step that set or changed the unit price, in order")


class ShippingPublic(BaseModel):
    amount: str = Field(description="the shipping before discounts, on the market's basis")
    discounts: list[DiscountPublic]
    total: str
    net: str
    tax: str
    gross: str
    rate: str = Field(description="the country's standard rate")


class TotalsPublic(BaseModel):
    subtotal: str = Field(description="the lines' and shipping's amounts before discounts")
    discount: str
    total: str = Field(description="subtotal less discount, on the market's basis: the sum of the lines' totals")
    net: str
    tax: str
    gross: str = Field(description="what the customer pays")


class OutcomePublic(BaseModel):
    promotion: str
    applied: bool
    amount: str = Field(description="what it took off the cart (0 when not applied)")
    reason: str = Field(description="how it was computed, or why it did not apply")


class CodeStatus(BaseModel):
    code: str
    status: str = Field(description="applied, or why not: unknown, expired, exhausted, not valid yet, ...")


class CartPublic(BaseModel):
    channel: str
    country: str
    at: datetime = Field(description="the moment the cart was priced at")
    currency: str
    tax_inclusive: bool = Field(description="whether the market states prices with tax (then gross == total)")
    lines: list[LinePublic]
    shipping: ShippingPublic | None = Field(description="None: the cart named no shipping")
    totals: TotalsPublic
    outcomes: list[OutcomePublic] = Field(description="the promotions for this market: applied first, then why not")
    codes: list[CodeStatus] = Field(description="each code of the cart, by code")

    @classmethod
    def of(cls, view: CartView) -> CartPublic:
        r, c = view.result, view.result.currency
        lines = []
        for ln in r.lines:
            shelf = view.shelves[ln.sku]
            steps = [
                StepPublic(rule=s.rule, before=plain(s.before, c), after=plain(s.after, c), note=s.note)
                for s in shelf.steps
            ]
            compare = None if shelf.compare_at is None else plain(shelf.compare_at, c)
            lines.append(LinePublic(
                sku=ln.sku, quantity=ln.quantity, unit=plain(ln.unit, c), **_taxed(ln, c),
                price_list=shelf.price_list, compare_at=compare, steps=steps,
            ))  # fmt: skip
        totals = TotalsPublic(
            subtotal=plain(r.subtotal, c), discount=plain(r.discount, c), total=plain(r.total, c),
            net=plain(r.net, c), tax=plain(r.tax, c), gross=plain(r.gross, c),
        )  # fmt: skip
        shipping = None if r.shipping is None else ShippingPublic(**_taxed(r.shipping, c))
        return cls(
            channel=view.channel, country=view.country, at=view.at, currency=c, tax_inclusive=r.inclusive,
            lines=lines, shipping=shipping, totals=totals,
            outcomes=[OutcomePublic(promotion=o.promotion, applied=o.applied, amount=plain(o.amount, c),
                                    reason=o.reason) for o in r.outcomes],
            codes=[CodeStatus(code=code, status=status) for code, status in sorted(r.codes.items())],
        )  # fmt: skip


class RedemptionPublic(BaseModel):
    promotion: str
    code: str | None = Field(description="the code that unlocked it (None: no code needed)")
    amount: str = Field(description="the discount it gave the cart")
    currency: str = Field(description="the cart's currency when it was redeemed")


class RedeemedPublic(BaseModel):
    reference: str
    replayed: bool = Field(description="true: redeemed before under this reference; nothing was counted again")
    redemptions: list[RedemptionPublic] = Field(description="what each applied promotion counted, by promotion")
    cart: CartPublic | None = Field(description="the cart as redeemed now (None when replayed)")

    @classmethod
    def of(cls, r: Redeemed) -> RedeemedPublic:
        taken = [
            RedemptionPublic(
                promotion=x.promotion, code=x.code, amount=plain(x.amount, x.currency), currency=x.currency
            )
            for x in r.redemptions
        ]
        cart = None if r.cart is None else CartPublic.of(r.cart)
        return cls(reference=r.reference, replayed=r.replayed, redemptions=taken, cart=cart)


class SkuEffectPublic(BaseModel):
    channel: str
    country: str
    sku: str
    currency: str
    units: int = Field(description="units of the SKU in the replayed orders")
    discount_before: str = Field(description="the discount the SKU's lines took with the promotions as they are")
    discount_after: str = Field(description="... and with the proposed promotion saved")


class CurrencyEffectPublic(BaseModel):
    currency: str
    carts: int
    discount_before: str
    discount_after: str
    net_before: str = Field(description="what the carts pay net of tax now (the margin moves by as much)")
    net_after: str = Field(description="... with the proposed promotion")
    net_change_per_day: str = Field(description="(net after - net before) per day the replayed orders span")


class PromotionPreviewPublic(BaseModel):
    code: str
    carts: int = Field(description="latest orders replayed as carts")
    unpriced: int = Field(description="of which left out: a SKU without a published price in its market today")
    applied: int = Field(description="carts the proposed promotion applies to")
    days: float = Field(description="the period the replayed orders span")
    currencies: list[CurrencyEffectPublic]
    skus: list[SkuEffectPublic] = Field(description="the largest changes of discount, at most 50")

    @classmethod
    def of(cls, p: PromotionPreview) -> PromotionPreviewPublic:
        money = [
            CurrencyEffectPublic(
                currency=c.currency, carts=c.carts, discount_before=plain(c.discount_before, c.currency),
                discount_after=plain(c.discount_after, c.currency), net_before=plain(c.net_before, c.currency),
                net_after=plain(c.net_after, c.currency),
                net_change_per_day=plain(c.per_day_net_change, c.currency),
            )
            for c in p.currencies
        ]  # fmt: skip
        skus = [
            SkuEffectPublic(
                channel=s.channel, country=s.country, sku=s.sku, currency=s.currency, units=s.units,
                discount_before=plain(s.discount_before, s.currency),
                discount_after=plain(s.discount_after, s.currency),
            )
            for s in p.skus
        ]  # fmt: skip
        return cls(code=p.code, carts=p.carts, unpriced=p.unpriced, applied=p.applied, days=p.days,
                   currencies=money, skus=skus)  # fmt: skip
