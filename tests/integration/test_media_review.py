"""Media on both databases, cases a review found: setup changes (an ad group moved, a campaign kept on its
account, an account saved again without its token, the same batch again), a person's pause and a rule's hold
together, drift kept as the platform's state, another process's URL and lease, odd dates, one approval asked
once and counted once approved, rules renamed, never two open paused intervals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.media import Level, Platform
from keel.media.store.tables import intervals_t
from keel.platform.errors import ValidationFailed
from keel.sim.adplatform import AdPlatforms
from tests.support import WH_DE, World, mv, receive
from tests.support_media import ACCOUNT, ENABLED, PAUSE_RULE, PAUSED, ad_state, drain, media_world, setup_batch, sim_for


def _open(keel: Keel, ad: str, kind: str) -> int:
    with keel.media.db.read() as conn:
        t = intervals_t
        return conn.execute(
            sa.select(sa.func.count()).select_from(t).where(t.c.ad == ad, t.c.kind == kind, t.c.end.is_(None))
        ).scalar_one()


def test_ad_group_moved_to_another_campaign_moves_its_ads(keel: Keel, world: World) -> None:
    media_world(keel)
    batch = setup_batch()
    keel.media.setup.save({"ad_groups": [batch["ad_groups"][0] | {"campaign": "c-cap"}]})
    detail = keel.media.setup.campaign("c-cap")
    assert {a.code for a, _ in detail[2]} >= {"a-tee-s", "a-tee-m"}


def test_campaign_paused_by_person_then_reenabled_leaves_no_ad_stuck(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is PAUSED
    b = setup_batch()
    keel.media.setup.save({"campaigns": [b["campaigns"][0] | {"status": "paused"}]})
    drain(keel)
    receive(keel, "TEE-S", WH_DE, 9, "back-9")
    drain(keel)
    keel.media.setup.save({"campaigns": [b["campaigns"][0] | {"status": "enabled"}]})
    drain(keel)
    keel.media.watcher.run_all()
    print(keel.media.states_of(Level.AD, ["a-tee-s"]))
    assert ad_state(keel, "a-tee-s").status is ENABLED
    assert _open(keel, "a-tee-s", "paused") == 0


def test_person_pauses_held_ad_then_release_closes_interval(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    b = setup_batch()
    keel.media.setup.save({"ads": [b["ads"][0] | {"status": "paused"}]})
    drain(keel)
    receive(keel, "TEE-S", WH_DE, 9, "back-9")
    drain(keel)
    # the rule let go: its pause interval should have ended
    assert _open(keel, "a-tee-s", "paused") == 0


def test_resaving_the_same_batch_keeps_rule_bid(keel: Keel, world: World) -> None:
    media_world(keel, stock=50)
    keel.media.save_rule(
        "ladder",
        {
            "when": [],
            "then": {"action": "bid_ladder", "steps": [{"cover_below": 1000, "factor": 0.5}], "above_factor": 0.5},
            "trigger": "schedule",
        },
    )
    keel.media.watcher.run_all()
    before = ad_state(keel, "a-tee-m").bid
    saved = keel.media.setup.save(setup_batch())
    assert saved.changed == 0, (before, ad_state(keel, "a-tee-m").bid)


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0)) as s:
        yield s


def test_platform_state_kept_is_a_persons_choice(keel: Keel, world: World, sim: AdPlatforms) -> None:
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    remote = sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")]
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.AD, "a-tee-s", type(remote)(PAUSED, remote.bid, None))
    assert keel.media.sender.check_drift(ACCOUNT) == 1
    keel.media.resolve(Level.AD, "a-tee-s", "platform")
    assert ad_state(keel, "a-tee-s").status is PAUSED
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    receive(keel, "TEE-S", WH_DE, 9, "back-9")
    drain(keel)
    # the person paused it on the platform and the operator kept that: no rule should resume it
    assert ad_state(keel, "a-tee-s").status is PAUSED


def test_platform_kept_while_held_clears_hold_and_interval(keel: Keel, world: World, sim: AdPlatforms) -> None:
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    keel.media.sender.send(ACCOUNT)
    remote = sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")]
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.AD, "a-tee-s", type(remote)(ENABLED, remote.bid, None))
    assert keel.media.sender.check_drift(ACCOUNT) == 1
    row = keel.media.resolve(Level.AD, "a-tee-s", "platform")
    print(row)
    assert row.state.status is ENABLED
    assert (row.held_by, _open(keel, "a-tee-s", "paused")) == ((), 0)


def test_account_url_added_by_another_process_is_used(keel_factory, world: World, sim: AdPlatforms) -> None:
    worker = keel_factory()
    api = keel_factory()
    from tests.support import build_world  # noqa

    media_world(api)  # no url yet
    worker.media.watcher.wake = lambda: None
    worker.media.sender.check_drift(ACCOUNT)  # caches (account, None) in the worker
    api.media.setup.save({"accounts": [setup_batch(sim.url(Platform.GOOGLE))["accounts"][0]]})
    sim_for(api, sim)
    worker.media.save_rule("pause when out", PAUSE_RULE)
    worker.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(worker)
    assert ad_state(worker, "a-tee-s").status is PAUSED
    worker.media.sender.send(ACCOUNT)
    print("OWED", worker.media.states(ACCOUNT, "owed", 100, 0)[1], sim.accepted_log)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")].status is PAUSED


def test_sender_stops_once_another_owner_took_the_lease(keel: Keel, world: World) -> None:
    from datetime import timedelta

    from keel.media.model.port import ConnectorStats, ItemResult, Limits, Remote, Sent
    from keel.media.service.sender import Sender
    from keel.media.store import outbox
    from keel.platform.clock import utcnow

    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3), mv("sale-2", "sold", "TEE-M", WH_DE, 3)])
    drain(keel)
    held: dict = {}
    calls = []

    class Fake:
        limits = Limits(batch_size=1)
        stats = ConnectorStats()

        def send(self, account, changes):
            calls.append([c.code for c in changes])
            # meanwhile the lease expired and another process took it
            with keel.db.write() as conn:
                now = utcnow()
                outbox.lease(conn, account, "other:1", now + timedelta(days=1), now + timedelta(days=1))
            for c in changes:
                held[(c.level, c.code)] = c.state
            return Sent(tuple(ItemResult(c.level, c.code, True) for c in changes))

        def read(self, account, level, codes):
            return [Remote(level, c, held[(level, c)]) for c in codes if (level, c) in held]

    s = Sender(keel.db, lambda a, t: Fake(), "me:1")
    s.send(ACCOUNT)
    assert len(calls) == 1, calls


@pytest.mark.parametrize(
    "url",
    [
        "/media/savings?until=0001-01-01T00:00:00%2B00:00",
        "/media/savings?since=0001-01-01T00:30:00%2B14:00",
        "/media/savings?since=9999-12-31T22:00:00%2B00:00&until=9999-12-31T23:30:00%2B00:00",
        "/ui/media/savings?start=9999-12-31&end=9999-12-31",
        "/ui/media/savings?end=0001-01-01",
        "/media/performance?since=0001-01-01&until=9999-12-31",
        "/media/actions?since=0001-01-01T00:00:00-14:00",
    ],
)
def test_odd_dates_are_4xx(keel: Keel, world: World, client, url: str) -> None:
    media_world(keel)
    r = client.get(url)
    assert r.status_code < 500, (url, r.status_code, r.text[:300])


def test_resaving_an_account_without_its_token_keeps_the_token(keel: Keel, world: World, sim: AdPlatforms) -> None:
    from keel.media.store import objects

    media_world(keel, url=sim.url(Platform.GOOGLE))
    acc = setup_batch(sim.url(Platform.GOOGLE))["accounts"][0]
    acc.pop("token")
    keel.media.setup.save({"accounts": [acc | {"guardrails": {"min_budget": 100}}]})
    with keel.db.read() as conn:
        assert objects.token(conn, ACCOUNT) == "tok-g-de"


def test_a_campaign_never_moves_to_another_account(keel: Keel, world: World) -> None:
    # its objects live on one account of one platform: moving them is making new ones there
    media_world(keel)
    b = setup_batch()
    other = b["accounts"][0] | {"code": "g-de2"}
    with pytest.raises(ValidationFailed) as refused:
        keel.media.setup.save({"accounts": [other], "campaigns": [b["campaigns"][0] | {"account": "g-de2"}]})
    assert [(e.row, e.field, e.reason) for e in refused.value.errors] == [
        (1, "campaigns.account", "campaign c-tee is in g-de")
    ]


SHIFT_RULE = {"trigger": "schedule", "then": {"action": "shift_budget", "to": "same_category", "share_pct": 50}}


def test_a_waiting_approval_is_asked_once(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_guardrails({"approval_above": 100})
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.media.save_rule("shift", SHIFT_RULE)
    keel.stock.apply_batch([mv(f"sale-{s}", "sold", s, WH_DE, 3) for s in ("TEE-S", "TEE-M")])
    drain(keel)
    keel.media.watcher.run_all()
    first = keel.media.actions(mode="approval")[1]
    keel.media.watcher.run_all()
    keel.media.watcher.run_all()
    assert keel.media.actions(mode="approval")[1] == first


def test_approved_budget_moves_count_in_savings(keel: Keel, world: World) -> None:
    from datetime import timedelta

    from keel.platform.clock import utcnow

    media_world(keel)
    keel.media.save_guardrails({"approval_above": 100})
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.media.save_rule("shift", SHIFT_RULE)
    keel.stock.apply_batch([mv(f"sale-{s}", "sold", s, WH_DE, 3) for s in ("TEE-S", "TEE-M")])
    drain(keel)
    keel.media.watcher.run_all()
    for a in keel.media.actions(mode="approval")[0]:
        keel.media.decide(a.id, True, "x")
    from keel.media.store.tables import actions_t

    with keel.db.write() as conn:  # the moves were decided two hours ago: they have held since
        conn.execute(actions_t.update().values(at=utcnow() - timedelta(hours=2)))
    now = utcnow()
    s = keel.media.savings(now - timedelta(hours=3), now)
    assert s.total["EUR"].budget_moved > 0, s.total


def test_a_renamed_rule_is_seen_by_the_watcher(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    # rename: save under the new name, delete the old one
    keel.media.save_rule("pause at zero", PAUSE_RULE | {"name": "pause at zero"})
    keel.media.delete_rule("pause when out")
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    with keel.db.read() as conn:
        names = [r.name for r in keel.media.watcher.rules(conn)]
    assert names == ["pause at zero"]
    acts = keel.media.actions(code="a-tee-s")[0]
    assert [a.rule for a in acts] == ["pause at zero"]


def test_never_two_open_paused_intervals(keel: Keel, world: World) -> None:
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    b = setup_batch()
    keel.media.setup.save({"ads": [b["ads"][0] | {"status": "paused"}]})
    drain(keel)
    receive(keel, "TEE-S", WH_DE, 9, "back-9")
    drain(keel)
    keel.media.setup.save({"ads": [b["ads"][0] | {"status": "enabled"}]})
    drain(keel)
    keel.stock.apply_batch([mv("sale-2", "sold", "TEE-S", WH_DE, 9)])
    drain(keel)
    assert _open(keel, "a-tee-s", "paused") == 1
