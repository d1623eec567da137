"""Promotions, coupon codes and carts on both databases: a cart priced at the published prices with every
discount explained, redemptions that count uses, codes and budgets once per reference (and refuse what ran
out, changing nothing), limits that hold when carts race for the last use."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from keel.bootstrap import Keel
from keel.platform.clock import clock_at, utcnow
from keel.platform.errors import Conflict, NotFound, ValidationFailed
from keel.pricing import PRICE_CHANGED
from keel.pricing.model import tax
from tests.support import WEB_DE, WH_DE, World, events_after, last_seq, place, receive, snapshot
from tests.support_catalog import seed, tee

ALL = {"all": True}


@pytest.fixture
def priced(keel: Keel, world: World) -> Keel:
    keel.pricing.save_list(
        "base-eur",
        {
            "name": "Base",
            "currency": "EUR",
            "prices": [{"sku": "SKU-1", "amount": "20.99"}, {"sku": "SKU-2", "amount": "5.99"}],
        },
    )
    return keel


def order(external_id: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {
        "channel": WEB_DE, "external_id": external_id, "customer": {"name": "Ann Example"},
        "lines": [{"sku": s, "quantity": q, "unit_price": "20.99"} for s, q in lines],
        "ship_to": {"country": "DE", "city": "Berlin", "postal_code": "10115"},
    }  # fmt: skip


def cart(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    return {"channel": WEB_DE, "country": "DE", "lines": [{"sku": s, "quantity": q} for s, q in lines], **extra}


def test_a_cart_is_priced_discounted_taxed_and_explained(priced: Keel) -> None:
    priced.promotions.save("ten", {"kind": "percent_off", "percent": "0.10", "scope": {"skus": ["SKU-1"]}})
    priced.promotions.save(
        "order5",
        {
            "kind": "amount_off",
            "target": "order",
            "amount": "5.00",
            "currency": "EUR",
            "scope": ALL,
            "min_subtotal": "30.00",
        },
    )
    view = priced.promotions.evaluate(cart(("SKU-1", 2), ("SKU-2", 1), shipping="4.95"))
    r = view.result
    assert [ln.unit for ln in r.lines] == [2099, 599]
    assert [(o.promotion, o.applied, o.amount) for o in r.outcomes] == [("order5", True, 500), ("ten", True, 420)]
    assert r.subtotal == 2 * 2099 + 599 + 495 and r.total == r.subtotal - 920 == sum(
        ln.total for ln in [*r.lines, r.shipping] if ln
    )
    assert r.gross == r.total and r.net + r.tax == r.gross  # Germany states prices with VAT
    assert view.shelves["SKU-1"].price_list == "base-eur"
    # below the minimum the order promotion says why
    small = priced.promotions.evaluate(cart(("SKU-2", 1))).result
    assert next(o.reason for o in small.outcomes if o.promotion == "order5").startswith("the lines in scope come to")


def test_coupon_codes_are_counted_once_per_reference_and_refused_when_used_up(priced: Keel) -> None:
    priced.promotions.save("vip", {"kind": "percent_off", "percent": "0.20", "coupon": True, "scope": ALL})
    codes = priced.promotions.add_codes("vip", count=3, prefix="XMAS-")
    assert len(codes) == 3 and all(c.startswith("XMAS-") and len(c) == 15 for c in codes)
    first = priced.promotions.redeem("order-1", cart(("SKU-1", 1), codes=[codes[0].lower()]))
    assert not first.replayed and [(x.promotion, x.code, x.amount) for x in first.redemptions] == [
        ("vip", codes[0], 420)
    ]
    again = priced.promotions.redeem("order-1", cart(("SKU-1", 1), codes=[codes[0]]))
    assert again.replayed and again.redemptions == first.redemptions
    # single use: the code is exhausted now; a cart naming it is evaluated without it and refused at redeem
    assert priced.promotions.evaluate(cart(("SKU-1", 1), codes=[codes[0]])).result.codes == {codes[0]: "exhausted"}
    with pytest.raises(Conflict, match="exhausted"):
        priced.promotions.redeem("order-2", cart(("SKU-1", 1), codes=[codes[0]]))
    assert priced.promotions.get("vip").uses == 1  # nothing counted by the refused cart
    assert priced.promotions.evaluate(cart(("SKU-1", 1), codes=["NOPE"])).result.codes == {"NOPE": "unknown"}


def test_an_expired_promotion_refuses_its_codes(priced: Keel) -> None:
    ended = (utcnow() - timedelta(days=1)).isoformat()
    priced.promotions.save(
        "old",
        {
            "kind": "percent_off",
            "percent": "0.5",
            "coupon": True,
            "scope": ALL,
            "valid_from": (utcnow() - timedelta(days=9)).isoformat(),
            "valid_to": ended,
        },
    )
    (code,) = priced.promotions.add_codes("old", codes=["SUMMER"])
    assert priced.promotions.evaluate(cart(("SKU-1", 1), codes=[code])).result.codes == {"SUMMER": "expired"}
    with pytest.raises(Conflict, match="expired"):
        priced.promotions.redeem("o-1", cart(("SKU-1", 1), codes=[code]))
    assert priced.promotions.get("old").status == "ended"


def test_budgets_and_per_customer_limits(priced: Keel) -> None:
    priced.promotions.save(
        "half",
        {
            "kind": "percent_off",
            "percent": "0.5",
            "scope": ALL,
            "currency": "EUR",
            "budget": "15.00",
            "per_customer_limit": 1,
        },
    )
    who = {"customer": {"id": "c-1"}}
    one = priced.promotions.redeem("r1", cart(("SKU-1", 1), **who))
    assert one.redemptions[0].amount == 1050
    refused = priced.promotions.evaluate(cart(("SKU-1", 1), **who)).result.outcomes
    assert refused[0].reason.startswith("used 1 time(s) by this customer")
    # another customer gets what is left of the budget
    two = priced.promotions.redeem("r2", cart(("SKU-1", 1), customer={"id": "c-2"}))
    assert two.redemptions[0].amount == 450
    assert priced.promotions.get("half").spent == 1500
    no_id = priced.promotions.evaluate(cart(("SKU-1", 1))).result.outcomes[0]
    assert not no_id.applied and "customer" in no_id.reason


def test_carts_racing_for_the_last_use_cannot_both_have_it(priced: Keel) -> None:
    priced.promotions.save("last", {"kind": "percent_off", "percent": "0.1", "scope": ALL, "usage_limit": 3})

    def redeem(i: int) -> bool:
        try:
            return bool(priced.promotions.redeem(f"race-{i}", cart(("SKU-1", 1))).redemptions)
        except Conflict:
            return False

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(redeem, range(16)))
    assert sum(won) == 3
    assert priced.promotions.get("last").uses == 3


def test_bad_promotions_and_carts_change_nothing(priced: Keel) -> None:
    priced.promotions.save("g", {"kind": "percent_off", "percent": "0.1", "scope": ALL, "exclusive": "global"})
    with pytest.raises(ValidationFailed) as caught:
        priced.promotions.save(
            "h", {"kind": "amount_off", "amount": "1", "currency": "EUR", "scope": ALL, "exclusive": "global"}
        )
    assert caught.value.errors[0].field == "exclusive"
    bad_documents = [
        {"kind": "percent_off", "percent": "0.1", "scope": {}},
        {"kind": "amount_off", "amount": "-1", "currency": "EUR", "scope": ALL},
        {"kind": "amount_off", "amount": "1", "currency": "ZZZ", "scope": ALL},
    ]
    for bad in bad_documents:
        with pytest.raises(ValidationFailed):
            priced.promotions.save("bad", bad)
    assert [v.promotion.code for v in priced.promotions.promotions()[0]] == ["g"]
    with pytest.raises(ValidationFailed) as missing:
        priced.promotions.evaluate(cart(("SKU-1", 1), ("NOPE", 2)))
    assert (missing.value.errors[0].row, missing.value.errors[0].field) == (2, "sku")
    with pytest.raises(ValidationFailed):
        priced.promotions.evaluate({**cart(("SKU-1", 1)), "channel": "nope"})
    with pytest.raises(ValidationFailed):
        priced.promotions.add_codes("g", count=2)  # not a coupon promotion
    with pytest.raises(NotFound):
        priced.promotions.delete("nope")


def test_an_order_is_priced_as_a_cart_and_a_promotion_previewed_on_recent_orders(priced: Keel) -> None:
    receive(priced, "SKU-1", WH_DE, 20)
    placed = [place(priced, order(f"W-{i}", ("SKU-1", 2)))[0] for i in range(3)]
    view = priced.promotions.price_order(placed[0].id, {"codes": []})
    assert [(ln.sku, ln.quantity, ln.unit) for ln in view.result.lines] == [("SKU-1", 2, 2099)]
    with pytest.raises(NotFound):
        priced.promotions.price_order(10**9)
    # a 10 % promotion on SKU-1 previewed on the three orders: each pays 4.20 less (net of 19 % VAT: 3.53)
    preview = priced.promotions.preview("p10", {"kind": "percent_off", "percent": "0.10", "scope": {"skus": ["SKU-1"]}})
    assert (preview.carts, preview.unpriced, preview.applied) == (3, 0, 3)
    (eur,) = preview.currencies
    assert (eur.discount_before, eur.discount_after) == (0, 3 * 420)
    assert eur.net_before - eur.net_after == 3 * (
        tax(4198, Decimal("0.19"), True).net - tax(3778, Decimal("0.19"), True).net
    )
    assert [(s.sku, s.units, s.discount_after) for s in preview.skus] == [("SKU-1", 6, 1260)]
    assert priced.promotions.promotions()[1] == 0  # nothing saved


def test_a_policy_is_previewed_with_the_prices_it_moves_and_their_weight_in_sales(priced: Keel) -> None:
    receive(priced, "SKU-1", WH_DE, 40)
    for i in range(4):  # 4 orders of 7 units of SKU-1 on web-de: 28 units in 28 days, one a day
        place(priced, order(f"P-{i}", ("SKU-1", 7)))
    priced.pricing.set_skus([{"sku": "SKU-1", "cost": "15.00", "currency": "EUR"}])
    before = snapshot(priced)
    preview = priced.pricing.preview_policy("*", {"rules": [{"rule": "cost_plus", "margin_floor": "0.40"}]})
    assert snapshot(priced) == before  # a dry run: nothing written or announced
    # net 15.00 / 0.6 = 25.00, with 19 % VAT 29.75, ending .99 above the floor: 29.99 instead of 20.99
    web = next(m for m in preview.moves if (m.channel, m.country, m.sku) == (WEB_DE, "DE", "SKU-1"))
    assert (web.before, web.after, web.units_per_day) == (2099, 2999, Decimal(1))
    assert web.net_per_day == tax(2999, Decimal("0.19"), True).net - tax(2099, Decimal("0.19"), True).net
    (eur,) = preview.currencies
    assert (eur.prices, eur.up, eur.down) == (preview.changed, preview.changed, 0) and preview.changed == 4
    assert eur.net_per_day_after - eur.net_per_day_before == web.net_per_day  # only web-de sold
    assert preview.moves[0] == web  # the largest effect first
    with pytest.raises(ValidationFailed):
        priced.pricing.preview_policy("*", {"rules": [{"rule": "nope"}]})


def test_a_published_promotion_is_a_sale_price_announced_to_the_channels(priced: Keel) -> None:
    seq = last_seq(priced)
    sale = {
        "kind": "percent_off",
        "percent": "0.20",
        "publish": True,
        "scope": {"channels": [WEB_DE], "skus": ["SKU-1"]},
    }
    priced.promotions.save("sale", sale)
    price = priced.pricing.price(WEB_DE, "DE", "SKU-1")
    assert (price.amount, price.compare_at, price.steps[-1].rule) == (1679, 2099, "promotion")  # 20.99 - 4.20
    assert "promotion sale: 20% off 1 line(s)" in price.steps[-1].note
    changes = [(e.subject, c["sku"], c["amount"], c["compare_at"]) for e in events_after(priced, seq, {PRICE_CHANGED})
               for c in e.data["changes"]]  # fmt: skip
    assert changes == [(WEB_DE, "SKU-1", "16.79", "20.99")]  # that channel and SKU only
    # a cart pays the sale price; the promotion is not taken twice
    view = priced.promotions.evaluate(cart(("SKU-1", 1)))
    assert (view.result.lines[0].unit, view.result.discount, view.result.outcomes) == (1679, 0, ())
    assert view.shelves["SKU-1"].steps[-1].rule == "promotion"
    # deleted: the regular price comes back, announced
    seq = last_seq(priced)
    priced.promotions.delete("sale")
    assert (
        priced.pricing.price(WEB_DE, "DE", "SKU-1").amount,
        priced.pricing.price(WEB_DE, "DE", "SKU-1").compare_at,
    ) == (2099, None)
    assert [c["amount"] for e in events_after(priced, seq, {PRICE_CHANGED}) for c in e.data["changes"]] == ["20.99"]
    # only a sale for everyone is published
    with pytest.raises(ValidationFailed) as caught:
        priced.promotions.save("vip", {**sale, "coupon": True})
    assert caught.value.errors[0].field == "publish"


def test_a_published_promotion_starts_and_ends_with_its_window(priced: Keel) -> None:
    start = utcnow()
    window = {
        "valid_from": (start + timedelta(hours=1)).isoformat(),
        "valid_to": (start + timedelta(hours=3)).isoformat(),
    }
    priced.promotions.save("later", {"kind": "amount_off", "amount": "1.00", "currency": "EUR", "publish": True,
                                     "scope": {"skus": ["SKU-2"]}, **window})  # fmt: skip
    assert priced.pricing.price(WEB_DE, "DE", "SKU-2").amount == 599  # not started
    with clock_at(start + timedelta(hours=2)):
        assert priced.pricing.cross_windows(start, utcnow()).changed == 4  # SKU-2 on its 4 markets
        assert priced.pricing.price(WEB_DE, "DE", "SKU-2").amount == 499
    with clock_at(start + timedelta(hours=4)):
        priced.pricing.cross_windows(start + timedelta(hours=2), utcnow())
        assert priced.pricing.price(WEB_DE, "DE", "SKU-2").amount == 599


def test_a_brands_map_holds_its_skus_only_and_a_promotion_by_category_reaches_the_tree(priced: Keel) -> None:
    seed(priced)  # the apparel family, the tops category under clothing
    priced.catalog.put_product(tee("TEE"))  # brand Acme, category tops: TEE-S, TEE-M
    priced.catalog.put_product(tee("POLO", brand="Other"))
    lists = [("TEE-S", "30.00"), ("TEE-M", "30.00"), ("POLO-S", "30.00")]
    priced.pricing.save_list("base-eur", {"currency": "EUR", "prices": [{"sku": s, "amount": a} for s, a in lists]})
    minimums = [{"sku": s, "amount": "35.00"} for s in ("TEE-S", "POLO-S")]
    priced.pricing.save_list("map-eu", {"currency": "EUR", "customer_group": "map", "prices": minimums})
    priced.pricing.set_policy("*", {"rules": [{"rule": "map", "list": "map-eu", "brands": ["Acme"]}]})
    assert priced.pricing.price(WEB_DE, "DE", "TEE-S").amount == 3599  # Acme's MAP: 35.00, then the ending above
    assert priced.pricing.price(WEB_DE, "DE", "POLO-S").amount == 2999  # another brand: the MAP list does not bind
    # a published sale on the clothing category reaches tops (a child), never below Acme's MAP
    priced.promotions.save("clothing", {"kind": "percent_off", "percent": "0.50", "publish": True,
                                        "scope": {"categories": ["clothing"]}})  # fmt: skip
    tee_s = priced.pricing.price(WEB_DE, "DE", "TEE-S")
    assert (tee_s.amount, tee_s.compare_at) == (3500, 3599)  # down to the MAP itself, not below
    # 29.99 - 15.00 (half of 29.99 is 14.995: 15.00, rounded half-even)
    assert priced.pricing.price(WEB_DE, "DE", "POLO-S").amount == 1499
    assert priced.pricing.price(WEB_DE, "DE", "TEE-M").amount == 1499


def test_a_customer_groups_list_and_a_quantity_tier_price_their_lines(priced: Keel) -> None:
    priced.pricing.save_list("b2b", {"currency": "EUR", "customer_group": "b2b", "prices": [
        {"sku": "SKU-1", "amount": "18.00"}, {"sku": "SKU-3", "amount": "3.00"}]})  # fmt: skip
    priced.pricing.set_list_prices("base-eur", [{"sku": "SKU-2", "amount": "4.50", "min_quantity": 10}])
    everyone = priced.promotions.evaluate(cart(("SKU-1", 1), ("SKU-2", 9)))
    assert [ln.unit for ln in everyone.result.lines] == [2099, 599]  # the published prices
    # ten or more of SKU-2: its tier (then the ending); a b2b customer: the group's list, even for a SKU only
    # that list prices
    tier = priced.promotions.evaluate(cart(("SKU-1", 1), ("SKU-2", 10)))
    assert [ln.unit for ln in tier.result.lines] == [2099, 399]
    assert tier.shelves["SKU-2"].price_list == "base-eur" and tier.shelves["SKU-2"].steps[0].before == 450
    b2b = priced.promotions.evaluate(cart(("SKU-1", 1), ("SKU-3", 2), customer={"group": "b2b"}))
    assert [(ln.sku, ln.unit) for ln in b2b.result.lines] == [("SKU-1", 1799), ("SKU-3", 299)]
    assert b2b.shelves["SKU-1"].price_list == "b2b"
    with pytest.raises(ValidationFailed):
        priced.promotions.evaluate(cart(("SKU-3", 1)))  # not priced for everyone


def test_a_sale_to_be_published_is_previewed_on_recent_orders(priced: Keel) -> None:
    receive(priced, "SKU-1", WH_DE, 10)
    place(priced, order("S-1", ("SKU-1", 1)))
    sale = {"kind": "percent_off", "percent": "0.20", "publish": True, "scope": {"skus": ["SKU-1"]}}
    (eur,) = priced.promotions.preview("sale", sale).currencies
    assert (eur.discount_before, eur.discount_after) == (0, 420)  # 20 % of 20.99, as the sale price will take
    assert priced.pricing.price(WEB_DE, "DE", "SKU-1").amount == 2099  # nothing saved or repriced


def test_review_cases_a_reference_once_a_sale_by_two_filters_carts_at_another_moment(priced: Keel) -> None:
    # a reference with nothing to count is still counted once: later it replays, whatever applies by then
    assert priced.promotions.redeem("nothing", cart(("SKU-2", 1))).redemptions == []
    priced.promotions.save("p", {"kind": "percent_off", "percent": "0.5", "scope": ALL})
    again = priced.promotions.redeem("nothing", cart(("SKU-2", 1)))
    assert again.replayed and again.redemptions == [] and priced.promotions.get("p").uses == 0
    # a sale for SKU-1 and SKU-2 in brand X only: neither SKU has brand X, so neither is on sale
    priced.promotions.delete("p")
    priced.promotions.save("x", {"kind": "percent_off", "percent": "0.5", "publish": True,
                                 "scope": {"skus": ["SKU-1", "SKU-2"], "brands": ["X"]}})  # fmt: skip
    assert priced.pricing.price(WEB_DE, "DE", "SKU-1").amount == 2099
    # a cart priced next week sees the sale that starts then (published prices are today's)
    start = (utcnow() + timedelta(days=3)).isoformat()
    priced.promotions.save("later", {"kind": "percent_off", "percent": "0.10", "publish": True,
                                     "scope": {"skus": ["SKU-1"]}, "valid_from": start})  # fmt: skip
    now = priced.promotions.evaluate(cart(("SKU-1", 1)))
    later = priced.promotions.evaluate(cart(("SKU-1", 1), at=(utcnow() + timedelta(days=7)).isoformat()))
    assert (now.result.total, later.result.total) == (2099, 2099 - 210)
    with pytest.raises(ValidationFailed) as caught:  # a published sale's change cannot be replayed
        priced.promotions.preview("later", {"kind": "percent_off", "percent": "0.2", "scope": ALL})
    assert caught.value.errors[0].field == "publish"
    with pytest.raises(ValidationFailed):  # repeated lines past the maximum are refused, not capped
        priced.promotions.evaluate(cart(("SKU-1", 60_000), ("SKU-1", 60_000)))
