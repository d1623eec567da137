"""Money in whole minor units: ISO 4217 exponents, explicit rounding, exact allocation, price endings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.platform.money import (
    ROUNDING,
    Ending,
    UnknownCurrency,
    allocate,
    exponent,
    plain,
    scale,
    to_major,
    to_minor,
)


@pytest.mark.parametrize(
    ("currency", "digits"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("CLF", 4)]
)
def test_exponents_follow_iso_4217(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


@pytest.mark.parametrize("code", ["eur", "EURO", "ABC", "XXX", "XAU", "E\x00R", "", "€"])
def test_what_is_not_a_currency_is_refused_with_a_field(code: str) -> None:
    with pytest.raises(UnknownCurrency) as refused:
        exponent(code)
    assert refused.value.errors[0].field == "currency"


def test_rounding_is_explicit_and_half_even_by_default() -> None:
    assert [to_minor(Decimal(v), "EUR") for v in ("0.125", "0.135", "-0.125")] == [12, 14, -12]
    assert [to_minor(Decimal("0.125"), "EUR", mode) for mode in ("half_up", "down", "up", "floor")] == [13, 12, 13, 12]
    assert to_minor(Decimal("1980.5"), "JPY") == 1980 and to_minor(Decimal("1981.5"), "JPY") == 1982
    assert to_minor(Decimal("1.2345"), "BHD") == 1234
    assert (plain(1999, "EUR"), plain(1980, "JPY"), plain(5, "BHD"), plain(-1, "EUR")) == (
        "19.99",
        "1980",
        "0.005",
        "-0.01",
    )
    assert scale(1999, Decimal("0.19")) == 380  # 379.81 -> 380
    assert scale(250, Decimal("0.5")) == 125 and scale(25, Decimal("0.5")) == 12  # 12.5 -> 12 (half-even)


@given(st.integers(-(10**15), 10**15), st.sampled_from(["EUR", "JPY", "BHD", "CLF"]))
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    assert to_minor(to_major(minor, currency), currency) == minor
    assert to_minor(Decimal(plain(minor, currency)), currency) == minor


@given(
    st.integers(-(10**12), 10**12),
    st.lists(st.integers(0, 10**9), min_size=1, max_size=40).filter(lambda w: sum(w) > 0),
)
def test_allocation_sums_exactly_and_each_part_is_within_one_unit_of_its_share(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Decimal(total) * weight / whole
        assert abs(Decimal(part) - exact) < 1
        if weight == 0:
            assert part == 0


def test_allocation_refuses_weights_it_cannot_share_by() -> None:
    for weights in ([], [0, 0], [3, -1]):
        with pytest.raises(ValueError):
            allocate(100, weights)


@given(st.integers(0, 10**9), st.sampled_from([(100, 99), (100, 95), (100, 0), (1000, 900), (1, 0)]))
def test_an_ending_is_the_nearest_such_amount_below_or_above(minor: int, rule: tuple[int, int]) -> None:
    ending = Ending(*rule)
    below, above = ending.below(minor), ending.above(minor)
    assert above % ending.step == ending.end and minor <= above < minor + ending.step
    assert below % ending.step == ending.end
    assert (below <= minor and minor - below < ending.step) or (below == above and minor < ending.step)


def test_endings_as_retailers_use_them() -> None:
    assert Ending(100, 99).below(2050) == 1999 and Ending(100, 99).above(2050) == 2099
    assert Ending(100, 0).below(1987) == 1900  # JPY whole hundreds
    assert Ending(100, 99).below(50) == 99  # nothing ends in .99 below 0.50: the next one up
    with pytest.raises(ValueError):
        Ending(100, 100)
    assert set(ROUNDING) >= {"half_even", "half_up", "down", "up"}
