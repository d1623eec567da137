"""``/media/...`` over HTTP on both databases: the setup batch and the accounts (tokens never answered),
campaigns with their stock status, performance from JSON and CSV with its totals, rules and guardrails, a
budget shift waiting for a person and approved or rejected once, drift resolved, a dead letter retried,
savings over a known window, and who may call what."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.media import Level, Platform
from keel.media.store import log
from keel.sim.adplatform import AdPlatforms
from tests.support import WEB_DE, WH_DE, World, mv
from tests.support_media import ACCOUNT, PAUSE_RULE, TOKEN, ad_state, drain, media_world, setup_batch, sim_for

SHIFT_RULE = {"trigger": "schedule", "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50}}
GUARDRAILS = {"max_budget_change_pct": 30.0, "min_budget": 100, "approval_above": None, "max_bid_factor": 2.0,
              "excluded_campaigns": []}  # fmt: skip


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0)) as s:
        yield s


@pytest.fixture
def sending(keel: Keel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sender's passes started by a request finish before it answers (so what it sent can be asserted)."""
    monkeypatch.setattr(keel.media.sender, "run_pass", functools.partial(keel.media.sender.run_pass, wait=True))


def sell_out(keel: Keel, *skus: str) -> None:
    keel.stock.apply_batch([mv(f"sale-{sku}", "sold", sku, WH_DE, 3) for sku in skus])
    drain(keel)


def test_the_setup_is_saved_once_and_accounts_never_show_their_token(
    keel: Keel, client: TestClient, world: World
) -> None:
    # given the catalog and stock, and the setup saved through the API with a platform URL and token
    media_world(keel)
    batch = setup_batch("http://127.0.0.1:9/google")
    saved = ok(client.put("/media/setup", json=batch))
    assert saved == {"accounts": 1, "campaigns": 2, "ad_groups": 2, "ads": 3, "changed": 0}
    # then the account reads back with its guardrails and without its token
    account = {"code": ACCOUNT, "platform": "google", "channel": WEB_DE, "currency": "EUR", "name": "Google DE",
               "url": "http://127.0.0.1:9/google", "guardrails": GUARDRAILS}  # fmt: skip
    listed = client.get("/media/accounts")
    assert ok(listed) == [account]
    assert ok(client.get(f"/media/accounts/{ACCOUNT}")) == account
    assert TOKEN not in listed.text and TOKEN not in client.get(f"/media/accounts/{ACCOUNT}").text
    assert refused(client.get("/media/accounts/nope"), 404)["detail"] == "ad account 'nope' does not exist"
    # when a person changes a campaign's budget / then one desired state changed, owed to the platform
    batch["campaigns"][0]["daily_budget"] = 6000
    assert ok(client.put("/media/setup", json={"campaigns": batch["campaigns"]}))["changed"] == 1
    owed = ok(client.get("/media/states", params={"only": "owed"}))
    assert [(s["code"], s["budget"], s["currency"], s["version"], s["sent_version"]) for s in owed["items"]] == [
        ("c-tee", 6000, "EUR", 2, 1)
    ]


def test_campaigns_page_and_filter_with_their_stock_status(keel: Keel, client: TestClient, world: World) -> None:
    media_world(keel)
    first = ok(client.get("/media/campaigns", params={"limit": 1}))
    assert first == {
        "items": [{
            "code": "c-cap", "account": ACCOUNT, "name": "Caps DE", "country": "DE", "region": None, "store": None,
            "radius_km": None, "daily_budget": 3000, "currency": "EUR", "status": "enabled",
            "stock": {"ads": 1, "ads_out_of_stock": 0, "ads_paused_by_rules": 0, "owed": 0, "dead": 0, "drift": 0},
        }],
        "total": 2, "limit": 1, "offset": 0,
    }  # fmt: skip
    assert [c["code"] for c in ok(client.get("/media/campaigns", params={"offset": 1}))["items"]] == ["c-tee"]
    assert ok(client.get("/media/campaigns", params={"account": ACCOUNT, "country": "DE"}))["total"] == 2
    assert ok(client.get("/media/campaigns", params={"country": "FR"}))["total"] == 0
    assert ok(client.get("/media/campaigns", params={"account": "other"}))["total"] == 0
    assert ok(client.get("/media/campaigns", params={"status": "paused"}))["total"] == 0
    assert ok(client.get("/media/campaigns", params={"status": "enabled"}))["total"] == 2
    assert refused(client.get("/media/campaigns", params={"status": "off"}), 422)["errors"][0]["field"] == "status"


