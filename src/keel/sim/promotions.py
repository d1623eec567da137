"""The twin's promotions through Keel's promotion engine, and its web orders priced and redeemed as carts.

What a retailer of the twin's shape runs in a season (amounts in each currency converted from euros and
rounded the local way, ``keel.sim.fx.local_price``):

- ``winter-outerwear``: 20 % off jackets and coats everywhere, published: a sale price on every channel,
  announced to the marketplaces with the regular price struck through;
- ``kestrel-week``: 15 % off the Kestrel brand in the web stores' carts, and ``kestrel-loyal``: 20 % for gold
  members, in one group (the better of the two applies);
- ``tees-3-for-2``: buy 2 T-shirts, get the cheapest third free, at most twice per cart;
- ``accessories-clearance``: 30 % off chargers and cables, exclusive among item promotions, priority 50;
- ``free-shipping-<cur>``: free shipping from about 50 euros; ``spend-more-<cur>``: 5 off from about 100
  euros, 10 % from about 200;
- ``welcome-10``: a coupon, 10 % off the first order of a customer, with 2,000 single-use codes;
- ``gold-members``: 5 % off the order for the loyalty tier ``gold``.

``CartPricing`` is the web store's checkout: an order the twin sends to a web store is first priced as a
cart (some customers gold members, a few with a welcome code), charged at the cart's line totals, and once
Keel captured it, redeemed under the order's reference, so uses, codes and budgets move on live data.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from keel.bootstrap import Keel
from keel.platform.errors import Conflict, KeelError
from keel.platform.money import plain
from keel.sim.content import slug
from keel.sim.fx import START, local_price, twin_rate_table
from keel.sim.world import World

WELCOME_CODES = 2000
GOLD_SHARE, CODE_SHARE = 0.10, 0.03


def twin_promotions(currencies: list[str]) -> dict[str, dict[str, Any]]:
    rates, day = twin_rate_table(), START.date()

    def local(eur: int, currency: str) -> str:
        return f"{local_price(Decimal(eur), currency, rates, day):f}"

    docs: dict[str, dict[str, Any]] = {
        "winter-outerwear": {"name": "Winter outerwear -20 %", "kind": "percent_off", "percent": "0.20",
                             "scope": {"categories": [slug("Apparel", "Outerwear")]}, "publish": True},
        "kestrel-week": {"name": "Kestrel week -15 % online", "kind": "percent_off", "percent": "0.15",
                         "scope": {"brands": ["Kestrel"]}, "group": "kestrel", "priority": 10},
        "kestrel-loyal": {"name": "Kestrel week -20 % for gold members", "kind": "percent_off", "percent": "0.20",
                          "scope": {"brands": ["Kestrel"], "loyalty_tiers": ["gold"]}, "group": "kestrel",
                          "priority": 10},
        "tees-3-for-2": {"name": "T-shirts 3 for 2", "kind": "buy_x_get_y", "buy": 2, "get": 1,
                         "max_applications": 2, "scope": {"categories": [slug("Apparel", "Tops", "T-shirts")]}},
        "accessories-clearance": {"name": "Accessories clearance -30 %", "kind": "percent_off", "percent": "0.30",
                                  "scope": {"categories": [slug("Electronics", "Accessories")]},
                                  "exclusive": "class", "priority": 50},
        "welcome-10": {"name": "Welcome: 10 % off your first order", "kind": "percent_off", "target": "order",
                       "percent": "0.10", "coupon": True, "per_customer_limit": 1, "scope": {"all": True}},
        "gold-members": {"name": "Gold members -5 %", "kind": "percent_off", "target": "order", "percent": "0.05",
                         "scope": {"loyalty_tiers": ["gold"]}},
    }  # fmt: skip
    for currency in currencies:
        c = currency.lower()
        docs[f"free-shipping-{c}"] = {
            "name": f"Free shipping from {local(50, currency)} {currency}", "kind": "percent_off",
            "target": "shipping", "percent": "1", "currency": currency, "min_subtotal": local(50, currency),
            "scope": {"all": True},
        }  # fmt: skip
        docs[f"spend-more-{c}"] = {
            "name": f"Spend more, save more ({currency})", "kind": "tiered_spend", "currency": currency,
            "tiers": [{"spend": local(100, currency), "amount": local(5, currency)},
                      {"spend": local(200, currency), "percent": "0.10"}],
            "scope": {"all": True},
        }  # fmt: skip
    return docs


def load_promotions(keel: Keel, world: World) -> int:
    """The twin's promotions and its welcome codes; how many promotions are stored."""
    currencies = sorted({ch["currency"] for ch in world.channels})
    docs = twin_promotions(currencies)
    web = sorted(ch["code"] for ch in world.channels if ch["kind"] == "web_store")
    if web:
        docs["kestrel-week"]["scope"]["channels"] = web
    for code, doc in docs.items():
        keel.promotions.save(code, doc)
    keel.promotions.add_codes("welcome-10", count=WELCOME_CODES, prefix="WELCOME-")
    return len(docs)


class CartPricing:
    """The twin's web checkout: a cart priced before the order is sent, redeemed once it is captured."""

    def __init__(self, keel: Keel, seed: int) -> None:
        self.keel = keel
        self.rng = random.Random(seed * 31 + 7)  # its own draws: the stream's events stay those of its seed
        self.codes: list[str] | None = None
        self.enabled: bool | None = None

    def price(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        """The cart of order ``doc`` (its lines charged at the cart's prices in place), or None when the twin
        has no promotions or the cart cannot be priced (the order keeps its shelf prices)."""
        if self.enabled is None:
            self.enabled = self.keel.promotions.promotions(limit=1)[1] > 0
        if not self.enabled:
            return None
        cart: dict[str, Any] = {
            "channel": doc["channel"],
            "country": doc["ship_to"]["country"],
            "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in doc["lines"]],
            "customer": {"id": doc["customer"].get("email") or doc["external_id"]},
            "shipping": "0",
        }
        if self.rng.random() < GOLD_SHARE:
            cart["customer"]["loyalty_tier"] = "gold"
        if self.rng.random() < CODE_SHARE and (code := self._code()):
            cart["codes"] = [code]
        try:
            view = self.keel.promotions.evaluate(cart)
        except KeelError:
            return None
        currency = view.result.currency
        for line, priced in zip(doc["lines"], view.result.lines, strict=True):
            line["unit_price"] = plain(priced.total // priced.quantity, currency)
        return cart

    def redeem(self, reference: str, cart: dict[str, Any]) -> bool:
        try:
            return bool(self.keel.promotions.redeem(reference, cart).redemptions)
        except (Conflict, KeelError):
            return False

    def _code(self) -> str | None:
        if self.codes is None:
            found, _ = self.keel.promotions.codes("welcome-10", limit=WELCOME_CODES) if self._known() else ([], 0)
            self.codes = [c.code for c in found if c.uses == 0]
            self.rng.shuffle(self.codes)
        return self.codes.pop() if self.codes else None

    def _known(self) -> bool:
        try:
            self.keel.promotions.get("welcome-10")
        except KeelError:
            return False
        return True
