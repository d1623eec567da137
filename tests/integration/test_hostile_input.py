"""Every input a hostile or clumsy client can send gets a 4xx problem and changes nothing, the same on
SQLite and PostgreSQL (issue 10: NUL bytes, lone surrogates, huge numbers, deep JSON, coercion)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.e2e.test_http import assert_problem
from tests.support import WH_DE, World, mv, receive, snapshot

NUL = "a\x00b"
SURROGATE = '"a\\ud800b"'  # a JSON escape: json.dumps would refuse to encode the lone surrogate itself


def order(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web-de",
        "external_id": "H-1",
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price": "12.50"}],
        "customer": {"name": "Ann"},
        "ship_to": {"country": "DE", "postal_code": "10115", "latitude": 52.5, "longitude": 13.4},
    }
    return {**body, **changes}


def reservation(**changes: Any) -> dict[str, Any]:
    return {"sku": "SKU-1", "location": WH_DE, "quantity": 1, "id": "r1", **changes}


def post_raw(client: TestClient, url: str, raw: str) -> Any:
    return client.post(url, content=raw.encode(), headers={"content-type": "application/json"})


def field_errors(problem: dict[str, Any]) -> list[str]:
    return [e["field"] for e in problem["errors"]]


@pytest.fixture
def stocked(keel: Keel, world: World) -> Keel:
    receive(keel, "SKU-1", WH_DE, 10)
    return keel


# (url, body with a placeholder text field, the field named in the error)
TEXT_FIELDS = [
    ("/orders", order(customer={"name": "TEXT"}), "customer.name"),
    ("/orders", order(ship_to={"country": "DE", "city": "TEXT"}), "ship_to.city"),
    ("/inventory/reservations", reservation(reference="TEXT"), "reference"),
    ("/inventory/reservations", reservation(sku="TEXT"), "sku"),
    ("/inventory/counts", {"sku": "SKU-1", "location": "TEXT", "counted": 1}, "location"),
    ("/locations", {"code": "X-1", "name": "TEXT", "kind": "warehouse", "country": "DE"}, "name"),
    ("/channels", {"code": "c", "name": "TEXT", "kind": "web_store", "countries": ["DE"], "currency": "EUR"}, "name"),
    ("/channels", {"code": "c", "name": "n", "kind": "web_store", "countries": ["DE"], "currency": "EUR",
                   "policy": {"sources": {"TEXT": {"locations": [WH_DE]}}}}, "policy"),
]  # fmt: skip


@pytest.mark.parametrize("text", ["nul", "surrogate", "megabyte"])
@pytest.mark.parametrize(("url", "template", "field"), TEXT_FIELDS, ids=[f"{u}:{f}" for u, _, f in TEXT_FIELDS])
def test_unstorable_text_is_a_422_naming_the_field(
    stocked: Keel, client: TestClient, url: str, template: dict[str, Any], field: str, text: str
) -> None:
    # given a body whose text field holds a NUL, a lone surrogate or a megabyte
    raw = json.dumps(template)
    replacement = {"nul": json.dumps(NUL), "surrogate": SURROGATE, "megabyte": json.dumps("x" * 1_000_000)}[text]
    raw = raw.replace('"TEXT"', replacement)
    before = snapshot(stocked)
    # when it is posted, then it is refused naming the field, and nothing is written
    problem = assert_problem(post_raw(client, url, raw), 422, "validation")
    assert any(f.startswith(field) for f in field_errors(problem)), problem
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/inventory/reservations", reservation(quantity="5"), "quantity"),
        ("/inventory/reservations", reservation(quantity=2**31), "quantity"),
        ("/inventory/counts", {"sku": "SKU-1", "location": WH_DE, "counted": "5"}, "counted"),
        ("/orders", order(lines=[{"sku": "SKU-1", "quantity": "1", "unit_price": "12.50"}]), "lines.0.quantity"),
        ("/orders", order(lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": "1e308"}]), "unit_price"),  # row 1
        ("/orders", order(lines=[{"sku": "SKU-1", "quantity": 1, "unit_price": "9" * 400}]), "lines.0.unit_price"),
        ("/orders", order(lines=[{"sku": "SKU-1", "quantity": 2**63, "unit_price": "1"}]), "lines.0.quantity"),
        ("/orders", order(ship_to={"country": "DE", "latitude": "52.5"}), "ship_to.latitude"),
        ("/orders", order(coupon="FREE"), "coupon"),
        ("/inventory/reservations", reservation(colour="red"), "colour"),
        ("/channels", {"code": "c", "name": "n", "kind": "web_store", "countries": ["DE"], "currency": "EUR",
                       "policy": {"safety_buffer": 2**63}}, "policy"),
    ],
    ids=["reserve-string-qty", "reserve-2**31", "count-string", "order-string-qty", "price-1e308", "price-400-digits",
         "order-qty-2**63", "latitude-string", "order-unknown-field", "reserve-unknown-field", "safety-buffer-2**63"],
)  # fmt: skip
def test_coerced_unknown_and_out_of_range_values_are_422(
    stocked: Keel, client: TestClient, url: str, body: dict[str, Any], field: str
) -> None:
    before = snapshot(stocked)
    problem = assert_problem(client.post(url, json=body), 422, "validation")
    assert any(f.startswith(field) for f in field_errors(problem)), problem
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    "url",
    ["/orders/9223372036854775808", "/orders/1/allocations/9223372036854775808/pick",
     "/inventory/positions?offset=9223372036854775808", "/orders?offset=9223372036854775808",
     "/inventory/movements?after_seq=9223372036854775808",
     "/planning/forecast/country?sku=SKU-1&country=DE&horizon=9223372036854775808",
     "/planning/forecast/country?sku=SKU-1&country=DE&days=-9223372036854775809"],
)  # fmt: skip
def test_integers_past_64_bits_in_paths_and_queries_are_4xx(stocked: Keel, client: TestClient, url: str) -> None:
    before = snapshot(stocked)
    response = client.post(url) if url.endswith("/pick") else client.get(url)
    assert_problem(response, 422, "validation")
    assert snapshot(stocked) == before


@pytest.mark.parametrize(
    "url",
    ["/locations/WH%00", "/inventory/positions?sku=a%00b", "/inventory/reservations/r%00",
     "/planning/forecast/country?sku=a%00b&country=DE"],
)  # fmt: skip
def test_a_nul_in_the_url_is_a_400(stocked: Keel, client: TestClient, url: str) -> None:
    assert_problem(client.get(url), 400, "bad-request")


@pytest.mark.parametrize("url", ["/inventory/reservations", "/inventory/movements", "/orders", "/channels"])
def test_json_nested_10000_deep_is_a_400(stocked: Keel, client: TestClient, url: str) -> None:
    before = snapshot(stocked)
    problem = assert_problem(post_raw(client, url, "[" * 10_000 + "]" * 10_000), 400, "too-deep")
    assert problem["detail"] == "JSON nested deeper than 32 levels (setting max_json_depth)"
    assert snapshot(stocked) == before


def test_nesting_within_the_limit_reaches_the_route(stocked: Keel, client: TestClient) -> None:
    # 32 levels (the default limit) are fine: the route itself refuses the unknown shape
    problem = assert_problem(post_raw(client, "/inventory/reservations", "[" * 32 + "]" * 32), 422, "validation")
    assert problem["errors"][0]["field"] == ""


def test_text_in_a_movement_batch_is_refused_by_row(stocked: Keel, client: TestClient) -> None:
    before = snapshot(stocked)
    rows = [mv("ok", "received", "SKU-1", WH_DE, 1), mv("bad", "received", "SKU-1", WH_DE, 1, reference=NUL)]
    problem = assert_problem(client.post("/inventory/movements", json=rows), 422, "validation")
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(2, "reference")]
    assert snapshot(stocked) == before


def test_an_identical_repeat_answers_200_with_the_same_body_and_other_content_409(
    stocked: Keel, client: TestClient
) -> None:
    for url, body, changed in [
        ("/inventory/reservations", reservation(), reservation(quantity=2)),
        ("/inventory/counts", {"sku": "SKU-1", "location": WH_DE, "counted": 9, "id": "c1"},
         {"sku": "SKU-1", "location": WH_DE, "counted": 8, "id": "c1"}),
        ("/orders", order(), order(lines=[{"sku": "SKU-1", "quantity": 2, "unit_price": "12.50"}])),
    ]:  # fmt: skip
        first = client.post(url, json=body)
        assert first.status_code == 201, first.text
        after_first = snapshot(stocked)
        again = client.post(url, json=body)
        assert (again.status_code, again.json()) == (200, first.json()), url
        assert_problem(client.post(url, json=changed), 409, "conflict")
        assert snapshot(stocked) == after_first, url