def test_a_stock_out_shows_on_the_campaign_its_ads_the_states_and_the_log(
    keel: Keel, client: TestClient, world: World
) -> None:
    # given the setup and a pause rule saved through the API
    media_world(keel)
    saved = ok(client.put("/media/rules/pause when out", json=PAUSE_RULE))
    assert (saved["name"], saved["version"], saved["document"]["then"]["action"]) == ("pause when out", 1, "pause")
    assert saved["document"]["priority"] == 100 and saved["document"]["dry_run"] is False
    drain(keel)
    # when TEE-S sells out
    sell_out(keel, "TEE-S")
    # then the campaign counts one ad out of stock, paused by the rule, owed to the platform
    detail = ok(client.get("/media/campaigns/c-tee"))
    assert detail["campaign"]["stock"] == {
        "ads": 2, "ads_out_of_stock": 1, "ads_paused_by_rules": 1, "owed": 1, "dead": 0, "drift": 0
    }  # fmt: skip
    assert (detail["state"]["budget"], detail["state"]["bid"], detail["state"]["status"]) == (5000, None, "enabled")
    assert [(g["code"], g["default_bid"], g["state"]["bid"]) for g in detail["ad_groups"]] == [("g-tee", 40, 40)]
    ads = {a["code"]: a for a in detail["ads"]}
    assert ads["a-tee-s"]["skus"] == ["TEE-S"] and ads["a-tee-m"]["bid"] == 55
    s, m = ads["a-tee-s"], ads["a-tee-m"]
    assert (s["sellable"], s["state"]["status"], s["state"]["held_by"], s["state"]["owed"]) == (
        0, "paused", ["pause when out"], True
    )  # fmt: skip
    assert (m["sellable"], m["state"]["status"], m["state"]["held_by"], m["state"]["owed"]) == (3, "enabled", [], False)
    listed = ok(client.get("/media/campaigns"))["items"]
    assert [c["stock"]["ads_paused_by_rules"] for c in listed] == [0, 1]
    # and the action log says why, in the account's currency
    actions = ok(client.get("/media/actions", params={"code": "a-tee-s"}))
    assert actions["total"] == 1
    action = actions["items"][0]
    assert (action["rule"], action["mode"], action["currency"], action["before"], action["after"]) == (
        "pause when out", "applied", "EUR", {"status": "enabled", "bid": 40, "budget": None},
        {"status": "paused", "bid": 40, "budget": None},
    )  # fmt: skip
    assert action["numbers"]["sellable"] == 0 and "sellable 0 <= 0" in action["reason"]
    assert ok(client.get("/media/actions", params={"rule": "other"}))["total"] == 0
    assert ok(client.get("/media/actions", params={"mode": "approval"}))["total"] == 0
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert ok(client.get("/media/actions", params={"since": later}))["total"] == 0
    assert ok(client.get("/media/actions", params={"account": ACCOUNT, "since": "2020-01-01T00:00:00Z"}))["total"] == 1
    # and the rule lists, then is deleted once
    assert [r["name"] for r in ok(client.get("/media/rules"))] == ["pause when out"]
    gone = client.delete("/media/rules/pause when out")
    assert (gone.status_code, gone.content) == (204, b"")
    assert (
        refused(client.delete("/media/rules/pause when out"), 404)["detail"] == "rule 'pause when out' does not exist"
    )
    assert ok(client.get("/media/rules")) == []


