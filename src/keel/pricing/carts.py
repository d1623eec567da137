"""Promotion and cart use cases: promotions and their coupon codes kept as data, carts evaluated at the
published prices (``model.cart``), and redemptions that count uses and budgets exactly once per reference.

A cart reads one snapshot: the published prices of its SKUs in the market (with their floors and
explanations), their tax classes, the live promotions (kept in memory between carts and reloaded when a
promotion is saved or deleted: one cheap query per cart tells), the state of its codes and the counters of
the promotions that have limits. Evaluating changes nothing; redeeming evaluates again inside the write
transaction and counts what applied, refusing the whole cart (409) when a code or a limit ran out meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.scope import OutOfScope, Scope
from keel.pricing import promo_store
from keel.pricing.coupons import CouponCodes
from keel.pricing.engine import Market
from keel.pricing.gather import Tags, no_tags
from keel.pricing.limits import limits_of
from keel.pricing.model import STANDARD, Priced, Step, inclusive, rate_of
from keel.pricing.model.cart import Cart, CartLine, Evaluated, Limits, evaluate
from keel.pricing.model.checkout import CartRequest, parse_cart
from keel.pricing.model.lists import amount_of
from keel.pricing.model.promotions import Promotion, document_of, parse_promotion
from keel.pricing.model.sale import Tagged
from keel.pricing.model.shortlist import Shortlist
from keel.pricing.store import rates as stored_rates
from keel.pricing.whatif import PromotionPreview, Tally

# (market, country, customer group, SKU -> quantity, moment) -> SKU -> its price, for the lines whose price is
# not the published one
Quote = Callable[[Market, str, str | None, Mapping[str, int], datetime, bool], Mapping[str, Priced]]


MAX_CART = 10**15  # minor units: far above any real cart, far below what the counters' 64 bits hold


class Ordered(Protocol):
    """An order as a what-if replays it (``keel.orders.OrderCart``)."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def channel(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def lines(self) -> Sequence[tuple[str, int]]: ...


@dataclass(frozen=True)
class PromotionView:
    promotion: Promotion
    document: dict[str, Any]
    uses: int
    spent: int
    updated_at: datetime
    status: str  # live, scheduled, ended or off


@dataclass(frozen=True)
class Shelf:
    """Where a line's unit price came from: the price list and the policy steps of the published price."""

    price_list: str
    compare_at: int | None
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class CartView:
    channel: str
    country: str
    at: datetime
    result: Evaluated
    shelves: Mapping[str, Shelf]  # SKU -> its unit price's explanation


@dataclass(frozen=True)
class Redeemed:
    reference: str
    redemptions: list[promo_store.Redemption]
    replayed: bool  # True: the reference was redeemed before; nothing was counted again
    cart: CartView | None  # the cart as redeemed now (None when replayed)


