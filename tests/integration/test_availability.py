"""The availability projector: incremental ATP per (channel, country, SKU) and ``availability.changed``."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from keel.bootstrap import Keel
from keel.inventory import AtpExplanation, AtpStep, Contribution
from keel.platform.errors import NotFound
from tests.support import (
    MARKET,
    POS_FR,
    ST_DE,
    ST_FR,
    TPL_DE,
    WEB_DE,
    WH_DE,
    WH_FR,
    World,
    events_after,
    last_seq,
    mv,
    receive,
)

CHANGED = {"availability.changed"}


def listed(keel: Keel) -> dict[tuple[str, str, str], tuple[int, bool]]:
    """(channel, country, sku) -> (quantity, backorder) as last projected."""
    codes = {c.id: c.code for c in keel.channels.list()[0]}
    with keel.db.read() as conn:
        rows = conn.execute(sa.text("SELECT channel_id, country, sku, quantity, backorder FROM channel_availability"))
        return {(codes[ch], country, sku): (qty, bool(bo)) for ch, country, sku, qty, bo in rows}


def changes(keel: Keel, after: int) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(e.subject, e.data["changes"]) for e in events_after(keel, after, CHANGED)]


def change(sku: str, country: str, previous: int, quantity: int, backorder: bool = False) -> dict[str, Any]:
    return {"sku": sku, "country": country, "previous": previous, "quantity": quantity, "backorder": backorder}


def test_a_receipt_updates_exactly_the_channels_its_location_feeds(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    receive(keel, "SKU-1", WH_DE, 10)
    moved = last_seq(keel)
    result = keel.availability.catch_up()
    # web-de lists all 10; market-eu DE: 10 - 2 buffer = 8, 50 % = 4; market-eu FR and pos-fr are not fed
    assert listed(keel) == {(WEB_DE, "DE", "SKU-1"): (10, False), (MARKET, "DE", "SKU-1"): (4, False)}
    assert changes(keel, seq) == [(MARKET, [change("SKU-1", "DE", 0, 4)]), (WEB_DE, [change("SKU-1", "DE", 0, 10)])]
    assert [e.data["caused_by"] for e in events_after(keel, seq, CHANGED)] == [[moved], [moved]]
    assert (result.events, result.recomputed, result.changed, result.channels) == (1, 2, 2, {MARKET, WEB_DE})
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "availability") == moved
    assert keel.availability.step().events == 0


def test_only_the_moved_sku_is_recomputed(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-2", WH_DE, 10)
    keel.availability.catch_up()
    before = listed(keel)
    seq = last_seq(keel)
    keel.stock.apply_batch([mv("s", "sold", "SKU-2", WH_DE, 4)])
    assert keel.availability.catch_up().recomputed == 2
    after = listed(keel)
    assert {k: v for k, v in after.items() if k[2] == "SKU-1"} == {k: v for k, v in before.items() if k[2] == "SKU-1"}
    assert changes(keel, seq) == [(MARKET, [change("SKU-2", "DE", 4, 0)]), (WEB_DE, [change("SKU-2", "DE", 10, 6)])]


def test_a_location_feeding_no_channel_emits_nothing(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    keel.availability.catch_up()
    before, seq = listed(keel), last_seq(keel)
    receive(keel, "SKU-1", TPL_DE, 50)
    result = keel.availability.catch_up()
    assert (result.events, result.recomputed, result.changed) == (1, 0, 0)
    assert changes(keel, seq) == []
    assert listed(keel) == before


def test_a_first_projection_of_zero_is_not_a_change(keel: Keel, world: World) -> None:
    # given 1 unit at WH-FR-1, which market-eu's buffer of 2 hides in both countries
    seq = last_seq(keel)
    receive(keel, "SKU-1", WH_FR, 1)
    result = keel.availability.catch_up()
    # then 0 -> 0 is not announced as a change
    assert (result.recomputed, result.changed) == (2, 0)
    assert changes(keel, seq) == []
    assert listed(keel) == {}


def test_movements_that_do_not_change_available_are_not_recomputed(keel: Keel, world: World) -> None:
    seq = last_seq(keel)
    keel.stock.apply_batch([mv("e", "expected", "SKU-1", WH_DE, 10)])
    assert keel.availability.catch_up().recomputed == 0
    assert changes(keel, seq) == []


@pytest.mark.parametrize(
    ("stock", "move"),
    [(100, mv("s", "sold", "SKU-1", WH_FR, 1)), (4, mv("r", "received", "SKU-1", WH_FR, 1))],
    ids=["hidden-by-max-listed", "hidden-by-zero-below"],
)
def test_a_change_hidden_by_the_policy_emits_nothing(
    keel: Keel, world: World, stock: int, move: dict[str, Any]
) -> None:
    # given stock only at WH-FR-1, which feeds market-eu alone (capped at 20, zero below 3)
    receive(keel, "SKU-1", WH_FR, stock)
    keel.availability.catch_up()
    before, seq = listed(keel), last_seq(keel)
    # when the stock changes but the listed number cannot
    keel.stock.apply_batch([move])
    result = keel.availability.catch_up()
    # then the triples are recomputed but nothing changed and nothing is emitted
    assert (result.recomputed, result.changed) == (2, 0)
    assert changes(keel, seq) == []
    assert listed(keel) == before


def test_a_policy_update_recomputes_the_channel(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-1", ST_DE, 5)
    keel.availability.catch_up()
    seq = last_seq(keel)
    keel.channels.update(WEB_DE, {"policy": {"sources": {"DE": {"locations": [ST_DE]}}, "safety_buffer": 1}})
    keel.availability.catch_up()
    assert changes(keel, seq) == [(WEB_DE, [change("SKU-1", "DE", 15, 4)])]
    assert listed(keel)[(WEB_DE, "DE", "SKU-1")] == (4, False)


def test_deactivating_a_location_removes_its_contribution(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 10)
    receive(keel, "SKU-1", ST_DE, 5)
    keel.availability.catch_up()
    seq = last_seq(keel)
    keel.locations.deactivate(ST_DE)
    keel.availability.catch_up()
    assert changes(keel, seq) == [(WEB_DE, [change("SKU-1", "DE", 15, 10)])]
    assert [r.contributions for r in keel.availability.explain("SKU-1", WEB_DE)] == [
        (Contribution(location=WH_DE, available=10, counted=10),)
    ]


def test_deactivating_a_channel_zeroes_its_listings(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", ST_FR, 5)
    keel.availability.catch_up()
    assert listed(keel) == {(POS_FR, "FR", "SKU-1"): (5, True)}
    seq = last_seq(keel)
    keel.channels.deactivate(POS_FR)
    keel.availability.catch_up()
    assert changes(keel, seq) == [(POS_FR, [change("SKU-1", "FR", 5, 0)])]
    assert listed(keel) == {(POS_FR, "FR", "SKU-1"): (0, False)}


def test_projection_agrees_with_a_live_recompute_after_a_mix(keel: Keel, world: World) -> None:
    keel.stock.apply_batch(
        [mv("a", "received", "SKU-1", WH_DE, 30), mv("b", "received", "SKU-1", WH_FR, 9),
         mv("c", "received", "SKU-1", ST_FR, 2), mv("d", "received", "SKU-2", ST_DE, 7)]
    )  # fmt: skip
    keel.stock.reserve("SKU-1", WH_DE, 5, 60, "r1")
    keel.stock.record_count("SKU-1", ST_FR, 0)
    keel.stock.apply_batch([mv("e", "sold", "SKU-2", ST_DE, 7), mv("f", "qc_hold", "SKU-1", WH_FR, 3)])
    keel.availability.catch_up()
    for sku in ("SKU-1", "SKU-2"):
        for row in keel.availability.explain(sku):
            assert (row.projected or 0) == row.quantity, row  # None: never listed, i.e. 0
    # market-eu DE pools WH-DE-1 (30 - 5 held) and WH-FR-1 (9 - 3 in QC): 31 -> buffer 29 -> 50 % 14
    assert listed(keel)[(MARKET, "DE", "SKU-1")] == (14, False)


def test_explain_breaks_a_number_down(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 30)
    receive(keel, "SKU-1", WH_FR, 4)
    [row] = keel.availability.explain("SKU-1", MARKET, "de")
    assert row == AtpExplanation(
        channel=MARKET, country="DE", quantity=16, backorder=False, projected=None,
        contributions=(Contribution(WH_DE, available=30, counted=30), Contribution(WH_FR, available=4, counted=4)),
        steps=(AtpStep("pooled from source locations", removed=0, result=34),
               AtpStep("safety buffer 2", removed=2, result=32),
               AtpStep("allocation 50%", removed=16, result=16),
               AtpStep("maximum listed 20", removed=0, result=16)),
    )  # fmt: skip
    assert [(r.channel, r.country) for r in keel.availability.explain("SKU-1")] == [
        (WEB_DE, "DE"),
        (MARKET, "DE"),
        (MARKET, "FR"),
        (POS_FR, "FR"),
    ]
    with pytest.raises(NotFound):
        keel.availability.explain("SKU-1", "ghost")


def test_projected_reads_filter_by_channel_and_country(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_FR, 30)
    keel.availability.catch_up()
    rows = keel.availability.projected(["SKU-1", "SKU-9"], channel=MARKET)
    assert [(r.channel, r.country, r.quantity) for r in rows["SKU-1"]] == [
        (MARKET, "DE", 14),
        (MARKET, "FR", 14),
    ]
    assert rows["SKU-9"] == []
    assert [r.country for r in keel.availability.projected(["SKU-1"], country="fr")["SKU-1"]] == ["FR"]
    with pytest.raises(NotFound):
        keel.availability.projected(["SKU-1"], channel="ghost")