def test_performance_from_json_and_csv_totals_per_group_and_currency(
    keel: Keel, client: TestClient, world: World
) -> None:
    media_world(keel)
    rows = [
        {"date": "2026-03-02", "hour": 9, "ad": "a-tee-s", "impressions": 1000, "clicks": 20, "cost": "10.00",
         "orders_7d": 2, "units_7d": 2, "sales_7d": "40.00"},
        {"date": "2026-03-02", "ad": "a-tee-m", "sku": "TEE-M", "campaign": "c-tee", "impressions": 500,
         "clicks": 5, "cost": 5.5},
    ]  # fmt: skip
    assert ok(client.put("/media/performance", json={"rows": rows})) == {"rows": 2, "days": 1, "ads": 2}
    csv_file = "date,hour,ad,impressions,clicks,cost,sales_7d\n2026-03-03,,a-cap,300,3,3.00,0\n"
    imported = client.post("/media/performance/csv", content=csv_file, headers={"content-type": "text/csv"})
    assert ok(imported) == {"rows": 1, "days": 1, "ads": 1}
    # the same file again replaces its rows with themselves
    again = client.post("/media/performance/csv", content=csv_file, headers={"content-type": "text/csv"})
    assert ok(again) == {"rows": 1, "days": 1, "ads": 1}
    by_campaign = ok(client.get("/media/performance"))
    assert by_campaign == {
        "by": "campaign",
        "items": [
            {"key": "c-tee", "currency": "EUR", "impressions": 1500, "clicks": 25, "cost": 1550, "orders_7d": 2,
             "units_7d": 2, "sales_7d": 4000, "sales_14d": 0, "roas_7d": 2.5806, "acos_7d": 0.3875},
            {"key": "c-cap", "currency": "EUR", "impressions": 300, "clicks": 3, "cost": 300, "orders_7d": 0,
             "units_7d": 0, "sales_7d": 0, "sales_14d": 0, "roas_7d": 0.0, "acos_7d": None},
        ],
        "total": 2, "limit": 100, "offset": 0,
    }  # fmt: skip
    by_sku = ok(client.get("/media/performance", params={"by": "sku", "limit": 1, "offset": 1}))
    assert ([i["key"] for i in by_sku["items"]], by_sku["total"]) == (["TEE-M"], 3)
    day = ok(client.get("/media/performance", params={"by": "day", "since": "2026-03-03", "until": "2026-03-03"}))
    assert [(i["key"], i["cost"]) for i in day["items"]] == [("2026-03-03", 300)]
    one = ok(client.get("/media/performance", params={"by": "sku", "key": "TEE-S"}))
    assert [(i["key"], i["cost"], i["roas_7d"]) for i in one["items"]] == [("TEE-S", 1000, 4.0)]
    for by in ("channel", "region", "account"):
        found = ok(client.get("/media/performance", params={"by": by}))["items"]
        assert [(i["key"], i["cost"]) for i in found] == [({"channel": WEB_DE, "region": "DE"}.get(by, ACCOUNT), 1850)]


def test_a_budget_shift_waits_for_a_person_who_decides_it_once(
    keel: Keel, client: TestClient, world: World, sending: None
) -> None:
    # given guardrails asking for approval above 1.00 EUR and a budget shift from campaigns whose ads are paused
    media_world(keel)
    rails = ok(client.put("/media/guardrails", json={"approval_above": 100}))
    assert rails == GUARDRAILS | {"approval_above": 100}
    assert ok(client.get("/media/guardrails")) == rails
    ok(client.put("/media/rules/pause when out", json=PAUSE_RULE))
    ok(client.put("/media/rules/shift", json=SHIFT_RULE))
    # when both tees sell out and the rules run on their schedule
    sell_out(keel, "TEE-S", "TEE-M")
    keel.media.watcher.run_all()
    # then 900 (30 % of the cap's 3000 a day, its most) waits to move from the tees to the caps
    waiting = ok(client.get("/media/actions", params={"mode": "approval"}))["items"]
    assert [(a["code"], a["before"]["budget"], a["after"]["budget"], a["rule"]) for a in waiting] == [
        ("c-cap", 3000, 3900, "shift"),
        ("c-tee", 5000, 4100, "shift"),
    ]
    assert ad_state(keel, "a-tee-s").status.value == "paused"
    assert ok(client.get("/media/campaigns/c-tee"))["state"]["budget"] == 5000  # nothing applied yet
    donor, recipient = waiting[1]["id"], waiting[0]["id"]
    # when a person approves the donor's move / then it is applied and sent, naming who decided
    approved = ok(client.post(f"/media/actions/{donor}/approve"))
    assert (approved["mode"], approved["decided_by"], approved["version"]) == ("approved", "test-admin", 2)
    state = ok(client.get("/media/campaigns/c-tee"))["state"]
    assert (state["budget"], state["version"], state["sent_version"]) == (4100, 2, 2)
    # and a second decision on it is a conflict that changes nothing
    assert refused(client.post(f"/media/actions/{donor}/approve"), 409)["detail"] == (
        f"action {donor} is approved, not waiting for approval"
    )
    assert refused(client.post(f"/media/actions/{donor}/reject"), 409)["status"] == 409
    # when the recipient's move is rejected / then nothing changes there
    rejected = ok(client.post(f"/media/actions/{recipient}/reject"))
    assert (rejected["mode"], rejected["decided_by"], rejected["version"]) == ("rejected", "test-admin", None)
    assert ok(client.get("/media/campaigns/c-cap"))["state"]["budget"] == 3000
    assert refused(client.post(f"/media/actions/{recipient}/approve"), 409)["status"] == 409
    assert refused(client.post("/media/actions/999999/approve"), 404)["detail"] == "action 999999 does not exist"
    assert ok(client.get("/media/actions", params={"mode": "approval"}))["total"] == 0


