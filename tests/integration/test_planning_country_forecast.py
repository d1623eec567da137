"""A SKU's forecast in a whole country, coherent with its locations' (``PlanningService.country_forecast``,
``GET /planning/forecast/country``): two Munich-area stores selling 6 and 1 a day give a country forecast of
about 7 a day that is exactly the sum of theirs; bad input, unknown SKUs and other countries are refused; a SKU
that sold nothing gets a note. On both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from keel.bootstrap import Keel
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound, ValidationFailed
from keel.platform.scope import Scope
from tests.support import ST_DE, World
from tests.support_planning import SLOW_STORE, seed_slow_store

SKU = "SKU-CF"


def test_the_country_is_the_sum_of_its_locations(keel: Keel, world: World) -> None:
    seed_slow_store(keel, SKU, utcnow().date())
    found = keel.planning.country_forecast(SKU, "de", days=28, horizon=7)
    assert found.country == "DE" and found.sku == SKU and len(found.mean) == 7
    assert set(found.locations) == {ST_DE, SLOW_STORE}
    for day in range(7):
        assert abs(found.mean[day] - sum(v[day] for v in found.locations.values())) < 1e-6
    assert 5.5 <= sum(found.mean) / 7 <= 8.5  # about the 6 + 1 sold a day
    assert 4.5 <= sum(found.locations[ST_DE]) / 7 <= 7.5 and sum(found.locations[SLOW_STORE]) / 7 <= 2.0
    assert found.sold[-28:] == (7,) * 28  # every day of the window, both stores summed
    assert found.method in ("bottom_up", "ols", "wls_struct", "wls_var")
    assert set(found.backtest) == {"base", "bottom_up", "ols", "wls_struct", "wls_var"}
    assert set(found.backtest["base"]) == {"sku", "location"}
    q50, q95 = found.quantiles["q50"], found.quantiles["q95"]
    assert all(a <= b for a, b in zip(q50, q95, strict=True)) and len(found.base) == 7
    assert found.first_day == utcnow().date()
    # a short horizon is the start of a two-week one: the method is never chosen on a day or two of errors
    short = keel.planning.country_forecast(SKU, "DE", days=28, horizon=3)
    assert short.mean == found.mean[:3] and short.method == found.method and short.backtest == found.backtest


def test_bad_input_other_countries_and_a_sku_without_sales(keel: Keel, world: World) -> None:
    seed_slow_store(keel, SKU, utcnow().date())
    with pytest.raises(ValidationFailed, match="country: a two-letter ISO country code"):
        keel.planning.country_forecast(SKU, "D1")
    with pytest.raises(ValidationFailed, match="bad window"):
        keel.planning.country_forecast(SKU, "DE", days=7)
    with pytest.raises(NotFound, match="no stock position of 'SKU-NOWHERE' in DE"):
        keel.planning.country_forecast("SKU-NOWHERE", "DE")
    with pytest.raises(NotFound, match="no country 'DE'"):
        keel.planning.country_forecast(SKU, "DE", scope=Scope(countries=frozenset({"FR"})))
    with pytest.raises(NotFound):
        keel.planning.country_forecast(SKU, "FR")  # stocked in DE only
    keel.stock.apply_batch([{"id": "r-idle", "kind": "received", "sku": "SKU-IDLE", "location": ST_DE,
                             "quantity": 5}])  # fmt: skip
    idle = keel.planning.country_forecast("SKU-IDLE", "DE")
    assert idle.mean == () and idle.note == "no sales of SKU-IDLE in DE in 56 days"


def test_the_api_returns_the_same_view(keel: Keel, world: World, client: TestClient) -> None:
    seed_slow_store(keel, SKU, utcnow().date())
    expected = keel.planning.country_forecast(SKU, "DE", days=28, horizon=5)
    answer = client.get("/planning/forecast/country", params={"sku": SKU, "country": "DE", "days": 28, "horizon": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mean"] == [round(v, 3) for v in expected.mean] and body["method"] == expected.method
    assert set(body["locations"]) == {ST_DE, SLOW_STORE} and len(body["history"]) == 2
    assert body["sold"] == list(expected.sold) and body["first_day_ahead"] == expected.first_day.isoformat()
    for query, status in (
        ({"sku": SKU, "country": "DEU"}, 422),
        ({"sku": SKU, "country": "DE", "horizon": 57}, 422),
        ({"sku": SKU, "country": "D\x00"}, 400),  # the HTTP guard: no NUL in a URL
        ({"sku": "SKU-NOWHERE", "country": "DE"}, 404),
        ({"sku": SKU}, 422),
    ):
        refused = client.get("/planning/forecast/country", params=query)
        assert refused.status_code == status, (query, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
