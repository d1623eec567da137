"""The twin's pure parts: world scale, catalogue, demand patterns and scenario validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.sim.catalog import generate_catalog, issues
from keel.sim.scenario import DemandSpike, ScenarioError, StuckChannel, WarehouseOutage, load_scenario, parse_scenario
from keel.sim.world import Scale, generate

WORLD = generate(42, Scale(skus=300, locations=90, channels=30))


def spike(**change: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": "demand_spike", "country": "DE", "multiplier": 3, "start": 2, "hours": 6}
    item.update(change)
    return {k: v for k, v in item.items() if v is not None}


def test_scale_parameters_are_honoured() -> None:
    # given a scale / when the world is generated / then its counts follow the scale
    world = generate(7, Scale(skus=500, locations=250, channels=25, positions_per_sku=6))
    assert len(world.skus) == 500
    assert len(world.locations) == 250
    assert len(world.channels) == 25
    assert len({loc["country"] for loc in world.locations}) == 21
    assert len(world.opening_stock) == 500 * 6


def test_ten_times_the_locations_and_channels() -> None:
    # given the 10x scale's locations and channels / then every code is unique, each extra channel is a
    # marketplace or a web store of one country sourcing from that country's groups, and the reference
    # world's first 50 channels are the same as at the reference scale
    world = generate(42, Scale(skus=200, locations=3000, channels=500))
    reference = generate(42, Scale(skus=200))
    assert len(world.channels) == 500 and 2900 <= len(world.locations) <= 3100
    assert len({c["code"] for c in world.channels}) == 500
    assert len({loc["code"] for loc in world.locations}) == len(world.locations)
    assert [c["code"] for c in world.channels[:50]] == [c["code"] for c in reference.channels]
    groups = {g["code"] for g in world.groups}
    extra = world.channels[50:]
    assert {c["kind"] for c in extra} == {"marketplace", "web_store"}
    for channel in extra:
        (country,) = channel["countries"]
        assert channel["policy"]["sources"][country]["groups"][0] == f"fulfilment-{country}"
        assert set(channel["policy"]["sources"][country]["groups"]) <= groups
    per_country = {c: sum(ch["countries"] == [c] for ch in extra) for c in ("DE", "IE")}
    assert per_country["DE"] > 4 * per_country["IE"]  # by market weight (3.0 against 0.5)


def test_stock_follows_market_assortments() -> None:
    # given the reference twin / then each SKU is stocked per market: in every country that holds it, a
    # fulfilment node holds it, beside a few stores (as a retailer stocks the range it sells in a country)
    world = generate(42, Scale(skus=400))
    kinds = {loc["code"]: (loc["country"], loc["kind"]) for loc in world.locations}
    homes: dict[str, list[tuple[str, str]]] = {}
    for row in world.opening_stock:
        homes.setdefault(row["sku"], []).append(kinds[row["location"]])
    markets_with_a_node = 0
    markets = 0
    for held in homes.values():
        assert len(held) == 12
        for country in {c for c, _ in held}:
            markets += 1
            markets_with_a_node += any(c == country and k != "store" for c, k in held)
    assert markets_with_a_node == markets
    assert 2.5 <= markets / len(homes) <= 3.5  # four positions per market: three markets per SKU


def test_reference_scale_by_default() -> None:
    world = generate()
    assert (len(world.skus), len(world.channels), len({loc["country"] for loc in world.locations})) == (10_000, 50, 21)
    assert 290 <= len(world.locations) <= 310


def test_catalogue_is_deterministic_and_plants_a_share_of_defects() -> None:
    first, again = generate_catalog(WORLD.skus, 42), generate_catalog(WORLD.skus, 42)
    assert [(p.sku, p.category, p.price, p.attributes) for p in first] == [
        (p.sku, p.category, p.price, p.attributes) for p in again
    ]
    big = generate_catalog([f"SKU-{i:06d}" for i in range(1, 5001)], 42)
    flagged = [p for p in big if issues(p)]
    # every planted defect is found by the rules, and nothing else is flagged
    assert {p.sku for p in flagged} == {p.sku for p in big if p.planted}
    assert 0.09 <= len(flagged) / len(big) <= 0.15
    assert any(i.startswith("regulated:") for p in flagged for i in issues(p))
    assert any("gtin" in issues(p) for p in flagged)
    assert len({p.category for p in big}) >= 20


def test_scenario_parses_every_kind() -> None:
    scenario = parse_scenario(
        {
            "situation": [
                spike(),
                {"kind": "demand_spike", "region": "Bavaria", "multiplier": 2.5, "start": 0, "end": 3},
                {"kind": "stuck_channel", "channel": "market-fr", "start": 1, "end": 5},
                {"kind": "warehouse_outage", "location": WORLD.locations[0]["code"], "start": 4, "hours": 2},
            ]
        },
        WORLD,
    )
    assert scenario.situations == (
        DemandSpike(2.0, 8.0, 3.0, country="DE"),
        DemandSpike(0.0, 3.0, 2.5, region="Bavaria"),
        StuckChannel(1.0, 5.0, "market-fr"),
        WarehouseOutage(4.0, 6.0, WORLD.locations[0]["code"]),
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"kind": "flood", "start": 1, "hours": 1}, r"situation\[1\]\.kind: unknown kind 'flood'"),
        (spike(country="BR"), r"situation\[1\]\.country: unknown country 'BR'"),
        (spike(country=None, region="Atlantis"), r"situation\[1\]\.region: unknown region 'Atlantis'"),
        (spike(region="Bavaria"), r"situation\[1\]: give exactly one of country or region"),
        (spike(start=-1), r"situation\[1\]\.start: must be >= 0"),
        (spike(start="noon"), r"situation\[1\]\.start: must be a number"),
        (spike(hours=None), r"situation\[1\]: give exactly one of end or hours"),
        (spike(hours=None, end=1), r"situation\[1\]\.end: must be after start"),
        (spike(hours=0), r"situation\[1\]\.hours: must be > 0"),
        (spike(multiplier=-2), r"situation\[1\]\.multiplier: must be from 0 to 100"),
        (spike(colour="red"), r"situation\[1\]\.colour: not a field of demand_spike"),
        ({"kind": "stuck_channel", "channel": "nope", "start": 1, "end": 2}, r"\.channel: unknown channel 'nope'"),
        ({"kind": "warehouse_outage", "location": "WH-XX-1", "start": 1, "end": 2}, r"\.location: unknown location"),
    ],
)
def test_bad_situations_are_rejected_naming_the_field(item: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as caught:
        parse_scenario({"situation": [item]}, WORLD)
    assert "\n" not in caught.value.detail


def test_bad_documents_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"scenario\.situations: unknown top-level field"):
        parse_scenario({"situations": []}, WORLD)
    with pytest.raises(ScenarioError, match=r"scenario\.situation: must be a list"):
        parse_scenario({"situation": {"kind": "stuck_channel"}}, WORLD)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[situation]\nkind = 1\n")
    with pytest.raises(ScenarioError, match=r"broken\.toml: not valid TOML"):
        load_scenario(broken, WORLD)
    yaml = tmp_path / "s.yaml"
    yaml.write_text("situation: []")
    with pytest.raises(ScenarioError, match=r"ends in \.toml or \.json"):
        load_scenario(yaml, WORLD)
    with pytest.raises(ScenarioError, match=r"missing\.json: cannot read"):
        load_scenario(tmp_path / "missing.json", WORLD)


def test_files_in_toml_and_json_give_the_same_scenario(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('[[situation]]\nkind = "stuck_channel"\nchannel = "web-de"\nstart = 1\nend = 4\n')
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"situation": [{"kind": "stuck_channel", "channel": "web-de", "start": 1, "end": 4}]}))
    assert load_scenario(toml, WORLD) == load_scenario(js, WORLD)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"situation": [{"kind": "stuck_channel", "channel": "web-zz", "start": 1, "end": 4}]}))
    with pytest.raises(ScenarioError, match=r"bad\.json: situation\[1\]\.channel: unknown channel 'web-zz'"):
        load_scenario(bad, WORLD)


def test_the_twins_rate_table_is_valid_and_prices_follow_local_habits() -> None:
    from datetime import date
    from decimal import Decimal

    from keel.fx import parse_ecb_csv
    from keel.platform.geo import CURRENCIES
    from keel.sim.fx import TWIN_RATES, local_price, twin_rate_table

    rates, errors = parse_ecb_csv(TWIN_RATES, frozenset(CURRENCIES))
    assert errors == [] and len({r.currency for r in rates}) == 11
    table, day = twin_rate_table(), date(2026, 3, 2)
    eur = Decimal("71.34")
    prices = {c: local_price(eur, c, table, day) for c in ("EUR", "JPY", "SEK", "CZK", "CHF", "GBP", "USD", "PLN")}
    assert prices["EUR"] == eur
    assert prices["JPY"] % 10 == 0 and prices["JPY"] > 10_000  # whole yen in tens, not 71.34 JPY
    assert prices["SEK"] % 10 == 9 and prices["CZK"] % 10 == 9
    assert str(prices["CHF"]).endswith(".90") and str(prices["GBP"]).endswith(".99")
    for currency, price in prices.items():
        fair = table.convert(eur, "EUR", currency, day)
        assert abs(price - fair) <= max(fair * Decimal("0.02"), Decimal(10)), currency
    assert local_price(Decimal("0.10"), "JPY", table, day) == 20  # never below the smallest price point
    assert local_price(Decimal("0.01"), "USD", table, day) == Decimal("0.99")
