"""The pricing API's inputs refused with a 4xx problem on both databases, state unchanged: hostile price
lists, SKU costs, tax rates and policies (huge, nested, NUL bytes, 2^63, the wrong content type, unknown
fields, bad currencies, negative prices, bad dates), odd codes in paths and odd paging."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.support import WEB_DE, World, snapshot

BIG = 9223372036854775808  # 2^63
JSON = "application/json"
PRICE = '{"sku": "SKU-1", "amount": "9.99"}'


def problem(response: object) -> None:
    status, headers = response.status_code, response.headers  # type: ignore[attr-defined]
    request = response.request  # type: ignore[attr-defined]
    assert 400 <= status < 500, (request.method, str(request.url)[:200], response.text)  # type: ignore[attr-defined]
    assert headers["content-type"].startswith("application/problem+json"), (request.method, str(request.url)[:200])


@pytest.fixture
def priced(keel: Keel, world: World, client: TestClient) -> TestClient:
    """A list pricing SKU-1 everywhere and a default policy: something a bad request could damage."""
    document = {"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "9.99"}]}
    assert client.put("/pricing/lists/base-eur", json=document).status_code == 200
    assert client.put("/pricing/policies/*", json={"rules": []}).status_code == 200
    return client


# Each group of cases shares one database per backend (a fresh one per case cost a minute of the suite): every
# case is checked against the state before it, so one refused case cannot hide another.
LISTS = [
        ('{"currency": "EUR", "prices": [' + PRICE + '], "extra": 1}', JSON),
        ('{"currency": "EUR", "prices": [' + "[" * 200 + "]" * 200 + "]}", JSON),
        ('{"currency": "EUR", "name": "a\\u0000b", "prices": [' + PRICE + "]}", JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU\\u0000", "amount": "9.99"}]}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "9.99\\u0000"}]}', JSON),
        (f'{{"currency": "EUR", "priority": {BIG}, "prices": []}}', JSON),
        (f'{{"currency": "EUR", "prices": [{{"sku": "SKU-1", "amount": "9.99", "min_quantity": {BIG}}}]}}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": 9.99}]}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "1e400"}]}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "NaN"}]}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "-0.01"}]}', JSON),
        ('{"currency": "EUR", "prices": [{"sku": "SKU-1", "amount": "99999999999999999999"}]}', JSON),
        ('{"currency": "XXX", "prices": [' + PRICE + "]}", JSON),
        ('{"currency": "eur", "prices": [' + PRICE + "]}", JSON),
        ('{"currency": null, "prices": []}', JSON),
        ('{"currency": "EUR", "valid_from": "yesterday", "prices": []}', JSON),
        ('{"currency": "EUR", "valid_from": "2026-13-45T00:00:00Z", "prices": []}', JSON),
        ('{"currency": "EUR", "valid_from": "2026-12-01T00:00:00", "prices": []}', JSON),
        ('{"currency": "EUR", "channel": "Web DE", "prices": []}', JSON),
        ('{"currency": "EUR", "prices": {"SKU-1": "9.99"}}', JSON),
        ('{"currency": "EUR", "prices": [' + ",".join([PRICE] * 2) + "]}", JSON),
        ('{"currency": "EUR", "name": "' + "n" * 100_000 + '", "prices": []}', JSON),
        ("[]", JSON),
        ("not json", JSON),
        ("currency=EUR", "application/x-www-form-urlencoded"),
        ('{"currency": "EUR", "prices": []}', "text/plain"),
]  # fmt: skip


def test_hostile_price_lists_are_refused_and_change_nothing(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    for body, content_type in LISTS:
        problem(priced.put("/pricing/lists/base-eur", content=body, headers={"content-type": content_type}))
        problem(priced.put("/pricing/lists/other", content=body, headers={"content-type": content_type}))
    assert snapshot(keel) == before


def test_a_huge_price_list_is_refused(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    prices = ",".join(f'{{"sku": "S-{i}", "amount": "1.00"}}' for i in range(100_001))
    problem(priced.put("/pricing/lists/base-eur", content='{"currency": "EUR", "prices": [' + prices + "]}",
                       headers={"content-type": JSON}))  # fmt: skip
    assert snapshot(keel) == before


SKUS = [
        "{}",
        "[]",
        '[{"sku": "SKU-1", "cost": "-1", "currency": "EUR"}]',
        '[{"sku": "SKU-1", "cost": "1.00"}]',
        '[{"sku": "SKU-1", "cost": "1.00", "currency": "ZZZ"}]',
        '[{"sku": "SKU-1", "cost": 1, "currency": "EUR"}]',
        '[{"sku": "SKU-1", "tax_class": "Reduced!"}]',
        '[{"sku": "SKU-1", "margin": "0.1"}]',
        '[{"sku": "SKU-1"}, {"sku": "SKU-1"}]',
        '[{"sku": "SKU\\u0000"}]',
        f'[{{"sku": "SKU-1", "cost": {BIG}, "currency": "EUR"}}]',
        '["SKU-1"]',
        "[" * 200 + "]" * 200,
]  # fmt: skip


def test_hostile_sku_costs_are_refused_and_change_nothing(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    for body in SKUS:
        problem(priced.put("/pricing/skus", content=body, headers={"content-type": JSON}))
    assert snapshot(keel) == before


RATES = [
        ("/pricing/tax-rates/DE/standard", {"rate": "1"}),
        ("/pricing/tax-rates/DE/standard", {"rate": "-0.1"}),
        ("/pricing/tax-rates/DE/standard", {"rate": "NaN"}),
        ("/pricing/tax-rates/DE/standard", {"rate": "Infinity"}),
        ("/pricing/tax-rates/DE/standard", {"rate": 0.19}),
        ("/pricing/tax-rates/DE/standard", {"rate": "0.19\x00"}),
        ("/pricing/tax-rates/DE/standard", {"rate": "0." + "1" * 50}),
        ("/pricing/tax-rates/DE/standard", {"rate": "0.19", "vat": True}),
        ("/pricing/tax-rates/DE/standard", {}),
        ("/pricing/tax-rates/de/standard", {"rate": "0.19"}),
        ("/pricing/tax-rates/DEU/standard", {"rate": "0.19"}),
        ("/pricing/tax-rates/DE/Stand-ard", {"rate": "0.19"}),
        ("/pricing/tax-rates/DE/" + "s" * 5000, {"rate": "0.19"}),
]  # fmt: skip


def test_hostile_tax_rates_are_refused_and_change_nothing(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    for path, body in RATES:
        problem(priced.put(path, content=json.dumps(body), headers={"content-type": JSON}))
    assert snapshot(keel) == before


POLICIES = [
        ("*", "{}"),
        ("*", '{"rules": {}}'),
        ("*", '{"rules": [], "extra": 1}'),
        ("*", '{"rules": [{"rule": "discount", "percent": "10"}]}'),
        ("*", '{"rules": [{"rule": "cost_plus", "margin_floor": "1.5"}]}'),
        ("*", '{"rules": [{"rule": "cost_plus", "margin_floor": 0.25}]}'),
        ("*", '{"rules": [{"rule": "cost_plus", "margin_floor": "0.25", "cap": "1"}]}'),
        ("*", '{"rules": [{"rule": "map", "list": "MAP EU"}]}'),
        ("*", '{"rules": [{"rule": "ending", "endings": {"EUR": {"step": "1", "end": "x"}}}]}'),
        ("*", '{"rules": [{"rule": "ending", "endings": {"ZZZ": {"step": "1", "end": "0.99"}}}]}'),
        ("*", '{"rules": [{"rule": "parity", "channel": "web\\u0000", "within": "0.05"}]}'),
        ("*", f'{{"rules": [{{"rule": "max_change_per_day", "limit": {BIG}}}]}}'),
        ("*", '{"rules": [' + ",".join(['{"rule": "ending"}'] * 21) + "]}"),
        ("*", '{"rules": ' + "[" * 200 + "]" * 200 + "}"),
        ("no-such-channel", '{"rules": []}'),
        ("a" * 5000, '{"rules": []}'),
]  # fmt: skip


def test_hostile_policies_are_refused_and_change_nothing(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    for scope, body in POLICIES:
        problem(priced.put(f"/pricing/policies/{scope}", content=body, headers={"content-type": JSON}))
    assert snapshot(keel) == before


def test_odd_codes_in_paths_are_refused(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    for code in ("%00", "a" * 5000, str(BIG), "..%2F..", "%F0%9F%92%A9", "Base-EUR"):
        problem(priced.get(f"/pricing/lists/{code}"))
        problem(priced.delete(f"/pricing/lists/{code}"))
        problem(priced.get(f"/pricing/policies/{code}"))
        problem(priced.delete(f"/pricing/policies/{code}"))
        problem(priced.get(f"/pricing/prices/{code}/DE/SKU-1"))
        problem(priced.get(f"/pricing/prices/{WEB_DE}/DE/{code}"))
    assert snapshot(keel) == before


QUERIES = [
        {"limit": str(BIG)},
        {"limit": "0"},
        {"limit": "NaN"},
        {"offset": str(BIG)},
        {"offset": "-1"},
        {"offset": "1e400"},
        {"channel": "x" * 5000},
        {"country": "DEU"},
        {"sku": "\x00"},
]  # fmt: skip


def test_odd_paging_and_filters_are_refused(priced: TestClient) -> None:
    for query in QUERIES:
        problem(priced.get("/pricing/prices", params=query))
        if "limit" in query or "offset" in query:
            problem(priced.get("/pricing/lists/base-eur", params=query))


SEEN = '{"competitor": "acme", "country": "DE", "sku": "SKU-1", "currency": "EUR", "amount": "9.49", ' \
       '"observed_at": "2026-01-01T00:00:00Z"}'  # fmt: skip
COMPETITORS = [
        ("{}", JSON, None),
        ("[]", JSON, ""),
        (SEEN, JSON, None),
        ("[" + SEEN.replace('"EUR"', '"XXX"') + "]", JSON, "currency"),
        ("[" + SEEN.replace('"EUR"', '"eur"') + "]", JSON, "currency"),
        ("[" + SEEN.replace('"9.49"', '"-9.49"') + "]", JSON, "amount"),
        ("[" + SEEN.replace('"9.49"', '"9.499"') + "]", JSON, "amount"),
        ("[" + SEEN.replace('"9.49"', '"NaN"') + "]", JSON, "amount"),
        ("[" + SEEN.replace('"9.49"', "9.49") + "]", JSON, "amount"),
        ("[" + SEEN.replace('"9.49"', f"{BIG}") + "]", JSON, None),
        ("[" + SEEN.replace('"9.49"', '"99999999999999999999"') + "]", JSON, "amount"),
        ("[" + SEEN[:-1] + ', "seller": "x"}]', JSON, "seller"),
        ("[" + SEEN.replace('"DE"', '"DEU"') + "]", JSON, "country"),
        ("[" + SEEN.replace('"acme"', '"ACME Inc"') + "]", JSON, "competitor"),
        ("[" + SEEN.replace('"SKU-1"', '"SKU\\u0000"') + "]", JSON, None),
        ("[" + SEEN.replace("2026-01-01T00:00:00Z", "2026-01-01T00:00:00") + "]", JSON, "observed_at"),
        ("[" + SEEN.replace("2026-01-01T00:00:00Z", "2999-01-01T00:00:00Z") + "]", JSON, "observed_at"),
        ("[" + SEEN.replace('"2026-01-01T00:00:00Z"', "null") + "]", JSON, "observed_at"),
        ("[" + SEEN + ", " + SEEN + "]", JSON, "sku"),
        ('["acme"]', JSON, ""),
        ("[" * 200 + "]" * 200, JSON, None),
        ("not json", JSON, None),
        ("[" + SEEN + "]", "text/plain", None),
]  # fmt: skip


def test_hostile_competitor_prices_are_refused_with_their_fields_and_change_nothing(
    keel: Keel, priced: TestClient
) -> None:
    assert priced.put("/pricing/policies/*", json={"rules": [{"rule": "competitor", "within": "0.05"}]}).is_success
    before = snapshot(keel)
    for body, content_type, field in COMPETITORS:
        refused = priced.put("/pricing/competitor-prices", content=body, headers={"content-type": content_type})
        problem(refused)
        if field is not None:
            assert field in {e["field"] for e in refused.json()["errors"]}, (body, refused.text)
    assert snapshot(keel) == before


def test_a_huge_batch_of_competitor_prices_is_refused(keel: Keel, priced: TestClient) -> None:
    before = snapshot(keel)
    rows = ",".join(SEEN.replace('"SKU-1"', f'"S-{i}"') for i in range(10_001))
    refused = priced.put("/pricing/competitor-prices", content="[" + rows + "]", headers={"content-type": JSON})
    problem(refused)
    assert refused.json()["errors"] == [{"row": None, "field": "", "reason": "a list of 1 to 10,000 competitor prices"}]
    assert snapshot(keel) == before


def test_odd_competitor_price_filters_are_refused(priced: TestClient) -> None:
    for query in QUERIES:
        if "channel" not in query:  # competitor prices are per country, not channel: no such filter
            problem(priced.get("/pricing/competitor-prices", params=query))
    problem(priced.get("/pricing/competitor-prices", params={"competitor": "c" * 5000}))
