"""Media on both databases, past the first pause: performance rows imported and summed per currency,
savings from what the rules did, a campaign around a store following that store's stock, a deleted rule's
holds let go, dead letters and retries, and the outbox converging under injected faults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from keel.bootstrap import Keel
from keel.inventory import LocationChanges
from keel.media import Level, Platform, Status
from keel.media.store.tables import intervals_t
from keel.platform.clock import utcnow
from keel.platform.errors import Conflict, ValidationFailed
from keel.sim.adplatform import AdPlatforms
from tests.support import ST_DE, WH_DE, World, mv, receive, snapshot
from tests.support_media import ACCOUNT, PAUSE_RULE, PAUSED, ad_state, drain, media_world, sim_for


def perf(day: str, ad: str, cost: str, sales: str = "0", hour: int | None = None) -> dict[str, object]:
    row: dict[str, object] = {"date": day, "ad": ad, "impressions": 1000, "clicks": 40, "cost": cost}
    return row | {"sales_7d": sales} | ({} if hour is None else {"hour": hour})


def test_performance_rows_are_summed_with_roas_and_reimported_idempotently(keel: Keel, world: World) -> None:
    # given the setup and two days of rows (CSV texts, as an export gives them)
    media_world(keel)
    rows = [perf("2026-11-28", "a-tee-s", "12.40", "62.00"), perf("2026-11-29", "a-tee-s", "7.60", "0")]
    rows.append(perf("2026-11-29", "a-cap", "5.00", "20.00", hour=14))
    # when imported twice
    first = keel.media.performance.save(rows)
    keel.media.performance.save(rows)
    # then each row is stored once, and summed per campaign with ROAS (sales / cost) and ACoS
    assert (first.rows, first.days, first.ads) == (3, 2, 2)
    lines, total = keel.media.performance.totals("campaign")
    assert total == 2
    assert [(x.key, x.currency, x.cost, x.sales_7d, x.roas_7d, x.acos_7d) for x in lines] == [
        ("c-tee", "EUR", 2000, 6200, 3.1, 0.3226),
        ("c-cap", "EUR", 500, 2000, 4.0, 0.25),
    ]
    by_sku, _ = keel.media.performance.totals("sku", key="TEE-S")
    assert [(x.key, x.clicks, x.impressions) for x in by_sku] == [("TEE-S", 80, 2000)]


def test_bad_performance_rows_are_refused_by_row_and_change_nothing(keel: Keel, world: World) -> None:
    media_world(keel)
    before = snapshot(keel)
    rows = [
        perf("2026-11-28", "a-tee-s", "-1"),
        perf("28/11/2026", "a-tee-s", "1.00"),
        perf("2026-11-28", "no-such-ad", "1.00"),
        perf("2026-11-28", "a-tee-s", "1.00") | {"sku": "CAP-S"},
        perf("2026-11-28", "a-tee-s", "1.00") | {"clicks": 2000},
        perf("2026-11-28", "a-tee-s", "1.00") | {"colour": "red"},
    ]
    with pytest.raises(ValidationFailed) as refused:
        keel.media.performance.save(rows)
    assert [(e.row, e.field) for e in refused.value.errors] == [
        (1, "cost"), (2, "date"), (5, "clicks"), (6, "colour"), (3, "ad"), (4, "sku"),
    ]  # fmt: skip
    assert snapshot(keel) == before


def test_savings_count_spend_while_out_of_stock_and_what_pauses_avoided(keel: Keel, world: World) -> None:
    # given a stock-out that paused TEE-S's ad two hours ago, and its spend of 24.00 EUR over the day before
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    now = utcnow()
    paused_at = now - timedelta(hours=2)
    with keel.db.write() as conn:  # the stock-out and the pause happened two hours ago
        conn.execute(intervals_t.update().values(start=paused_at))
    day_before = datetime.combine((now - timedelta(days=1)).date(), datetime.min.time(), tzinfo=UTC)
    keel.media.performance.save([perf(day_before.date().isoformat(), "a-tee-s", "24.00", "48.00")])
    # when the savings from the day before until now are read
    found = keel.media.savings(day_before, now)
    # then nothing was wasted (paused at once), the pause held two hours out of stock, and each paused hour
    # avoided the ad's average spend over its clean hours (in stock and not paused): the whole hours from the
    # day before's start to the pause's, of which the day before's 24 spent 1.00 EUR each
    eur = found.total["EUR"]
    assert eur.wasted_spend == 0
    assert eur.paused_hours == pytest.approx(2.0, abs=0.01) and eur.out_of_stock_hours == eur.paused_hours
    clean = (paused_at.replace(minute=0, second=0, microsecond=0) - day_before) // timedelta(hours=1)
    assert eur.avoided_spend == pytest.approx(eur.paused_hours * 100 * min(clean, 24) / clean, abs=1)
    assert eur.avoided_waste == eur.avoided_spend  # every paused hour was out of stock
    assert list(found.by_rule) == [("pause when out", "EUR")]


def test_a_campaign_around_a_store_follows_that_stores_stock(keel: Keel, world: World) -> None:
    # given a local campaign within 5 km of the Munich store advertising CAP-M, which only that store holds
    media_world(keel)
    keel.locations.update(
        ST_DE,
        LocationChanges(latitude=48.137, longitude=11.575),
    )
    keel.media.setup.save({
        "campaigns": [{"code": "c-local", "account": ACCOUNT, "name": "Munich", "country": "DE", "store": ST_DE,
                       "radius_km": 5, "daily_budget": 1000}],
        "ad_groups": [{"code": "g-local", "campaign": "c-local", "name": "Local", "default_bid": 20}],
        "ads": [{"code": "a-local", "ad_group": "g-local", "skus": ["CAP-M"]}],
    })  # fmt: skip
    keel.media.save_rule("pause when out", PAUSE_RULE)
    receive(keel, "CAP-M", ST_DE, 2)
    receive(keel, "CAP-M", WH_DE, 50)
    drain(keel)
    assert keel.media.stock(["a-local"])["a-local"].sellable == 2
    # when the store sells its two (the warehouse still has 50)
    keel.stock.apply_batch([mv("pos-1", "sold", "CAP-M", ST_DE, 2)])
    drain(keel)
    # then the local ad pauses
    assert ad_state(keel, "a-local").status is PAUSED


def test_a_deleted_rules_holds_are_let_go_on_the_next_pass(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is PAUSED
    keel.media.delete_rule("pause when out")
    done = keel.media.watcher.run_all()
    assert done.applied == 1
    assert ad_state(keel, "a-tee-s").status is Status.ENABLED
    assert "no longer exists" in keel.media.actions(code="a-tee-s")[0][0].reason


@pytest.fixture
def faulty() -> Iterator[AdPlatforms]:
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0), fault_rate=0.3, seed=3, stall_s=0.3) as s:
        yield s


def test_the_outbox_converges_under_faults_and_dead_letters_wait(keel: Keel, world: World, faulty: AdPlatforms) -> None:
    # given every ad paused by a stock-out, on a platform failing 30 % of requests, and one ad it never had
    media_world(keel, url=faulty.url(Platform.GOOGLE))
    sim_for(keel, faulty)
    keel.media.sender.backoff_base_s = 0.01
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.stock.apply_batch([mv(f"sale-{s}", "sold", s, WH_DE, 3) for s in ("TEE-S", "TEE-M", "CAP-S")])
    faulty.state(Platform.GOOGLE, ACCOUNT)  # (seeded above)
    with faulty._lock:  # the platform lost the cap's ad: an update of it is refused for good
        del faulty._objects[(Platform.GOOGLE, ACCOUNT)][(Level.AD, "a-cap")]
    drain(keel)
    # when the sender runs until nothing is due
    deadline = time.monotonic() + 30
    while keel.media.outbox_totals()["owed"] and time.monotonic() < deadline:
        keel.media.sender.send(ACCOUNT)
        time.sleep(0.02)
    # then the platform holds every pause it has an object for, and the lost one is a dead letter
    held = faulty.state(Platform.GOOGLE, ACCOUNT)
    assert [held[(Level.AD, c)].status for c in ("a-tee-s", "a-tee-m")] == [PAUSED, PAUSED]
    dead, _ = keel.media.states(ACCOUNT, "dead", 100, 0)
    assert [r.code for r in dead] == ["a-cap"]
    assert faulty.violations == 0
    # when the operator retries a row that is not dead / then it is refused
    with pytest.raises(Conflict):
        keel.media.retry(Level.AD, "a-tee-s")


def test_a_sender_killed_after_the_platform_applied_resends_the_same_state(
    keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pause owed to the platform, and a sender that dies after the platform applied it
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0)) as sim:
        media_world(keel, url=sim.url(Platform.GOOGLE))
        sim_for(keel, sim)
        keel.media.save_rule("pause when out", PAUSE_RULE)
        keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
        drain(keel)
        from keel.media.store import outbox

        def killed(*_: object) -> None:
            raise SystemExit("killed")

        monkeypatch.setattr(outbox, "accepted", killed)
        with pytest.raises(SystemExit):
            keel.media.sender.send(ACCOUNT)
        # then the platform holds the pause but Keel still owes it (nothing acknowledged was lost)
        assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")].status is PAUSED
        assert [r.code for r in keel.media.states(ACCOUNT, "owed", 100, 0)[0]] == ["a-tee-s"]
        # when a new sender runs (the lease of the dead one has the same owner here)
        monkeypatch.undo()
        keel.media.sender.send(ACCOUNT)
        # then it sent the same state again, harmlessly, and nothing is owed
        sent = [a.state.status for a in sim.accepted_log if a.code == "a-tee-s"]
        assert sent == [PAUSED, PAUSED]
        assert keel.media.outbox_totals()["owed"] == 0
