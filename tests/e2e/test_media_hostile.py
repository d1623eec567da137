"""The media API's inputs refused with a 4xx problem on both databases, state unchanged: hostile setup
batches, rules, guardrails, performance rows and CSV files (huge, nested, NUL bytes, 2^63, the wrong content
type, unknown fields, an unknown metric, a negative budget, an unknown SKU or country, a malformed file), odd
codes, levels and ids in paths, odd paging and filters. Each refusal names the field at fault where the
request reached the model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from tests.support import World, snapshot
from tests.support_media import PAUSE_RULE, media_world, setup_batch

BIG = 9223372036854775808  # 2^63
JSON = "application/json"
CSV = "text/csv"


def problem(response: Any, field: str | None = None) -> None:
    """A 4xx problem; with ``field``, one of its errors names that field."""
    request = response.request
    assert 400 <= response.status_code < 500, (request.method, str(request.url)[:200], response.text[:500])
    assert response.headers["content-type"].startswith("application/problem+json"), str(request.url)[:200]
    if field is not None:
        fields = [e["field"] for e in response.json().get("errors", [])]
        assert field in fields, (field, response.text[:500])


@pytest.fixture
def media(keel: Keel, world: World, client: TestClient) -> TestClient:
    """The setup, a rule and a row of performance: something a bad request could damage."""
    media_world(keel)
    assert client.put("/media/rules/pause when out", json=PAUSE_RULE).status_code == 200
    row = {"date": "2026-03-02", "ad": "a-tee-s", "impressions": 10, "clicks": 1, "cost": "1.00"}
    assert client.put("/media/performance", json={"rows": [row]}).status_code == 200
    return client


def batch(**changes: Any) -> str:
    """The stored setup with its first row of a level changed (``campaigns={"daily_budget": -5}``)."""
    doc = setup_batch()
    for level, change in changes.items():
        doc[level][0] |= change
    return json.dumps(doc)


CAMPAIGN = '{"code": "c-x", "account": "g-de", "name": "X", "country": "DE", "daily_budget": 100}'
# (body, content type, the field an error names; None where the refusal comes before the model)
SETUPS = [
        (batch(campaigns={"daily_budget": -5}), JSON, "campaigns.daily_budget"),
        (batch(campaigns={"daily_budget": 10**13}), JSON, "campaigns.daily_budget"),
        (batch(campaigns={"daily_budget": "50.00"}), JSON, "campaigns.daily_budget"),
        (batch(campaigns={"country": "FR"}), JSON, "campaigns.country"),
        (batch(campaigns={"country": "Germany"}), JSON, "campaigns.country"),
        (batch(campaigns={"account": "nope"}), JSON, "campaigns.account"),
        (batch(campaigns={"store": "ST-DE-1"}), JSON, "campaigns.store"),
        (batch(campaigns={"surprise": 1}), JSON, "campaigns.surprise"),
        (batch(ads={"skus": ["NO-SUCH"]}), JSON, "ads.skus"),
        (batch(ads={"skus": [], "category": "no-such-category"}), JSON, "ads.category"),
        (batch(ads={"bid": -1}), JSON, "ads.bid"),
        (batch(ads={"ad_group": "nope"}), JSON, "ads.ad_group"),
        (batch(ad_groups={"default_bid": None}), JSON, "ad_groups.default_bid"),
        (batch(accounts={"currency": "XXX"}), JSON, "accounts.currency"),
        (batch(accounts={"channel": "no-channel"}), JSON, "accounts.channel"),
        (batch(accounts={"currency": "USD"}), JSON, "accounts.platform"),  # a stored account's currency stays
        (batch(accounts={"url": "ftp://x"}), JSON, "accounts.url"),
        (batch(accounts={"token": ""}), JSON, "accounts.token"),
        (batch(accounts={"guardrails": {"min_budget": -1}}), JSON, "accounts.guardrails.min_budget"),
        (batch(campaigns={"code": "c\u0000"}), JSON, "campaigns"),
        (batch(campaigns={"name": "x\u0000y"}), JSON, "campaigns"),
        (batch(campaigns={"daily_budget": BIG}), JSON, "campaigns"),
        ('{"campaigns": [' + CAMPAIGN + ", " + CAMPAIGN + "]}", JSON, "campaigns.code"),
        ('{"campaigns": ' + "[" * 40 + "]" * 40 + "}", JSON, None),
        ('{"campaigns": [{"code": ' + "[" * 20 + "]" * 20 + "}]}", JSON, "campaigns"),
        ('{"campaigns": {"c-x": 1}}', JSON, "campaigns"),
        ('{"campaigns": ["c-x"]}', JSON, "campaigns.0"),
        ('{"budgets": []}', JSON, "budgets"),
        ("[]", JSON, None),
        ("not json", JSON, None),
        ('{"campaigns": []}', "text/plain", None),
        ("campaigns=1", "application/x-www-form-urlencoded", None),
]  # fmt: skip


def test_hostile_setup_batches_are_refused_with_their_field_and_change_nothing(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    for body, content_type, field in SETUPS:
        problem(media.put("/media/setup", content=body, headers={"content-type": content_type}), field)
    assert snapshot(keel) == before


def test_a_huge_setup_is_refused(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    many = ",".join(f'{{"code": "g-{i}", "campaign": "c-tee", "name": "", "default_bid": 1}}' for i in range(50_001))
    too_many = media.put("/media/setup", content='{"ad_groups": [' + many + "]}", headers={"content-type": JSON})
    assert too_many.status_code == 413, too_many.text
    huge = media.put(
        "/media/setup", content='{"x": "' + "x" * (17 * 1024 * 1024) + '"}', headers={"content-type": JSON}
    )
    assert huge.status_code == 413, huge.text[:200]
    assert snapshot(keel) == before


RULE = {k: v for k, v in PAUSE_RULE.items() if k != "name"}
RULES = [
        ({**RULE, "when": [{"metric": "stock_level", "op": "<=", "value": 0}]}, "when[1].metric"),
        ({**RULE, "when": [{"metric": "sellable", "op": "=<", "value": 0}]}, "when[1].op"),
        ({**RULE, "when": [{"metric": "sellable", "op": "<=", "value": 0.5}]}, "when[1].value"),
        ({**RULE, "when": [{"metric": "cover_days", "op": "<=", "value": -1}]}, "when[1].value"),
        ({**RULE, "when": [{"metric": "sellable", "op": "<=", "value": 0, "unit": "x"}]}, "when[1].unit"),
        ({**RULE, "when": []}, "when"),
        ({**RULE, "then": {"action": "explode"}}, "then.action"),
        ({**RULE, "then": {"action": "shift_budget", "to": "same_shop", "share_pct": 150}}, "then.to"),
        ({**RULE, "then": {"action": "bid_ladder", "steps": [{"cover_below": 5, "factor": 0}]}},
         "then.steps[1].factor"),
        ({**RULE, "trigger": "hourly"}, "trigger"),
        ({**RULE, "scope": {"countries": ["de"]}}, "scope.countries"),
        ({**RULE, "scope": {"platforms": ["tiktok"]}}, "scope.platforms"),
        ({**RULE, "cooldown_minutes": -1}, "cooldown_minutes"),
        ({**RULE, "priority": BIG}, ""),
        ({**RULE, "dry_run": "yes"}, "dry_run"),
        ({**RULE, "name": "another name"}, "name"),
        ({**RULE, "surprise": True}, "surprise"),
        ({**RULE, "when": [{"metric": "sellable\u0000", "op": "<=", "value": 0}]}, ""),
        ({"then": {"action": "pause", "x": [[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}}, ""),
        ({}, "then"),
]  # fmt: skip


def test_hostile_rules_are_refused_with_their_path_and_change_nothing(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    for document, field in RULES:
        problem(media.put("/media/rules/pause when out", json=document), field)
        problem(media.put("/media/rules/other", json=document), field)
    problem(media.put("/media/rules/pause when out", content="[]", headers={"content-type": JSON}))
    problem(media.put("/media/rules/pause when out", content=json.dumps(RULE), headers={"content-type": "text/plain"}))
    problem(media.put("/media/rules/" + "r" * 101, json=RULE), "name")
    problem(media.put("/media/rules/%20", json=RULE), "name")
    assert snapshot(keel) == before


GUARDRAILS = [
        ({"min_budget": -1}, "guardrails.min_budget"),
        ({"approval_above": 1.5}, "guardrails.approval_above"),
        ({"max_budget_change_pct": 5000}, "guardrails.max_budget_change_pct"),
        ({"max_bid_factor": 0.5}, "guardrails.max_bid_factor"),
        ({"excluded_campaigns": "c-tee"}, "guardrails.excluded_campaigns"),
        ({"surprise": 1}, "guardrails.surprise"),
        ({"min_budget": BIG}, ""),
]  # fmt: skip


def test_hostile_guardrails_are_refused_and_change_nothing(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    for document, field in GUARDRAILS:
        problem(media.put("/media/guardrails", json=document), field)
    assert snapshot(keel) == before


ROW = {"date": "2026-03-02", "ad": "a-tee-s", "impressions": 10, "clicks": 1, "cost": "1.00"}
PERFORMANCE = [
        ({"rows": [ROW | {"date": "2026-02-30"}]}, "date"),
        ({"rows": [ROW | {"hour": 24}]}, "hour"),
        ({"rows": [ROW | {"impressions": -1}]}, "impressions"),
        ({"rows": [ROW | {"clicks": 11}]}, "clicks"),
        ({"rows": [ROW | {"cost": "-1.00"}]}, "cost"),
        ({"rows": [ROW | {"cost": "1.00001"}]}, "cost"),
        ({"rows": [ROW | {"cost": "NaN"}]}, "cost"),
        ({"rows": [ROW | {"ad": "nope"}]}, "ad"),
        ({"rows": [ROW | {"sku": "CAP-S"}]}, "sku"),
        ({"rows": [ROW | {"campaign": "c-cap"}]}, "campaign"),
        ({"rows": [ROW | {"surprise": 1}]}, "surprise"),
        ({"rows": [ROW, ROW]}, "date"),
        ({"rows": [ROW | {"impressions": BIG}]}, "rows"),
        ({"rows": [ROW | {"ad": "a\u0000"}]}, "rows"),
        ({"rows": ROW}, "rows"),
        ({"rows": [ROW], "extra": 1}, "extra"),
        ({}, "rows"),
]  # fmt: skip
HEADER = "date,hour,ad,sku,impressions,clicks,cost\n"
FILES = [
        (HEADER + "2026-03-02,,a-tee-s,TEE-S,10,1,1.00,9\n", "file"),
        ("ad,clicks\na-tee-s,1\n", "file"),
        ("", "file"),
        (HEADER + "2026-03-02,,a-tee-s,TEE-S,10,1,1.00\n2026-03-02,25,a-tee-s,TEE-S,10,1,1.00\n", "hour"),
        (HEADER + "2026-03-02,,a-tee-s,TEE-S,ten,1,1.00\n", "impressions"),
        (HEADER + "2026-03-02,,a-tee-s,TEE-S,10,1,1,00\n", "file"),
        (HEADER + "2026-03-02,,a-tee-s,TEE-S,10,1,1.00\x00\n", "file"),
        (HEADER.replace("cost", "spend") + "2026-03-02,,a-tee-s,TEE-S,10,1,1.00\n", "spend"),
]  # fmt: skip


def test_hostile_performance_is_refused_with_its_rows_and_changes_nothing(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    for document, field in PERFORMANCE:
        problem(media.put("/media/performance", json=document), field)
    for text, field in FILES:
        problem(media.post("/media/performance/csv", content=text.encode(), headers={"content-type": CSV}), field)
    problem(media.post("/media/performance/csv", content=b"date,ad\n\xff\xfe\n", headers={"content-type": CSV}), "file")
    wrong = media.post("/media/performance/csv", content=HEADER, headers={"content-type": JSON})
    assert wrong.status_code == 415, wrong.text
    wrong = media.put("/media/performance", content=HEADER, headers={"content-type": CSV})
    assert wrong.status_code == 415, wrong.text
    rows = "".join(f"2026-03-02,{h % 24},a-tee-s,TEE-S,10,1,1.00\n" for h in range(200_001))
    problem(media.post("/media/performance/csv", content=HEADER + rows, headers={"content-type": CSV}))
    assert snapshot(keel) == before
    # the refusal says which row: the second of the file
    refused = media.post("/media/performance/csv", content=FILES[3][0], headers={"content-type": CSV})
    assert refused.json()["errors"] == [
        {"row": 2, "field": "hour", "reason": "an hour of the day from 0 to 23, or empty for a whole day"}
    ]


def test_odd_paths_ids_and_bodies_of_decisions_are_refused(keel: Keel, media: TestClient) -> None:
    before = snapshot(keel)
    for code in ("%00", "a" * 5000):
        problem(media.get(f"/media/accounts/{code}"))
        problem(media.get(f"/media/campaigns/{code}"))
        problem(media.post(f"/media/states/ad/{code}/retry"))
        problem(media.delete(f"/media/rules/{code}"))
    for action in ("0", "-1", str(BIG), "abc", "1.5"):
        problem(media.post(f"/media/actions/{action}/approve"), "action_id")
        problem(media.post(f"/media/actions/{action}/reject"), "action_id")
    problem(media.post("/media/states/keyword/c-tee/retry"), "level")
    for body in ({"keep": "both"}, {}, {"keep": "keel", "force": True}, {"keep": None}):
        problem(media.post("/media/states/campaign/c-tee/resolve", json=body))
    problem(media.post("/media/states/campaign/c-tee/resolve", content='{"keep": "keel"}',
                       headers={"content-type": "text/plain"}))  # fmt: skip
    assert snapshot(keel) == before


QUERIES = [
        ("/media/campaigns", {"limit": "0"}, "limit"),
        ("/media/campaigns", {"limit": str(BIG)}, "limit"),
        ("/media/campaigns", {"offset": str(BIG)}, "offset"),
        ("/media/campaigns", {"country": "DEU"}, "country"),
        ("/media/campaigns", {"account": "x" * 5000}, "account"),
        ("/media/performance", {"by": "brand"}, "by"),
        ("/media/performance", {"since": "2026-02-30"}, "since"),
        ("/media/performance", {"key": "\x00"}, None),
        ("/media/actions", {"mode": "deleted"}, "mode"),
        ("/media/actions", {"since": "2026-03-02T00:00:00"}, "since"),
        ("/media/actions", {"offset": "-1"}, "offset"),
        ("/media/states", {"only": "everything"}, "only"),
        ("/media/states", {"limit": "NaN"}, "limit"),
        ("/media/savings", {"since": "yesterday"}, "since"),
        ("/media/savings", {"since": "2026-01-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "since"),
        ("/media/savings", {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until"),
]  # fmt: skip


def test_odd_paging_and_filters_are_refused(media: TestClient) -> None:
    for path, query, field in QUERIES:
        problem(media.get(path, params=query), field)