class PromotionService(CouponCodes):
    def __init__(
        self,
        db: Any,
        market: Callable[[str], Market | None] = lambda code: None,
        tags: Tags = no_tags,
        recent: Callable[[datetime, int], Sequence[Ordered]] = lambda since, limit: [],
        order: Callable[[int, Scope], Ordered] | None = None,
        reprice: Callable[[Promotion], object] = lambda promotion: None,
        quote: Quote = lambda market, country, group, lines, at, every: {},
    ) -> None:
        self.db, self.market, self.tags, self.recent, self.order = db, market, tags, recent, order
        self.reprice = reprice  # a published promotion saved or deleted: its prices recomputed
        self.quote = quote  # lines a customer group's list or a quantity tier prices (PricingService.quote)
        self._lock = threading.Lock()
        self._cached: tuple[int, dict[str, Promotion], Shortlist] | None = None

    # -- promotions -----------------------------------------------------------------------------------------
    def save(self, code: str, document: object) -> PromotionView:
        """Create or replace promotion ``code``. Refused when invalid, or when it is exclusive and would be
        live beside another exclusive one of the same priority and class (or both global) for a common
        channel, country and customer group: which one applies would be a coin toss."""
        p = parse_promotion(code, document)
        with self.db.write() as conn:
            every = self._live(conn)[0]
            before = every.get(code)
            if p.exclusive != "none" and p.active:
                for other in every.values():
                    if (
                        other.code != p.code
                        and other.active
                        and other.exclusive != "none"
                        and other.priority == p.priority
                    ):
                        same_class = p.exclusive == other.exclusive == "global" or p.klass == other.klass
                        if same_class and p.overlaps(other):
                            reason = f"overlaps the exclusive promotion {other.code!r} at the same priority"
                            raise ValidationFailed("overlapping exclusive promotions", [
                                FieldError(None, "exclusive", reason)])  # fmt: skip
            promo_store.save(conn, code, document_of(p), utcnow())
        for published in {q for q in (before, p) if q is not None and q.publish}:
            self.reprice(published)  # in the published prices: recomputed where it reaches, announced
        return self.get(code)

    def delete(self, code: str) -> None:
        with self.db.write() as conn:
            before = self._live(conn)[0].get(code)
            if not promo_store.delete(conn, code):
                raise NotFound(f"no promotion {code!r}")
        if before is not None and before.publish:
            self.reprice(before)

    def promotions(
        self, within: Scope = Scope.ALL, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[PromotionView], int]:
        """Promotions ``within`` sees (those for any channel, or for one of its channels), by code."""
        now = utcnow()
        with self.db.read() as conn:
            stored = promo_store.promotions(conn)
        views = [_view(s, now) for s in stored]
        views = [
            v
            for v in views
            if (status is None or v.status == status)
            and (not v.promotion.scope.channels or any(within.sees_channel(c) for c in v.promotion.scope.channels))
        ]
        return views[offset : offset + limit], len(views)

    def get(self, code: str, within: Scope = Scope.ALL) -> PromotionView:
        found = next((v for v in self.promotions(within, limit=1_000_000)[0] if v.promotion.code == code), None)
        if found is None:
            raise NotFound(f"no promotion {code!r}")
        return found

    # -- carts ----------------------------------------------------------------------------------------------
    def evaluate(self, document: object, within: Scope = Scope.ALL) -> CartView:
        """The cart priced, discounted, taxed and explained; nothing is counted or changed."""
        request = parse_cart(document)
        market = self._market(request, within)
        with self.db.read() as conn:
            return self._evaluate(conn, request, market)[0]

    def price_order(self, order_id: int, document: object = None, within: Scope = Scope.ALL) -> CartView:
        """A captured order's lines priced as a cart now, in its channel and ship-to country, with the
        ``codes`` and ``customer`` of ``document`` (``{"codes": [...], "customer": {...}, "shipping": ...}``):
        what Keel's prices and promotions make of it. ``NotFound`` for an order ``within`` does not see."""
        if self.order is None:
            raise NotFound("orders are not connected to pricing here")
        extra = document if isinstance(document, dict) else {}
        unknown = sorted(set(extra) - {"codes", "customer", "shipping"})
        if unknown or (document is not None and not isinstance(document, dict)):
            raise ValidationFailed("invalid cart", [FieldError(None, str(k)[:64], "unknown field") for k in unknown])
        placed = self.order(order_id, within)
        lines = [{"sku": s, "quantity": q} for s, q in _merged(placed.lines).items()]
        return self.evaluate({**extra, "channel": placed.channel, "country": placed.country, "lines": lines}, within)

    def redeem(self, reference: str, document: object, within: Scope = Scope.ALL) -> Redeemed:
        """Evaluate the cart and count what applied (uses, codes, budgets, the customer's uses) under
        ``reference`` (an order, a receipt), in one transaction. A reference redeemed before is answered
        with what it took then and counts nothing; a cart naming a code that cannot be used is refused
        whole (409), as is one whose limits ran out while it was being counted."""
        if not isinstance(reference, str) or not 1 <= len(reference) <= 128 or not reference.isprintable():
            raise ValidationFailed(
                "invalid reference", [FieldError(None, "reference", "1 to 128 printable characters")]
            )
        request = parse_cart(document)
        market = self._market(request, within)
        with self.db.write() as conn:
            if not promo_store.claim(conn, reference, utcnow()):
                return Redeemed(reference, promo_store.redeemed(conn, reference), True, None)
            view, limits = self._evaluate(conn, request, market)
            refused = sorted((c, w) for c, w in view.result.codes.items() if w != "applied")
            if refused:
                raise Conflict(f"code {refused[0][0]}: {refused[0][1]}")
            promotions = self._live(conn)[0]
            unlocked = {p: c for c, p in limits.unlocked.items()}
            taken = []
            for outcome in view.result.outcomes:
                if not outcome.applied:
                    continue
                p = promotions.get(outcome.promotion)
                if p is None:
                    raise Conflict(f"promotion {outcome.promotion} was deleted meanwhile")
                code: str | None = unlocked.get(p.code)
                if code is not None and not promo_store.use_coupon(conn, code):
                    raise Conflict(f"code {code}: exhausted")
                if not promo_store.use_promotion(conn, p.code, outcome.amount, p.usage_limit, p.budget):
                    raise Conflict(f"promotion {p.code}: its usage limit or budget ran out")
                if request.customer and not promo_store.use_by_customer(
                    conn, p.code, request.customer, p.per_customer_limit
                ):
                    raise Conflict(f"promotion {p.code}: this customer's limit is reached")
                taken.append(promo_store.Redemption(p.code, code, outcome.amount, market.currency))
            promo_store.record(conn, reference, request.customer, taken, utcnow())
        return Redeemed(reference, taken, False, view)

    # -- internals ------------------------------------------------------------------------------------------
    def _market(self, request: CartRequest, within: Scope) -> Market:
        within.check_channel(request.channel)
        if not within.sees_country(request.country):
            raise OutOfScope(f"the country {request.country!r} is outside your restrictions")
        market = self.market(request.channel)
        if market is None:
            raise ValidationFailed("unknown channel", [FieldError(None, "channel", "the code of an active channel")])
        if request.country not in market.countries:
            reason = f"{request.channel} sells in {', '.join(market.countries)}"
            raise ValidationFailed("channel does not sell there", [FieldError(None, "country", reason)])
        return market

    def preview(self, code: str, document: object, days: int = 28, limit: int = 2000) -> PromotionPreview:
        """What saving ``document`` as promotion ``code`` would do to the latest orders (``keel.pricing.whatif``);
        nothing is saved or counted. Refused like ``save`` when the document is invalid."""
        proposed = parse_promotion(code, document)
        if not 1 <= days <= 366 or not 1 <= limit <= 20_000:
            raise ValidationFailed("invalid preview", [FieldError(None, "days", "1 to 366 days, 1 to 20,000 orders")])
        at = max(utcnow(), proposed.valid_from or utcnow())  # a scheduled promotion is weighed as it starts
        tally = Tally(code)
        markets: dict[str, Market | None] = {}
        with self.db.read() as conn:
            every, _ = self._live(conn)
            # a sale to be published is not in today's prices yet: weighed as carts will take it. One published
            # already is in the prices the carts read, which a replay cannot take it out of: refused, not guessed
            stored = every.get(code)
            if stored is not None and stored.publish:
                reason = "a published sale is in today's prices: its change cannot be replayed on them"
                raise ValidationFailed("cannot preview", [FieldError(None, "publish", reason)])
            proposed = replace(proposed, publish=False)
            changed = {**every, code: proposed}
            after = (changed, Shortlist.of(list(changed.values())))
            for order in self.recent(utcnow() - timedelta(days=days), limit):
                tally.seen(order.created_at)
                market = markets.setdefault(order.channel, self.market(order.channel))
                if market is None or order.country not in market.countries:
                    tally.unpriced += 1
                    continue
                request = CartRequest(order.channel, order.country, tuple(_merged(order.lines).items()), at=at)
                try:
                    was = self._evaluate(conn, request, market)[0].result
                    will = self._evaluate(conn, request, market, after)[0].result
                except ValidationFailed:
                    tally.unpriced += 1
                    continue
                tally.add(order.channel, order.country, was, will)
        return tally.preview()

    def _evaluate(
        self,
        conn: Connection,
        request: CartRequest,
        market: Market,
        live: tuple[Mapping[str, Promotion], Shortlist] | None = None,
    ) -> tuple[CartView, Limits]:
        at = request.at or utcnow()
        skus = [s for s, _ in request.lines]
        shelf = promo_store.shelf_prices(conn, market.channel, request.country, skus)
        # a customer group's list or a quantity tier prices those lines otherwise than the published price, and a
        # cart at another moment than now is priced at that moment (lists and published sales by their windows)
        special = self.quote(market, request.country, request.group, dict(request.lines), at, request.at is not None)
        errors = [FieldError(row, "sku", f"{s} has no price on {market.channel} in {request.country}")
                  for row, s in enumerate(skus, start=1) if s not in shelf and s not in special]  # fmt: skip
        shipping = 0
        if request.shipping is not None:
            shipping = amount_of(request.shipping, market.currency, None, "shipping", errors) or 0
        if errors:
            raise ValidationFailed("the cart cannot be priced", errors)
        rates = stored_rates(conn)
        every, shortlist = live or self._live(conn)
        # the catalog is asked for brands and categories only when a stored promotion selects lines by them
        needed = shortlist.by_brand or shortlist.by_category
        tags: Mapping[str, Tagged] = self.tags(skus) if needed else {}
        lines = []
        classes = promo_store.tax_classes(conn, [s for s in special if s not in shelf]) if special else {}
        shelves: dict[str, Shelf] = {}
        for sku, quantity in request.lines:
            tagged, quoted = tags.get(sku), special.get(sku)
            tax_class = shelf[sku].tax_class if sku in shelf else classes.get(sku)
            rate = rate_of(request.country, tax_class or STANDARD, rates)
            categories, brand = (tagged.categories, tagged.brand) if tagged else (frozenset(), None)
            if quoted is not None:
                unit, floor = quoted.amount, quoted.floor
                shelves[sku] = Shelf(quoted.price_list, quoted.compare_at, quoted.steps)
            else:
                unit, floor, held = shelf[sku].amount, shelf[sku].floor, shelf[sku]
                shelves[sku] = Shelf(held.price_list, held.compare_at, tuple(Step(**x) for x in held.steps))
            lines.append(CartLine(sku, quantity, unit, floor, rate, categories, brand))
        if sum(ln.unit * ln.quantity for ln in lines) + shipping > MAX_CART:
            raise ValidationFailed(
                "the cart is too large", [FieldError(None, "lines", "a cart of at most 10^15 minor units")]
            )
        cart = Cart(
            market.channel, request.country, market.currency, inclusive(request.country), tuple(lines), at,
            request.customer, request.group, request.tier, request.codes, shipping,
            rate_of(request.country, STANDARD, rates),
        )  # fmt: skip
        # a published promotion is in the unit price already (its step explains it)
        promotions = [p for p in shortlist.candidates(lines) if p.currency in (None, market.currency) and not p.publish]
        limits = limits_of(conn, cart, promotions, every)
        result = evaluate(cart, promotions, limits)
        return CartView(market.channel, request.country, at, result, shelves), limits

    def _live(self, conn: Connection) -> tuple[dict[str, Promotion], Shortlist]:
        """Every stored promotion by code and their shortlist index, parsed and built once per version of the
        table (a promotion saved or deleted); counters are not part of it (they are read per cart)."""
        version = promo_store.version(conn)
        with self._lock:
            if self._cached is not None and self._cached[0] == version:
                return self._cached[1], self._cached[2]
        parsed = [parse_promotion(s.code, s.document) for s in promo_store.promotions(conn)]
        cached = (version, {p.code: p for p in parsed}, Shortlist.of(parsed))
        with self._lock:
            self._cached = cached
        return cached[1], cached[2]


def _merged(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for sku, quantity in lines:
        out[sku] = out.get(sku, 0) + quantity
    return out


def _view(s: promo_store.StoredPromotion, now: datetime) -> PromotionView:
    p = parse_promotion(s.code, s.document)
    if not p.active:
        status = "off"
    elif p.valid_to is not None and p.valid_to <= now:
        status = "ended"
    elif p.valid_from is not None and now < p.valid_from:
        status = "scheduled"
    else:
        status = "live"
    return PromotionView(p, s.document, s.uses, s.spent, s.updated_at, status)
