"""KPI formulas and alert rules of the control tower, on small hand-built datasets (exact values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from keel.insights.alerts import DEFAULT_RULES, AlertRule, evaluate
from keel.insights.model import (
    Listing,
    OrderFigure,
    StockRow,
    ages,
    combine,
    lag_seconds,
    listing_counts,
    order_value,
    per_location,
    sales_by,
    sales_cells,
    stockout_rate,
)

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


def test_stockout_rate_counts_zero_listings_among_those_with_stock_sources() -> None:
    # given four sourced listings (one at zero, one negative) and two with no sources (both zero)
    listings = [
        Listing("web-de", "DE", "A", 5),
        Listing("web-de", "DE", "B", 0),
        Listing("market", "FR", "A", -1),
        Listing("market", "FR", "B", 3),
        Listing("pos-fr", "FR", "A", 0, has_sources=False),
        Listing("pos-fr", "FR", "B", 0, has_sources=False),
    ]
    # when counted per channel and country / then 2 of the 4 sourced listings are out; unsourced ones are ignored
    counts = listing_counts(listings)
    assert [(c.channel, c.country, c.sourced, c.zero) for c in counts] == [
        ("market", "FR", 2, 1),
        ("web-de", "DE", 2, 1),
    ]
    assert stockout_rate(counts) == 0.5


def test_stockout_rate_is_none_without_sourced_listings() -> None:
    assert stockout_rate([]) is None
    assert stockout_rate(listing_counts([Listing("c", "DE", "A", 0, has_sources=False)])) is None


def test_location_sums_combine_by_country_region_and_location() -> None:
    rows = [
        StockRow("A", "WH-DE-1", "DE", "Berlin", on_hand=10, available=8, incoming=2),
        StockRow("B", "WH-DE-1", "DE", "Berlin", on_hand=0, available=0),
        StockRow("A", "ST-DE-1", "DE", "Bavaria", on_hand=4, available=4),
        StockRow("A", "WH-FR-1", "FR", None, on_hand=7, available=-1, incoming=5),
    ]
    locations = per_location(rows)
    assert [(r.location, r.positions, r.on_hand, r.out_of_stock) for r in locations] == [
        ("ST-DE-1", 1, 4, 0),
        ("WH-DE-1", 2, 10, 1),
        ("WH-FR-1", 1, 7, 1),
    ]
    distinct = {"DE": 2, "FR": 1, "Bavaria": 1, "Berlin": 2}  # what the distinct-SKU counts say per group
    by_country = combine(locations, lambda r: r.country, distinct.__getitem__)
    assert [(g.key, g.positions, g.on_hand, g.available, g.incoming, g.out_of_stock) for g in by_country] == [
        ("DE", 3, 14, 12, 2, 1),
        ("FR", 1, 7, -1, 5, 1),
    ]
    de = by_country[0]
    assert (de.sku_count, de.location_count, de.out_of_stock_rate) == (2, 2, pytest.approx(1 / 3))
    german = [r for r in locations if r.country == "DE"]
    by_region = combine(german, lambda r: r.region or "-", distinct.__getitem__)
    assert [(g.key, g.on_hand, g.sku_count) for g in by_region] == [("Bavaria", 4, 1), ("Berlin", 10, 2)]
    assert combine([], lambda r: r.country, distinct.__getitem__) == []


def test_order_value_is_exact_decimal_arithmetic() -> None:
    assert order_value([(3, "0.10"), (1, "19.99")]) == Decimal("20.29")
    assert order_value([]) == Decimal(0)


def test_sales_by_channel_and_country_skip_cancelled_orders() -> None:
    day = NOW.date()
    orders = [
        OrderFigure("web-de", "DE", ((2, "10.00"),), day=day),
        OrderFigure("web-de", "AT", ((1, "5.50"), (1, "0.25")), day=day),
        OrderFigure("market", "DE", ((1, "30.00"),), day=day),
        OrderFigure("market", "DE", ((9, "99.00"),), cancelled=True, day=day),
    ]
    cells = sales_cells(orders)
    assert [(c.channel, c.country, c.orders) for c in cells] == [
        ("market", "DE", 1),
        ("web-de", "AT", 1),
        ("web-de", "DE", 1),
    ]
    channels = sales_by(cells, lambda o: o.channel)
    assert [(g.key, g.orders, g.revenue) for g in channels] == [
        ("market", 1, Decimal("30.00")),
        ("web-de", 2, Decimal("25.75")),
    ]
    countries = sales_by(cells, lambda o: o.country)
    assert [(g.key, g.orders, g.revenue) for g in countries] == [
        ("DE", 2, Decimal("50.00")),
        ("AT", 1, Decimal("5.75")),
    ]


def test_freshness_ages_and_lag_in_seconds() -> None:
    seen = {"pos": NOW - timedelta(minutes=2), "api": NOW - timedelta(seconds=5), "clock-skew": NOW + timedelta(1)}
    assert ages(seen, NOW) == {"api": 5.0, "clock-skew": 0.0, "pos": 120.0}
    assert lag_seconds(None, NOW) == 0.0
    assert lag_seconds(NOW - timedelta(seconds=42), NOW) == 42.0


def test_alert_rules_fire_per_subject_and_ignore_missing_values() -> None:
    # given the default rules and figures breaking three of them
    metrics: dict[str, dict[str, float | None]] = {
        "sync_lag_events": {"": 1500.0},
        "sync_lag_seconds": {"": 10.0},
        "source_age_minutes": {"pos": 45.0, "api": 1.0, "wms": 31.0},
        "stockout_pct": {"": 10.0},  # at the limit: not above it
        "accuracy_pct": {"": None},  # nothing counted yet
    }
    # when evaluated
    alerts = evaluate(DEFAULT_RULES, metrics)
    # then the bad one comes first, then the warnings by rule and subject
    assert [(a.rule, a.severity, a.subject, a.value) for a in alerts] == [
        ("projector-lag", "bad", "", 1500.0),
        ("silent-source", "warn", "pos", 45.0),
        ("silent-source", "warn", "wms", 31.0),
    ]
    assert alerts[0].message == "Channel sync is 1,500 stock events behind (limit 1,000)."
    assert alerts[1].message == "Source pos has not been heard from for 45 min (limit 30)."


def test_accuracy_below_target_alerts_and_custom_rules_are_data() -> None:
    rules = [AlertRule("low-acc", "accuracy_pct", "<", 99, "bad", "{value:.1f}% < {threshold:g}%")]
    assert [a.message for a in evaluate(rules, {"accuracy_pct": {"": 98.5}})] == ["98.5% < 99%"]
    assert evaluate(rules, {"accuracy_pct": {"": 99.0}}) == []
    assert evaluate(rules, {}) == []


@pytest.mark.parametrize(("op", "severity"), [("!=", "warn"), (">", "info")])
def test_malformed_alert_rules_are_rejected(op: str, severity: str) -> None:
    with pytest.raises(ValueError):
        AlertRule("x", "m", op, 1, severity, "")
