"""Promotions in words (``keel.pricing.model.wording``): what each kind gives, to whom and how it stacks, as
the tower's pages and the CLI tables print them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from keel.pricing.model.promotions import parse_promotion
from keel.pricing.model.wording import audience, offer, percent, stacking

ALL = {"all": True}


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"kind": "percent_off", "percent": "0.125"}, "12.5% off items"),
        ({"kind": "percent_off", "target": "order", "percent": "0.1"}, "10% off the order"),
        ({"kind": "percent_off", "target": "shipping", "percent": "1"}, "free shipping"),
        ({"kind": "percent_off", "target": "shipping", "percent": "0.5"}, "50% off shipping"),
        ({"kind": "amount_off", "amount": "2.50", "currency": "EUR"}, "2.50 EUR off each unit"),
        ({"kind": "amount_off", "target": "order", "amount": "500", "currency": "JPY", "min_subtotal": "3000"},
         "500 JPY off the order, from 3000 JPY in scope"),
        ({"kind": "buy_x_get_y", "buy": 2, "get": 1, "max_applications": 3},
         "buy 2 get 1 free, at most 3 time(s) a cart"),
        ({"kind": "buy_x_get_y", "buy": 1, "get": 1, "percent": "0.5"}, "buy 1 get 1 at 50% off"),
        ({"kind": "bundle", "currency": "EUR", "amount": "49.00",
          "items": [{"sku": "TENT", "quantity": 1}, {"sku": "PEG", "quantity": 8}]},
         "1 x TENT + 8 x PEG for 49.00 EUR"),
        ({"kind": "tiered_spend", "currency": "EUR",
          "tiers": [{"spend": "100.00", "amount": "10.00"}, {"spend": "200.00", "percent": "0.15"}]},
         "from 100.00 EUR: 10.00 EUR off; from 200.00 EUR: 15% off"),
    ],
)  # fmt: skip
def test_each_kind_says_what_it_gives(document: dict[str, Any], words: str) -> None:
    assert offer(parse_promotion("p", document | {"scope": ALL})) == words


def test_the_audience_names_each_scope_and_shortens_long_lists() -> None:
    assert audience(parse_promotion("p", {"kind": "percent_off", "percent": "0.1", "scope": ALL})) == "every cart"
    scoped = {"channels": ["web-de"], "loyalty_tiers": ["gold"], "skus": ["A", "B", "C", "D", "E"]}
    promotion = parse_promotion("p", {"kind": "percent_off", "percent": "0.1", "scope": scoped})
    assert audience(promotion) == "channels web-de · tiers gold · SKUs A, B, C and 2 more"


def test_stacking_in_words() -> None:
    base = {"kind": "percent_off", "percent": "0.1", "scope": ALL}
    assert stacking(parse_promotion("p", base)) == "stacks"
    assert stacking(parse_promotion("p", base | {"exclusive": "class", "group": "spring"})) == (
        "exclusive among item promotions, best deal of group spring"
    )
    assert stacking(parse_promotion("p", base | {"exclusive": "global", "stop_further": True})) == (
        "exclusive: alone in a cart, stops lower priorities"
    )
    assert (percent(Decimal("0.20")), percent(Decimal("1")), percent(None)) == ("20%", "100%", "?")
