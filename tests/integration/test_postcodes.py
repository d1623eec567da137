"""Postal-code centroids on both databases: import, refusal, idempotency, look-up and order capture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.geo import store
from keel.geo.model import PostalCodeReader
from keel.platform.errors import NotFound, ValidationFailed
from keel.platform.geo import COUNTRIES
from keel.sim.load import load_world
from keel.sim.world import Scale, generate
from tests.support import WEB_DE, WH_DE, World, events_after, last_seq, open_keel, place, receive, snapshot

BERLIN_MITTE = {"country": "DE", "postal_code": "10117", "place": "Berlin", "latitude": 52.517, "longitude": 13.3872}
HAMBURG = {"country": "DE", "postal_code": "20095", "place": "Hamburg", "latitude": 53.5503, "longitude": 10.0006}
LONDON = {"country": "GB", "postal_code": "SW1A", "place": "London", "latitude": 51.501, "longitude": -0.1416}


def rows(keel: Keel) -> list[tuple[Any, ...]]:
    t = store.postal_codes
    query = sa.select(
        t.c.country, t.c.postal_code, t.c.display, t.c.place, t.c.latitude, t.c.longitude, t.c.source_rows
    )
    with keel.db.read() as conn:
        return [tuple(r) for r in conn.execute(query.order_by(t.c.country, t.c.postal_code))]


def lines(*records: dict[str, Any]) -> PostalCodeReader:
    """A reader fed GeoNames lines of ``records``, as ``keel geo import-postcodes`` feeds a file."""
    reader = PostalCodeReader(COUNTRIES)
    for number, r in enumerate(records, start=1):
        fields = [r["country"], r["postal_code"], r["place"], "", "", "", "", "", ""]
        reader.feed(number, "\t".join([*fields, str(r["latitude"]), str(r["longitude"]), ""]) + "\n")
    return reader


def order(external_id: str, **ship_to: Any) -> dict[str, Any]:
    return {
        "channel": WEB_DE,
        "external_id": external_id,
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "9.99"}],
        "customer": {"name": "Ann Example"},
        "ship_to": {"country": "DE", **ship_to},
    }


def test_import_writes_averaged_centroids_and_one_event(keel: Keel) -> None:
    seq = last_seq(keel)
    second_row = {**BERLIN_MITTE, "place": "Berlin Mitte", "latitude": 52.519, "longitude": 13.3892}
    result = keel.postcodes.write(lines(BERLIN_MITTE, second_row, HAMBURG, LONDON), source="DE.txt")
    assert (result.rows, result.codes, result.changed, result.averaged, result.countries) == (4, 3, 3, 1, ("DE", "GB"))
    assert rows(keel) == [
        ("DE", "10117", "10117", "Berlin", pytest.approx(52.518), pytest.approx(13.3882), 2),
        ("DE", "20095", "20095", "Hamburg", 53.5503, 10.0006, 1),
        ("GB", "SW1A", "SW1A", "London", 51.501, -0.1416, 1),
    ]
    (event,) = events_after(keel, seq)
    assert (event.type, event.data) == (
        "postal_codes.imported",
        {"changed": 3, "countries": {"DE": 2, "GB": 1}, "source": "DE.txt"},
    )


def test_a_bad_file_writes_nothing(keel: Keel) -> None:
    keel.postcodes.load([HAMBURG], source="first")
    before = snapshot(keel)
    reader = lines(BERLIN_MITTE, {**HAMBURG, "latitude": 91}, {**LONDON, "country": "UK"})
    with pytest.raises(ValidationFailed) as caught:
        keel.postcodes.write(reader, source="bad.txt")
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "latitude"), (3, "country")]
    assert caught.value.detail == "bad.txt: 2 problems; nothing was imported"
    assert snapshot(keel) == before


def test_reimport_is_idempotent_and_a_changed_row_replaces_the_stored_one(keel: Keel) -> None:
    keel.postcodes.write(lines(BERLIN_MITTE, HAMBURG), source="DE.txt")
    before = snapshot(keel)
    again = keel.postcodes.write(lines(BERLIN_MITTE, HAMBURG), source="DE-again.txt")
    assert (again.codes, again.changed) == (2, 0)
    assert snapshot(keel) == before  # same rows, same source and time, no event
    moved = keel.postcodes.write(lines({**HAMBURG, "latitude": 53.55}, LONDON), source="fix.txt")
    assert (moved.codes, moved.changed) == (2, 2)
    assert rows(keel) == [
        ("DE", "10117", "10117", "Berlin", 52.517, 13.3872, 1),
        ("DE", "20095", "20095", "Hamburg", 53.55, 10.0006, 1),
        ("GB", "SW1A", "SW1A", "London", 51.501, -0.1416, 1),
    ]
    with keel.db.read() as conn:
        query = sa.select(store.postal_codes.c.postal_code, store.postal_codes.c.source)
        sources = {str(row.postal_code): str(row.source) for row in conn.execute(query)}
    assert sources == {"10117": "DE.txt", "20095": "fix.txt", "SW1A": "fix.txt"}


def test_lookup_normalises_and_falls_back_to_the_outward_part(keel: Keel) -> None:
    keel.postcodes.load([BERLIN_MITTE, LONDON], source="test")
    found = keel.postcodes.centroid("de", " 101-17 ")
    assert found is not None and (found.latitude, found.longitude, found.exact) == (52.517, 13.3872, True)
    area = keel.postcodes.centroid("GB", "sw1a 1aa")
    assert area is not None and (area.postal_code, area.exact) == ("SW1A", False)
    assert keel.postcodes.centroid("DE", "99999") is None
    assert keel.postcodes.centroid("FR", "10117") is None
    with pytest.raises(NotFound, match="postal code '99999' in 'DE'"):
        keel.postcodes.get("DE", "99999")
    assert keel.postcodes.count() == 2 and keel.postcodes.count("gb") == 1


def test_capture_with_only_a_postal_code_gets_its_centroid(keel: Keel, world: World) -> None:
    # given stock and a loaded postal code / when an order sends only a postal code / then its centroid
    receive(keel, "SKU-1", WH_DE, 10)
    keel.postcodes.load([HAMBURG], source="test")
    placed, _ = place(keel, order("P-1", postal_code="20095"))
    assert (placed.geocoded, placed.latitude, placed.longitude) == ("postal_code", 53.5503, 10.0006)
    # the postal code wins over the city named beside it
    placed, _ = place(keel, order("P-2", postal_code="20 095", city="Berlin"))
    assert (placed.geocoded, placed.latitude, placed.postal_code) == ("postal_code", 53.5503, "20 095")
    # given coordinates still win over the postal code
    placed, _ = place(keel, order("P-3", postal_code="20095", latitude=52.5, longitude=13.4))
    assert (placed.geocoded, placed.latitude) == ("given", 52.5)


def test_an_unknown_postal_code_falls_back_to_the_city_then_the_country(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    keel.postcodes.load([HAMBURG], source="test")
    placed, _ = place(keel, order("F-1", postal_code="80331", city="Munich"))
    assert (placed.geocoded, placed.latitude, placed.longitude) == ("city", 48.137, 11.575)
    placed, _ = place(keel, order("F-2", postal_code="80331"))
    assert (placed.geocoded, placed.latitude) == ("country", 52.52)


def test_the_twin_loads_its_postal_codes_and_twin_orders_are_located_by_them(tmp_path: Path) -> None:
    world = generate(5, Scale(skus=40, locations=90, channels=30))
    keel = open_keel(f"sqlite:///{tmp_path / 'twin.db'}")
    try:
        load_world(keel, world)
        assert keel.postcodes.count() == len(world.postal_codes)
        code = next(p for p in world.postal_codes if p["country"] == "DE" and p["place"] == "Hamburg")
        sku = next(r["sku"] for r in world.opening_stock if r["location"].startswith("WH-DE"))
        doc = {**order("T-1", postal_code=code["postal_code"], city="Hamburg"), "channel": "web-de"}
        doc["lines"][0]["sku"] = sku
        placed, _ = place(keel, doc)
        assert (placed.geocoded, placed.latitude, placed.longitude) == (
            "postal_code",
            code["latitude"],
            code["longitude"],
        )
    finally:
        keel.close()
