"""Promotion and cart use cases: promotions and their coupon codes kept as data, carts evaluated at the
published prices (``model.cart``), and redemptions that count uses and budgets exactly once per reference.

A cart reads one snapshot: the published prices of its SKUs in the market (with their floors and
explanations), their tax classes, the live promotions (kept in memory between carts and reloaded when a
promotion is saved or deleted: one cheap query per cart tells), the state of its codes and the counters of
the promotions that have limits. Evaluating changes nothing; redeeming evaluates again inside the write
transaction and counts what applied, refusing the whole cart (409) when a code or a limit ran out meanwhile.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.scope import Scope
from keel.pricing import promo_store
from keel.pricing.engine import Market
from keel.pricing.model import STANDARD, Step, inclusive, rate_of
from keel.pricing.model.cart import Cart, CartLine, Evaluated, Limits, evaluate
from keel.pricing.model.checkout import COUPON_RE, CartRequest, parse_cart
from keel.pricing.model.lists import amount_of
from keel.pricing.model.promotions import Promotion, document_of, parse_promotion
from keel.pricing.store import rates as stored_rates

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read and typed by people
MAX_BATCH = 100_000


class Tagged(Protocol):
    @property
    def brand(self) -> str | None: ...
    @property
    def categories(self) -> frozenset[str]: ...


Tags = Callable[[Iterable[str]], Mapping[str, Tagged]]


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


def no_tags(skus: Iterable[str]) -> Mapping[str, Tagged]:
    return {}


class PromotionService:
    def __init__(self, db: Any, markets: Callable[[], list[Market]] = list, tags: Tags = no_tags) -> None:
        self.db, self.markets, self.tags = db, markets, tags
        self._lock = threading.Lock()
        self._cached: tuple[Any, list[Promotion]] | None = None

    # -- promotions -----------------------------------------------------------------------------------------
    def save(self, code: str, document: object) -> PromotionView:
        """Create or replace promotion ``code``. Refused when invalid, or when it is exclusive and would be
        live beside another exclusive one of the same priority and class (or both global) for a common
        channel, country and customer group: which one applies would be a coin toss."""
        p = parse_promotion(code, document)
        with self.db.write() as conn:
            if p.exclusive != "none":
                for other in self._all(conn):
                    if other.code != p.code and other.exclusive != "none" and other.priority == p.priority:
                        same_class = p.exclusive == other.exclusive == "global" or p.klass == other.klass
                        if same_class and p.overlaps(other):
                            reason = f"overlaps the exclusive promotion {other.code!r} at the same priority"
                            raise ValidationFailed("overlapping exclusive promotions", [
                                FieldError(None, "exclusive", reason)])  # fmt: skip
            promo_store.save(conn, code, document_of(p), utcnow())
        return self.get(code)

    def delete(self, code: str) -> None:
        with self.db.write() as conn:
            if not promo_store.delete(conn, code):
                raise NotFound(f"no promotion {code!r}")

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

    # -- coupon codes ---------------------------------------------------------------------------------------
    def add_codes(
        self, promotion: str, *, count: int = 0, codes: Iterable[str] = (), prefix: str = "", max_uses: int | None = 1
    ) -> list[str]:
        """Codes for coupon promotion ``promotion``: ``codes`` as given and ``count`` generated ones (``prefix``
        then 10 random characters), each usable ``max_uses`` times (None: unlimited). Returns the new codes."""
        given = sorted({c.strip().upper() for c in codes})
        errors = [FieldError(None, "codes", f"{c[:70]!r}: letters, digits, _ and -") for c in given
                  if not COUPON_RE.fullmatch(c)]  # fmt: skip
        if not 0 <= count <= MAX_BATCH or len(given) > MAX_BATCH or not (count or given):
            errors.append(FieldError(None, "count", f"from 1 to {MAX_BATCH:,} codes, generated or given"))
        if len(prefix) > 20 or (prefix and not COUPON_RE.fullmatch(prefix.upper() + "X")):
            errors.append(FieldError(None, "prefix", "letters, digits, _ and -, at most 20"))
        if max_uses is not None and not 1 <= max_uses <= 1_000_000_000:
            errors.append(FieldError(None, "max_uses", "a whole number from 1, or null for unlimited"))
        if errors:
            raise ValidationFailed("invalid codes", errors)
        view = self.get(promotion)
        if not view.promotion.coupon:
            raise ValidationFailed("not a coupon promotion", [FieldError(None, "promotion", "coupon must be true")])
        generated = {prefix.upper() + "".join(secrets.choice(CODE_ALPHABET) for _ in range(10)) for _ in range(count)}
        wanted = sorted(set(given) | generated)
        with self.db.write() as conn:
            taken = promo_store.coupons(conn, wanted)
            clash = [c for c in given if c in taken and taken[c].promotion != promotion]
            if clash:
                raise Conflict(f"code {clash[0]!r} belongs to another promotion")
            promo_store.add_coupons(conn, promotion, wanted, max_uses, utcnow())
        return [c for c in wanted if c not in taken]

    def codes(self, promotion: str, limit: int = 100, offset: int = 0) -> tuple[list[promo_store.Coupon], int]:
        self.get(promotion)
        with self.db.read() as conn:
            return promo_store.coupon_page(conn, promotion, limit, offset)

    # -- carts ----------------------------------------------------------------------------------------------
    def evaluate(self, document: object, within: Scope = Scope.ALL) -> CartView:
        """The cart priced, discounted, taxed and explained; nothing is counted or changed."""
        request = parse_cart(document)
        market = self._market(request, within)
        tags = self.tags([s for s, _ in request.lines])
        with self.db.read() as conn:
            return self._evaluate(conn, request, market, tags)[0]

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
        tags = self.tags([s for s, _ in request.lines])
        with self.db.write() as conn:
            before = promo_store.redeemed(conn, reference)
            if before:
                return Redeemed(reference, before, True, None)
            view, limits = self._evaluate(conn, request, market, tags)
            refused = sorted((c, w) for c, w in view.result.codes.items() if w != "applied")
            if refused:
                raise Conflict(f"code {refused[0][0]}: {refused[0][1]}")
            promotions = {p.code: p for p in self._all(conn)}
            unlocked = {p: c for c, p in limits.unlocked.items()}
            taken = []
            for outcome in view.result.outcomes:
                if not outcome.applied:
                    continue
                p = promotions[outcome.promotion]
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
            promo_store.record(conn, reference, request.customer, market.currency, taken, utcnow())
        return Redeemed(reference, taken, False, view)

    # -- internals ------------------------------------------------------------------------------------------
    def _market(self, request: CartRequest, within: Scope) -> Market:
        within.check_channel(request.channel)
        if not within.sees_country(request.country):
            raise ValidationFailed("country outside your restrictions", [
                FieldError(None, "country", "a country your restrictions allow")])  # fmt: skip
        market = next((m for m in self.markets() if m.channel == request.channel), None)
        if market is None:
            raise ValidationFailed("unknown channel", [FieldError(None, "channel", "the code of an active channel")])
        if request.country not in market.countries:
            reason = f"{request.channel} sells in {', '.join(market.countries)}"
            raise ValidationFailed("channel does not sell there", [FieldError(None, "country", reason)])
        return market

    def _evaluate(
        self, conn: Connection, request: CartRequest, market: Market, tags: Mapping[str, Tagged]
    ) -> tuple[CartView, Limits]:
        at = request.at or utcnow()
        skus = [s for s, _ in request.lines]
        shelf = promo_store.shelf_prices(conn, market.channel, request.country, skus)
        errors = [FieldError(row, "sku", f"{s} has no price on {market.channel} in {request.country}")
                  for row, s in enumerate(skus, start=1) if s not in shelf]  # fmt: skip
        shipping = 0
        if request.shipping is not None:
            shipping = amount_of(request.shipping, market.currency, None, "shipping", errors) or 0
        if errors:
            raise ValidationFailed("the cart cannot be priced", errors)
        rates = stored_rates(conn)
        lines = []
        for sku, quantity in request.lines:
            s, tagged = shelf[sku], tags.get(sku)
            rate = rate_of(request.country, s.tax_class or STANDARD, rates)
            categories, brand = (tagged.categories, tagged.brand) if tagged else (frozenset(), None)
            lines.append(CartLine(sku, quantity, s.amount, s.floor, rate, categories, brand))
        cart = Cart(
            market.channel, request.country, market.currency, inclusive(request.country), tuple(lines), at,
            request.customer, request.group, request.tier, request.codes, shipping,
            rate_of(request.country, STANDARD, rates),
        )  # fmt: skip
        promotions = [p for p in self._all(conn) if p.currency in (None, market.currency)]
        limits = self._limits(conn, cart, promotions)
        result = evaluate(cart, promotions, limits)
        shelves = {s: Shelf(v.price_list, v.compare_at, tuple(Step(**x) for x in v.steps)) for s, v in shelf.items()}
        return CartView(market.channel, request.country, at, result, shelves), limits

    def _limits(self, conn: Connection, cart: Cart, promotions: list[Promotion]) -> Limits:
        by_code = {p.code: p for p in promotions}
        unlocked: dict[str, str] = {}
        refused: dict[str, str] = {}
        for code, coupon in sorted(promo_store.coupons(conn, cart.codes).items()):
            p = by_code.get(coupon.promotion)
            if p is None:
                refused[code] = "not valid in this channel's currency"
            elif not p.active:
                refused[code] = "its promotion is switched off"
            elif p.valid_to is not None and p.valid_to <= cart.at:
                refused[code] = "expired"
            elif p.valid_from is not None and cart.at < p.valid_from:
                refused[code] = "not valid yet"
            elif coupon.max_uses is not None and coupon.uses >= coupon.max_uses:
                refused[code] = "exhausted"
            elif p.code in unlocked.values():
                refused[code] = "another code of the same promotion is used"
            else:
                unlocked[code] = p.code
        refused |= {c: "unknown" for c in cart.codes if c not in unlocked and c not in refused}
        limited = [p for p in promotions if p.usage_limit is not None or p.budget is not None]
        counts = promo_store.counters(conn, [p.code for p in limited]) if limited else {}
        used_up = {
            p.code: "its usage limit is reached"
            for p in limited
            if p.usage_limit is not None and counts.get(p.code, (0, 0))[0] >= p.usage_limit
        }
        per_customer = [p for p in promotions if p.per_customer_limit is not None]
        if per_customer and cart.customer is None:
            used_up |= {p.code: "limited per customer: needs the customer's id" for p in per_customer}
        elif per_customer and cart.customer is not None:
            uses = promo_store.customer_uses(conn, cart.customer, [p.code for p in per_customer])
            used_up |= {
                p.code: f"used {uses[p.code]} time(s) by this customer (limit {p.per_customer_limit})"
                for p in per_customer
                if uses.get(p.code, 0) >= (p.per_customer_limit or 0)
            }
        budget_left = {p.code: p.budget - counts.get(p.code, (0, 0))[1] for p in limited if p.budget is not None}
        return Limits(used_up, budget_left, unlocked, refused)

    def _all(self, conn: Connection) -> list[Promotion]:
        """Every stored promotion, parsed once per version of the table (a promotion saved or deleted)."""
        version = promo_store.version(conn)
        with self._lock:
            if self._cached is not None and self._cached[0] == version:
                return self._cached[1]
        parsed = [parse_promotion(s.code, s.document) for s in promo_store.promotions(conn)]
        with self._lock:
            self._cached = (version, parsed)
        return parsed


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