def test_drift_is_listed_and_resolved_either_way(
    keel: Keel, client: TestClient, world: World, sim: AdPlatforms, sending: None
) -> None:
    # given a mirrored setup, and people changing a budget and a bid on the platform
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    remote = sim.state(Platform.GOOGLE, ACCOUNT)
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.CAMPAIGN, "c-tee", type(remote[(Level.CAMPAIGN, "c-tee")])(
        remote[(Level.CAMPAIGN, "c-tee")].status, None, 9000))  # fmt: skip
    ad = remote[(Level.AD, "a-tee-m")]
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.AD, "a-tee-m", type(ad)(ad.status, 70))
    assert keel.media.sender.check_drift(ACCOUNT) == 2
    drifted = ok(client.get("/media/states", params={"only": "drift", "account": ACCOUNT}))
    assert [(s["level"], s["code"], s["drift"]) for s in drifted["items"]] == [
        ("ad", "a-tee-m", {"status": "enabled", "bid": 70, "budget": None}),
        ("campaign", "c-tee", {"status": "enabled", "bid": None, "budget": 9000}),
    ]
    # when Keel's budget is kept / then it is sent back to the platform
    kept = ok(client.post("/media/states/campaign/c-tee/resolve", json={"keep": "keel"}))
    assert (kept["drift"], kept["budget"], kept["version"], kept["sent_version"]) == (None, 5000, 2, 2)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.CAMPAIGN, "c-tee")].budget == 5000
    # when the platform's bid is adopted / then it is Keel's, nothing sent
    adopted = ok(client.post("/media/states/ad/a-tee-m/resolve", json={"keep": "platform"}))
    assert (adopted["drift"], adopted["bid"], adopted["version"], adopted["sent_version"]) == (None, 70, 2, 2)
    # and a drift resolved is no longer there to resolve
    assert refused(client.post("/media/states/ad/a-tee-m/resolve", json={"keep": "keel"}), 409)["detail"] == (
        "ad 'a-tee-m' has no drift to resolve"
    )
    assert refused(client.post("/media/states/ad/nope/resolve", json={"keep": "keel"}), 404)["status"] == 404
    assert ok(client.get("/media/states", params={"only": "drift"}))["total"] == 0
    assert [a["mode"] for a in ok(client.get("/media/actions", params={"code": "c-tee"}))["items"]] == [
        "manual", "drift"
    ]  # fmt: skip


def test_a_dead_letter_is_retried_once_its_cause_is_fixed(
    keel: Keel, client: TestClient, world: World, sim: AdPlatforms, sending: None
) -> None:
    # given a platform that lacks ad a-tee-s, so pausing it is refused for good
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    held = sim.state(Platform.GOOGLE, ACCOUNT)
    with sim._lock:  # the platform loses the ad
        del sim._objects[(Platform.GOOGLE, ACCOUNT)][(Level.AD, "a-tee-s")]
    ok(client.put("/media/rules/pause when out", json=PAUSE_RULE))
    sell_out(keel, "TEE-S")
    keel.media.sender.send(ACCOUNT)
    dead = ok(client.get("/media/states", params={"only": "dead"}))["items"]
    assert [(s["code"], s["dead"], s["owed"], s["status"], s["attempts"]) for s in dead] == [
        ("a-tee-s", True, False, "paused", 1)
    ]
    assert "a-tee-s" in dead[0]["error"]
    assert ok(client.get("/media/campaigns/c-tee"))["campaign"]["stock"]["dead"] == 1
    # a state that is not dead is not retried
    assert refused(client.post("/media/states/campaign/c-tee/retry"), 409)["detail"] == (
        "campaign c-tee is not a dead letter"
    )
    assert refused(client.post("/media/states/ad/nope/retry"), 404)["detail"] == "ad 'nope' does not exist"
    # when the ad is back on the platform and the dead letter retried / then the pause arrives
    sim.seed(Platform.GOOGLE, ACCOUNT, Level.AD, "a-tee-s", held[(Level.AD, "a-tee-s")])
    retried = ok(client.post("/media/states/ad/a-tee-s/retry"))
    assert (retried["dead"], retried["error"], retried["version"], retried["sent_version"]) == (False, None, 3, 3)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")].status.value == "paused"
    assert refused(client.post("/media/states/ad/a-tee-s/retry"), 409)["status"] == 409


