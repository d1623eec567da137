"""Media on both databases: the setup saved as one validated batch, a stock-out pausing its ads within one
watcher step and the pause reaching the platform (simulator) through the outbox, hysteresis on restock,
the newest state only, drift reported and resolved, a crash mid-step losing nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.bootstrap import Keel
from keel.media import Level, Platform
from keel.platform.errors import ValidationFailed
from keel.sim.adplatform import AdPlatforms
from tests.support import WH_DE, World, mv, receive, snapshot
from tests.support_media import ACCOUNT, ENABLED, PAUSE_RULE, PAUSED, ad_state, drain, media_world, setup_batch, sim_for


@pytest.fixture
def sim() -> Iterator[AdPlatforms]:
    with AdPlatforms(rates=dict.fromkeys(Platform, 1000.0)) as s:
        yield s


def test_a_setup_batch_is_saved_once_and_mirrored_as_sent(keel: Keel, world: World) -> None:
    # given the catalog and the setup
    media_world(keel)
    # when the same batch is saved again
    again = keel.media.setup.save(setup_batch())
    # then nothing changed, and every object is mirrored as what its platform holds (version 1, sent)
    assert (again.campaigns, again.ads, again.changed) == (2, 3, 0)
    rows, total = keel.media.states(ACCOUNT, None, 100, 0)
    assert total == 7
    assert {(r.level, r.code): (r.version, r.sent_version) for r in rows}[(Level.AD, "a-tee-m")] == (1, 1)
    assert ad_state(keel, "a-tee-m").bid == 55 and ad_state(keel, "a-tee-s").bid == 40


def test_a_bad_batch_names_every_error_and_changes_nothing(keel: Keel, world: World) -> None:
    # given a stored setup
    media_world(keel)
    before = snapshot(keel)
    batch = setup_batch()
    batch["campaigns"][0] |= {"daily_budget": -5}
    batch["campaigns"][1] |= {"country": "FR"}
    batch["ads"][0] |= {"skus": ["NO-SUCH"]}
    batch["ads"][1] |= {"ad_group": "nope"}
    # when it is saved / then it is refused with each error by row and field, and nothing changed
    with pytest.raises(ValidationFailed) as refused:
        keel.media.setup.save(batch)
    assert [(e.row, e.field) for e in refused.value.errors] == [(1, "campaigns.daily_budget")]
    batch["campaigns"][0] |= {"daily_budget": 5000}
    with pytest.raises(ValidationFailed) as refused:
        keel.media.setup.save(batch)
    assert [(e.row, e.field, e.reason) for e in refused.value.errors] == [
        (2, "campaigns.country", "web-de does not sell in FR"),
        (1, "ads.skus", "unknown SKU 'NO-SUCH'"),
        (2, "ads.ad_group", "no ad group 'nope'"),
    ]
    assert snapshot(keel) == before


def test_a_stock_out_pauses_the_ad_and_the_platform_holds_it(keel: Keel, world: World, sim: AdPlatforms) -> None:
    # given the setup mirrored on a simulated platform and a pause rule
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    # when the last 3 units of TEE-S are sold
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    # then its ad is paused with the reason, held by the rule, and owed to the platform
    assert ad_state(keel, "a-tee-s").status is PAUSED
    assert ad_state(keel, "a-tee-m").status is ENABLED
    actions, _ = keel.media.actions(code="a-tee-s")
    assert [(a.rule, a.mode, a.after["status"]) for a in actions] == [("pause when out", "applied", "paused")]
    assert "sellable 0" in actions[0].reason
    # when the sender runs / then the platform holds the pause, confirmed by reading it back
    keel.media.sender.send(ACCOUNT)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.AD, "a-tee-s")].status is PAUSED
    rows, _ = keel.media.states(ACCOUNT, "owed", 100, 0)
    assert rows == []
    assert keel.media.stock(["a-tee-s"])["a-tee-s"].sellable == 0


def test_restock_resumes_only_past_the_hysteresis(keel: Keel, world: World) -> None:
    # given a paused ad (sold out)
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is PAUSED
    # when 2 units come back / then it stays paused (resume needs 5)
    receive(keel, "TEE-S", WH_DE, 2, "back-2")
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is PAUSED
    # when 4 more come back / then it shows again
    receive(keel, "TEE-S", WH_DE, 4, "back-4")
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is ENABLED
    modes = [(a.after["status"]) for a in reversed(keel.media.actions(code="a-tee-s")[0])]
    assert modes == ["paused", "enabled"]


def test_the_platform_gets_only_the_newest_state(keel: Keel, world: World, sim: AdPlatforms) -> None:
    # given a pause and a resume decided before the sender ran
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    receive(keel, "TEE-S", WH_DE, 9, "back-9")
    drain(keel)
    # when the sender runs
    keel.media.sender.send(ACCOUNT)
    # then the platform never saw the older (paused) state
    sent = [a for a in sim.accepted_log if a.code == "a-tee-s"]
    assert [a.state.status for a in sent] == [ENABLED]


def test_drift_is_reported_and_left_alone_until_resolved(keel: Keel, world: World, sim: AdPlatforms) -> None:
    # given a mirrored setup, and a person raising a campaign's budget on the platform
    media_world(keel, url=sim.url(Platform.GOOGLE))
    sim_for(keel, sim)
    remote = sim.state(Platform.GOOGLE, ACCOUNT)[(Level.CAMPAIGN, "c-tee")]
    sim.set_remote(Platform.GOOGLE, ACCOUNT, Level.CAMPAIGN, "c-tee", type(remote)(remote.status, None, 9000))
    # when the drift check runs
    found = keel.media.sender.check_drift(ACCOUNT)
    # then it is reported, not overwritten
    assert found == 1
    rows, _ = keel.media.states(ACCOUNT, "drift", 100, 0)
    assert [(r.code, r.drift) for r in rows] == [("c-tee", {"status": "enabled", "bid": None, "budget": 9000})]
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.CAMPAIGN, "c-tee")].budget == 9000
    assert [a.mode for a in keel.media.actions(code="c-tee")[0]] == ["drift"]
    # when an operator keeps Keel's state / then the platform gets it back
    keel.media.resolve(Level.CAMPAIGN, "c-tee", "keel")
    keel.media.sender.send(ACCOUNT)
    assert sim.state(Platform.GOOGLE, ACCOUNT)[(Level.CAMPAIGN, "c-tee")].budget == 5000
    assert keel.media.states(ACCOUNT, "drift", 100, 0)[1] == 0


def test_a_crash_mid_step_loses_nothing(keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a stock-out waiting for the watcher, which crashes while writing its decisions
    media_world(keel)
    keel.media.save_rule("pause when out", PAUSE_RULE)
    drain(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    keel.availability.catch_up()
    from keel.media.store import log

    def crash(*_: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(log, "open_intervals", crash)
    with pytest.raises(RuntimeError):
        keel.media.watcher.step()
    # then nothing of the step was kept
    assert ad_state(keel, "a-tee-s").status is ENABLED
    assert keel.media.actions(code="a-tee-s")[1] == 0
    # when it runs again / then the pause is decided once
    monkeypatch.undo()
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is PAUSED
    assert keel.media.actions(code="a-tee-s")[1] == 1


def test_a_new_rule_acts_at_the_next_step_without_a_stock_change(keel: Keel, world: World) -> None:
    # given a setup whose TEE-S is already sold out, and no rule yet
    media_world(keel)
    keel.stock.apply_batch([mv("sale-1", "sold", "TEE-S", WH_DE, 3)])
    drain(keel)
    assert ad_state(keel, "a-tee-s").status is ENABLED
    # when the pause rule is saved and the watcher steps with no new stock event
    keel.media.save_rule("pause when out", PAUSE_RULE)
    keel.media.watcher.step()
    # then the sold-out ad is paused
    assert ad_state(keel, "a-tee-s").status is PAUSED
