"""The pricing domain: tax splits that add up, price-list specificity and tiers, policy rules with their
explanation, and no price below a hard floor (cost plus margin, MAP) whatever the rules and endings do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from keel.platform.money import Ending
from keel.pricing.model import (
    Facts,
    PriceEntry,
    PriceList,
    Rule,
    parse_entries,
    parse_rules,
    pick,
    price,
    ranked,
    stated_from_net,
    tax,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_a_tax_split_adds_up_on_either_basis() -> None:
    inclusive = tax(11900, Decimal("0.19"), True)
    assert (inclusive.net, inclusive.tax, inclusive.gross, inclusive.stated) == (10000, 1900, 11900, 11900)
    exclusive = tax(10000, Decimal("0.0825"), False)
    assert (exclusive.net, exclusive.tax, exclusive.gross, exclusive.stated) == (10000, 825, 10825, 10000)
    assert tax(1980, Decimal("0.10"), True).tax == 180  # JPY: 1980 yen include 180 yen of consumption tax


@given(st.integers(0, 10**9), st.sampled_from(["0", "0.05", "0.081", "0.19", "0.255"]), st.booleans())
def test_tax_parts_always_sum_and_a_net_floor_is_the_least_stated_amount(stated: int, rate: str, basis: bool) -> None:
    split = tax(stated, Decimal(rate), basis)
    assert split.net + split.tax == split.gross and split.tax >= 0
    least = stated_from_net(split.net, Decimal(rate), basis)
    assert tax(least, Decimal(rate), basis).net >= split.net
    assert least == 0 or tax(least - 1, Decimal(rate), basis).net < split.net


def test_the_most_specific_list_that_prices_the_sku_wins() -> None:
    lists = [
        PriceList("base", "Base", "EUR"),
        PriceList("de", "Germany", "EUR", country="DE"),
        PriceList("web", "Web", "EUR", channel="web-de"),
        PriceList("vip", "VIP", "EUR", customer_group="vip"),
        PriceList("winter", "Winter", "EUR", channel="web-de", valid_from=NOW - timedelta(days=1)),
        PriceList("expired", "Old", "EUR", channel="web-de", valid_to=NOW),
        PriceList("usd", "US", "USD"),
    ]
    order = [pl.code for pl in ranked(lists, "web-de", "DE", "EUR", "vip", NOW)]
    assert order == ["vip", "winter", "web", "de", "base"]
    assert [pl.code for pl in ranked(lists, "app", "FR", "EUR", None, NOW)] == ["base"]
    entries = {
        "winter": {"A": [PriceEntry("A", 1500)]},
        "base": {"A": [PriceEntry("A", 2000), PriceEntry("A", 1800, min_quantity=10)], "B": [PriceEntry("B", 500)]},
    }
    ordered = ranked(lists, "web-de", "DE", "EUR", None, NOW)
    assert pick(ordered, entries, "A") == (lists[4], PriceEntry("A", 1500))
    assert pick(ordered, entries, "B") == (lists[0], PriceEntry("B", 500))  # the winter list does not price B
    assert pick([lists[0]], entries, "A", 12) == (lists[0], PriceEntry("A", 1800, min_quantity=10))
    assert pick(ordered, entries, "C") is None


def test_rules_explain_each_step_and_floors_win() -> None:
    rules, errors = parse_rules(
        [
            {"rule": "parity", "channel": "web-de", "within": "0.05"},
            {"rule": "cost_plus", "margin_floor": "0.30"},
            {"rule": "map", "list": "map-eu"},
        ]
    )
    assert errors == []
    facts = Facts(cost=1000, rate=Decimal("0.19"), map_prices={"map-eu": 1600}, reference={"web-de": 1200})
    priced = price(("base", PriceEntry("A", 1000, compare_at=2500)), rules, facts, "EUR")
    # parity lifts 10.00 to 11.40 (5 % under web-de's 12.00); the margin floor to 17.00 gross (net 14.29 on
    # cost 10.00 at 30 %); MAP 16.00 is below it; the ending would go down to 16.99, under the floor: 17.99
    assert [s.rule for s in priced.steps] == ["price_list", "parity", "cost_plus", "ending"]
    assert priced.floor == 1700 and priced.amount == 1799 and priced.compare_at == 2500
    assert tax(priced.amount, Decimal("0.19"), True).net * 7 >= 1000 * 10  # 30 % margin kept


@given(
    base=st.integers(1, 10**7),
    cost=st.none() | st.integers(0, 10**7),
    margin=st.sampled_from(["0", "0.1", "0.5", "0.9"]),
    map_price=st.none() | st.integers(0, 10**7),
    reference=st.none() | st.integers(1, 10**7),
    previous=st.none() | st.integers(1, 10**7),
    currency=st.sampled_from(["EUR", "JPY", "SEK", "CHF"]),
    inclusive=st.booleans(),
)
def test_no_price_is_ever_below_cost_plus_margin_or_map(
    base: int,
    cost: int | None,
    margin: str,
    map_price: int | None,
    reference: int | None,
    previous: int | None,
    currency: str,
    inclusive: bool,
) -> None:
    rules = [
        Rule("max_change_per_day", Decimal("0.1")),
        Rule("cost_plus", Decimal(margin)),
        Rule("map", ref="m"),
        Rule("parity", Decimal("0.02"), "ref"),
    ]
    facts = Facts(
        cost=cost,
        rate=Decimal("0.2"),
        inclusive=inclusive,
        map_prices={} if map_price is None else {"m": map_price},
        reference={} if reference is None else {"ref": reference},
        previous=previous,
    )
    priced = price(("l", PriceEntry("A", base)), rules, facts, currency)
    assert priced.amount >= 0
    if map_price is not None:
        assert priced.amount >= map_price
    if cost is not None:
        net = tax(priced.amount, Decimal("0.2"), inclusive).net
        assert net * (1 - Decimal(margin)) >= cost
    assert priced.steps[-1].after == priced.amount or priced.steps[-1].rule == "price_list"


def test_endings_per_currency_and_overridden() -> None:
    assert price(("l", PriceEntry("A", 2049)), [], Facts(), "EUR").amount == 1999
    assert price(("l", PriceEntry("A", 1987)), [], Facts(), "JPY").amount == 1980
    assert price(("l", PriceEntry("A", 25000)), [], Facts(), "SEK").amount == 24900
    rules, errors = parse_rules([{"rule": "ending", "endings": {"EUR": {"step": "1", "end": "0.95"}}}])
    assert errors == [] and rules[0].endings == {"EUR": Ending(100, 95)}
    assert price(("l", PriceEntry("A", 2049)), rules, Facts(), "EUR").amount == 1995


def test_bad_rules_and_prices_are_refused_row_by_row() -> None:
    _, errors = parse_rules(
        [
            {"rule": "cost_plus", "margin_floor": "1.5"},
            {"rule": "map"},
            {"rule": "teleport"},
            {"rule": "ending", "endings": {"XYZ": {"step": "1", "end": "0.95"}, "EUR": {"step": "1", "end": "2"}}},
            {"rule": "parity", "channel": "web-de", "within": "0.05", "extra": 1},
        ]
    )
    assert {(e.row, e.field) for e in errors} == {
        (1, "margin_floor"),
        (2, "list"),
        (3, "rule"),
        (4, "endings.XYZ"),
        (4, "endings.EUR"),
        (5, "extra"),
    }
    entries, errors = parse_entries(
        [
            {"sku": "A", "amount": "19.99", "compare_at": "24.99"},
            {"sku": "B", "amount": "-1"},
            {"sku": "C", "amount": "1.999"},
            {"sku": "A", "amount": "18.00"},
            {"sku": "D", "amount": "5", "compare_at": "4"},
            {"sku": "E\x00", "amount": "NaN"},
            {"sku": "F", "amount": 5},
        ],
        "EUR",
    )
    assert entries[0] == PriceEntry("A", 1999, 2499)
    assert {(e.row, e.field) for e in errors} == {
        (2, "amount"),
        (3, "amount"),
        (4, "sku"),
        (5, "compare_at"),
        (6, "sku"),
        (6, "amount"),
        (7, "amount"),
    }
    _, yen = parse_entries([{"sku": "A", "amount": "19.5"}], "JPY")
    assert [e.field for e in yen] == ["amount"]


def test_an_amount_too_large_to_convert_is_refused_not_raised() -> None:
    # 1e400 has no decimals beyond EUR's two: only its size refuses it, before any conversion
    entries, errors = parse_entries(
        [{"sku": "A", "amount": "1e400"}, {"sku": "B", "amount": "100000000000.01"}, {"sku": "C", "amount": "1E+11"}],
        "EUR",
    )
    assert entries == [PriceEntry("C", 10**13)]
    assert [(e.row, e.field, e.reason) for e in errors] == [(1, "amount", "too large"), (2, "amount", "too large")]