def test_savings_over_a_known_window(keel: Keel, client: TestClient, world: World) -> None:
    # given a day of hourly performance for a-tee-s (1.00 spent and 4.00 sold an hour until noon) and a rule
    # holding it paused, with stock, from 12:00 to 18:00
    media_world(keel)
    rows = [{"date": "2026-03-02", "hour": h, "ad": "a-tee-s", "impressions": 100, "clicks": 2, "cost": "1.00",
             "sales_7d": "4.00"} for h in range(12)]  # fmt: skip
    ok(client.put("/media/performance", json={"rows": rows}))
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    with keel.db.write() as conn:
        log.open_intervals(conn, [("a-tee-s", log.PAUSED, "pause when out")], noon)
        log.close_intervals(conn, [("a-tee-s", log.PAUSED)], noon + timedelta(hours=6))
    # when the day's savings are asked for
    found = ok(client.get("/media/savings", params={"since": "2026-03-02T00:00:00Z", "until": "2026-03-03T00:00:00Z"}))
    # then 6 paused hours at the 18 clean hours' averages (1200 / 18 spent, 4800 / 18 sold an hour)
    figures = {"currency": "EUR", "wasted_spend": 0, "avoided_spend": 400, "avoided_waste": 0, "missed_sales": 1600,
               "budget_moved": 0, "moved_sales": 0, "return_on_moved": None, "out_of_stock_hours": 0.0,
               "paused_hours": 6.0, "unpriced_hours": 0.0}  # fmt: skip
    assert (found["since"], found["until"]) == ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")
    assert found["total"] == [figures]
    assert found["by_rule"] == [{"name": "pause when out", **figures}]
    nothing = figures | {"avoided_spend": 0, "missed_sales": 0, "paused_hours": 0.0}
    assert found["by_campaign"] == [{"name": "c-cap", **nothing}, {"name": "c-tee", **figures}]
    assert [g["name"] for g in found["by_account"] + found["by_channel"] + found["by_region"]] == [
        ACCOUNT, WEB_DE, "DE"
    ]  # fmt: skip
    # the default window: the last 7 days up to the current hour
    default = ok(client.get("/media/savings"))
    until = datetime.fromisoformat(default["until"])
    assert (until.minute, until.second) == (0, 0) and timedelta(0) < until - datetime.now(UTC) <= timedelta(hours=1)
    assert until - datetime.fromisoformat(default["since"]) == timedelta(days=7, hours=1)
    assert refused(client.get("/media/savings", params={"since": "2026-03-02T00:30:00Z",
                                                        "until": "2026-03-02T00:30:00Z"}), 422)["errors"] == [
        {"row": None, "field": "until", "reason": "after since"}
    ]  # fmt: skip
    assert (
        refused(client.get("/media/savings", params={"since": "2026-03-02T00:00:00"}), 422)["errors"][0]["field"]
        == "since"
    )


def test_media_is_the_marketing_teams_and_never_under_a_restriction(
    keel: Keel, client: TestClient, world: World
) -> None:
    media_world(keel)

    def as_role(name: str, role: Role, channels: list[str] | None = None) -> TestClient:
        keel.access.add_service(name, role)
        if channels:
            keel.access.set_scope(name, channels, None, set(world.channels))
        other = TestClient(client.app)
        other.headers["Authorization"] = f"Bearer {keel.access.create_token(name, 't').secret}"
        return other

    marketing, analyst = as_role("mkt", Role.MARKETING), as_role("ana", Role.ANALYST)
    machine, restricted = as_role("shop", Role.INTEGRATION), as_role("mkt-de", Role.MARKETING, [WEB_DE])
    assert ok(marketing.put("/media/rules/pause when out", json=PAUSE_RULE))["version"] == 1
    assert len(ok(analyst.get("/media/rules"))) == 1
    assert refused(analyst.put("/media/guardrails", json={}), 403)["status"] == 403
    assert refused(machine.get("/media/campaigns"), 403)["status"] == 403
    for call in (restricted.get("/media/accounts"), restricted.put("/media/guardrails", json={})):
        assert "restricted to some channels or countries" in refused(call, 403)["detail"]
