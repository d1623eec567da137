"""Planning automation on both databases: the first run plans every SKU and later ones only what moved, a run
with nothing moved is recorded as skipped, the guardrails accept within limits through the ledger and hold the
rest with the reason, the day's value spans runs, the worker runs a due rule (once, even if two find it due),
and bad rules are refused with nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from keel.audit import AuditQuery
from keel.bootstrap import Keel
from keel.planning import Status, SuggestionFilter
from keel.platform.errors import PayloadTooLarge, ValidationFailed
from keel.platform.scope import OutOfScope, Scope
from keel.worker import run_once
from tests.support import ST_DE, WH_DE, World, mv, position, snapshot
from tests.support_planning import SKU, SLOW_STORE, seed_sales, seed_slow_store

TODAY = datetime.now(UTC).date()
TRANSFERS_ONLY = {"enabled": True, "rebalance": True, "accept_kinds": ["transfer"], "max_units": 100,
                  "max_value_per_day": 10_000}  # fmt: skip


def seed(keel: Keel, today: date = TODAY) -> None:
    """SKU-PL: Munich sells 4 a day with 2 left, its DC holds 30; SKU-R: Munich short, Augsburg slow."""
    seed_sales(keel, today)
    seed_slow_store(keel, "SKU-R", today)


def test_the_first_run_plans_every_sku_later_ones_only_what_moved(keel: Keel, world: World) -> None:
    seed(keel)
    keel.automation.set_rule("DE", {"enabled": True, "rebalance": True})
    first = keel.automation.run("DE")
    assert (first.skipped, first.moved_skus, [r.mode for r in first.runs]) == (
        False, None, ["replenish", "rebalance"])  # fmt: skip
    assert first.runs[0].series == 4 and first.runs[1].forecast_seconds == 0.0  # one forecast for both modes
    assert (first.accepted, first.held) == (0, first.runs[0].suggestions + first.runs[1].suggestions)
    # nothing moved: the next run is skipped, and says why
    again = keel.automation.run("DE")
    assert (again.skipped, again.runs) == (True, [])
    [skipped] = keel.automation.actions(action="skipped")[0]
    assert skipped.reason.startswith("no stock moved in DE since ")
    # one sale of SKU-PL: only SKU-PL is re-planned, SKU-R's proposals stay
    r_before = keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED, sku="SKU-R"))[0]
    keel.stock.apply_batch([mv("one-more", "sold", SKU, ST_DE, 1)])
    third = keel.automation.run("DE")
    assert third.moved_skus == 1 and third.runs[0].series == 2  # SKU-PL at the store and at the DC
    assert keel.planning.suggestions(SuggestionFilter(status=Status.PROPOSED, sku="SKU-R"))[0] == r_before
    planned = keel.automation.actions(action="planned")[0]
    assert "1 SKUs whose stock moved since" in planned[0].reason and "first automatic run" in planned[-1].reason


def test_the_guardrails_accept_through_the_ledger_and_hold_the_rest_with_the_reason(keel: Keel, world: World) -> None:
    seed(keel)
    keel.automation.set_rule("DE", TRANSFERS_ONLY)
    report = keel.automation.run("DE")
    # the DC transfer is accepted: written to the ledger as a person's acceptance would be, by "automation"
    [transfer] = keel.planning.suggestions(SuggestionFilter(kind="transfer"))[0]
    assert (transfer.status, transfer.decided_by, transfer.source) == (Status.ACCEPTED, "automation", WH_DE)
    assert position(keel, SKU, ST_DE)["incoming"] == transfer.quantity
    assert position(keel, SKU, WH_DE)["on_hand"] == 30 - transfer.quantity
    [accepted] = keel.automation.actions(action="accepted")[0]
    assert (accepted.suggestion_id, accepted.value) == (transfer.id, transfer.quantity * 20.0)  # default unit cost
    assert (report.accepted, report.accepted_value) == (1, transfer.quantity * 20.0)
    # purchases and the rebalancing transfer stay proposed, each held with the guardrail that held it
    held = keel.automation.actions(action="held", limit=10)[0]
    assert report.held == len(held) == 3
    for action in held:
        s = keel.planning.get(action.suggestion_id or 0)
        assert s.status is Status.PROPOSED
        assert action.reason == f"{s.kind} suggestions are not accepted automatically in DE"


def held_reason(keel: Keel, suggestion_id: int) -> str:
    [action] = [a for a in keel.automation.actions(action="held", limit=100)[0] if a.suggestion_id == suggestion_id]
    return action.reason


def test_limits_on_units_value_and_locations_hold_and_the_day_spans_runs(keel: Keel, world: World) -> None:
    seed(keel)
    keel.automation.set_rule("DE", {**TRANSFERS_ONLY, "accept_kinds": ["rebalance"],
                                    "excluded_locations": [SLOW_STORE]})  # fmt: skip
    keel.automation.run("DE")
    [move] = keel.planning.suggestions(SuggestionFilter(kind="rebalance"))[0]
    assert held_reason(keel, move.id) == f"location {SLOW_STORE} is excluded from automation"
    # units: the DC transfer is over a limit of 1 unit
    keel.automation.set_rule("DE", {**TRANSFERS_ONLY, "max_units": 1})
    keel.stock.apply_batch([mv("sale-2", "sold", SKU, ST_DE, 1)])
    keel.automation.run("DE")
    [transfer] = keel.planning.suggestions(SuggestionFilter(kind="transfer", status=Status.PROPOSED))[0]
    assert held_reason(keel, transfer.id) == f"{transfer.quantity} units are over the limit of 1 per suggestion"
    # value: a rebalancing transfer accepted in one run counts against the day's limit in the next
    keel.automation.set_rule("DE", {**TRANSFERS_ONLY, "accept_kinds": ["rebalance"]})
    keel.stock.apply_batch([mv("slow-more", "received", "SKU-R", SLOW_STORE, 1)])
    first = keel.automation.run("DE")
    assert first.accepted == 1
    limit = first.accepted_value + transfer.quantity * 20.0 - 1
    keel.automation.set_rule("DE", {**TRANSFERS_ONLY, "max_value_per_day": limit})
    keel.stock.apply_batch([mv("sale-3", "sold", SKU, ST_DE, 1)])
    assert keel.automation.run("DE").accepted == 0
    [later] = keel.planning.suggestions(SuggestionFilter(kind="transfer", status=Status.PROPOSED))[0]
    assert held_reason(keel, later.id) == (
        f"its value {later.quantity * 20.0:,.2f} would pass the daily limit of {limit:,.2f} "
        f"({first.accepted_value:,.2f} already accepted today)"
    )


def test_the_worker_runs_a_due_rule_once_and_records_it_as_the_schedule(keel: Keel, world: World) -> None:
    seed(keel)
    keel.automation.set_rule("DE", {"enabled": False, "every_minutes": 60})
    assert keel.automation.run_due() == 0 and keel.planning.runs() == []  # disabled: the schedule waits
    keel.automation.set_rule("DE", {"enabled": True, "every_minutes": 60, **TRANSFERS_ONLY})
    run_once(keel)
    runs = keel.planning.runs()
    assert [(r.mode, r.trigger) for r in runs] == [("rebalance", "schedule"), ("replenish", "schedule")]
    # not due again within the hour, due after it
    keel.automation.run_due()
    assert len(keel.planning.runs()) == 2
    keel.stock.apply_batch([mv("sale-5", "sold", SKU, ST_DE, 1)])
    keel.automation.run_due(datetime.now(UTC) + timedelta(minutes=61))
    assert len(keel.planning.runs()) == 4
    # the automatic acceptance is in the audit log, as the worker's
    entries = keel.audit.entries(AuditQuery(via="automation", limit=50)).items
    assert any(e.actor_name == "planning-automation" and e.method == "RUN" for e in entries)


def test_two_workers_finding_a_rule_due_run_it_once(keel: Keel, world: World) -> None:
    from keel.planning import store_automation

    keel.automation.set_rule("DE", {"enabled": True})
    now = datetime.now(UTC)
    with keel.db.write() as conn:
        assert store_automation.claim(conn, "DE", None, now)
    with keel.db.write() as conn:  # the second saw the same "never ran" state: it does not run
        assert not store_automation.claim(conn, "DE", None, now + timedelta(seconds=1))


def test_bad_rules_are_refused_with_every_field_and_nothing_written(keel: Keel, world: World) -> None:
    before = snapshot(keel)
    with pytest.raises(ValidationFailed) as caught:
        keel.automation.set_rule("DE", {"enabled": True, "replenish": False, "max_units": -1, "every_minutes": 2**63,
                                        "excluded_locations": ["WH-FR-1"], "gift": 1})  # fmt: skip
    assert sorted(e.field for e in caught.value.errors) == [
        "every_minutes", "excluded_locations", "gift", "max_units", "replenish"]  # fmt: skip
    with pytest.raises(ValidationFailed):
        keel.automation.set_rule("DEU", {})
    with pytest.raises(OutOfScope):
        keel.automation.set_rule("DE", {"enabled": True}, Scope(countries=frozenset({"FR"})))
    assert keel.automation.rules() == [] and snapshot(keel) == before
    # the same rule twice: the second changes nothing
    assert keel.automation.set_rule("DE", {"enabled": True})[1] is True
    assert keel.automation.set_rule("DE", {"enabled": True})[1] is False


def test_a_failed_run_is_recorded_and_the_other_countries_still_run(
    keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(keel)
    keel.automation.set_rule("DE", {"enabled": True})
    keel.automation.set_rule("FR", {"enabled": True})
    real = keel.planning.run_modes

    def refuse_de(modes: Any, *, country: str | None, **kw: Any) -> Any:
        if country == "DE":
            raise PayloadTooLarge("60001 SKU x location series in one run; the limit is 50000")
        return real(modes, country=country, **kw)

    monkeypatch.setattr(keel.planning, "run_modes", refuse_de)
    keel.automation.run_due()
    [failed] = keel.automation.actions(action="failed")[0]
    assert (failed.country, failed.reason) == (
        "DE",
        "the run failed: 60001 SKU x location series in one run; the limit is 50000",
    )
    assert [a.country for a in keel.automation.actions(action="planned")[0]] == ["FR"]
    # DE recorded no ledger position: its next run looks from the start again, so every SKU that moved
    monkeypatch.undo()
    report = keel.automation.run("DE")
    assert report.moved_skus == 2 and report.runs[0].series == 4


def test_a_suggestion_a_person_accepted_a_moment_before_is_not_counted_as_automatic(
    keel: Keel, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(keel)
    keel.automation.set_rule("DE", TRANSFERS_ONLY)
    real = keel.planning.accept

    def person_first(suggestion_id: int, actor: str | None = None, **kw: Any) -> Any:
        real(suggestion_id, "ops")  # the person's click lands between the guardrails and the acceptance
        return real(suggestion_id, actor, **kw)

    monkeypatch.setattr(keel.planning, "accept", person_first)
    report = keel.automation.run("DE")
    [transfer] = keel.planning.suggestions(SuggestionFilter(kind="transfer"))[0]
    assert (transfer.status, transfer.decided_by) == (Status.ACCEPTED, "ops")
    assert (report.accepted, report.accepted_value) == (0, 0.0)
    assert keel.automation.actions(action="accepted")[0] == []  # the day's value does not count it either
