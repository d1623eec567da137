"""HTTP API of the media rules and what they do: rules and guardrails as documents, the action log with the
approvals a person gives or refuses, the outbox's desired states with drift resolution and dead-letter
retries, and what the rules saved (mounted by ``keel.media.api``).

A rule is addressed by its name in the path (it may hold spaces: percent-encode them). Money is whole minor
units of the account's currency, named beside it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import AwareDatetime

from keel.access import IdentityDep
from keel.deps import KeelDep
from keel.media import Level
from keel.media.schemas import (
    ActionPage,
    ActionPublic,
    AdRulePublic,
    GuardrailsPublic,
    Resolve,
    SavingsPublic,
    StatePage,
    StatePublic,
)
from keel.media.service.savings import EARLIEST, window
from keel.platform.api import Limit, Offset
from keel.platform.clock import utcnow
from keel.platform.schemas import Document, RowId

router = APIRouter()  # mounted by keel.media.api, whose router names the tag
NamePath = Annotated[str, Path(min_length=1, max_length=100, description="the rule's name, e.g. pause when out")]
CodePath = Annotated[str, Path(max_length=64, description="the object's code")]
Filter = Annotated[str | None, Query(max_length=64)]
Moment = Annotated[AwareDatetime | None, Query(description="an ISO 8601 date-time with its offset")]

RULE_EXAMPLE = {
    "trigger": "stock",
    "when": [{"metric": "sellable", "op": "<=", "value": 0}],
    "then": {"action": "pause", "resume_when": [{"metric": "sellable", "op": ">=", "value": 5}]},
    "scope": {"countries": ["DE"]},
    "priority": 10,
}
GUARDRAILS_EXAMPLE = {"max_budget_change_pct": 30, "min_budget": 100, "approval_above": 5000, "max_bid_factor": 2}


def _currencies(keel: KeelDep) -> dict[str, str]:
    return {a.code: a.currency for a in keel.media.setup.accounts()}


# -- rules and guardrails -------------------------------------------------------------------------------------
@router.get("/media/rules", response_model=list[AdRulePublic], operation_id="list_ad_rules", summary="List ad rules")
def list_rules(keel: KeelDep) -> list[AdRulePublic]:
    """Every rule by name: its document as stored (defaults filled in), version and when it was saved.

    Refuses nothing but callers without access. Idempotent: a read.
    """
    return [AdRulePublic.of(r) for r in keel.media.rules()]


@router.put("/media/rules/{name}", response_model=AdRulePublic, operation_id="put_ad_rule", summary="Save an ad rule")
def put_rule(name: NamePath, keel: KeelDep, body: Annotated[Document, Body(examples=[RULE_EXAMPLE])]) -> AdRulePublic:
    """Creates or replaces the rule (``trigger`` stock or schedule, ``scope``, ``when`` conditions on
    sellable, cover_days, roas_7d, acos_7d or spend_7d, ``then`` pause, bid_ladder, shift_budget or boost,
    ``cooldown_minutes``, ``dry_run``, ``priority``); its next pass uses it. A new version each save.

    Refuses a bad document with every error and its path (422): an unknown field, metric, operator or action,
    a number out of range, a pause without a condition, a ``name`` other than the path's. Nothing is saved
    then. Idempotent in effect: the same document again stores the same rule (its version moves).
    """
    return AdRulePublic.of(keel.media.save_rule(name, body))


@router.delete(
    "/media/rules/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="delete_ad_rule",
    summary="Delete an ad rule",
)
def delete_rule(name: NamePath, keel: KeelDep) -> Response:
    """Deletes the rule; the ads it holds paused are let go on the next rules pass.

    Refuses an unknown rule (404). Not idempotent: a second call answers 404, leaving the same state.
    """
    keel.media.delete_rule(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/media/guardrails", response_model=GuardrailsPublic, operation_id="get_ad_guardrails", summary="Get guardrails"
)
def get_guardrails(keel: KeelDep) -> GuardrailsPublic:
    """The global guardrails (each account's own combine with these; the stricter holds). Money in minor units
    of each account's own currency.

    Refuses nothing but callers without access. Idempotent: a read.
    """
    return GuardrailsPublic.of(keel.media.guardrails())


@router.put(
    "/media/guardrails", response_model=GuardrailsPublic, operation_id="put_ad_guardrails", summary="Set guardrails"
)
def put_guardrails(keel: KeelDep, body: Annotated[Document, Body(examples=[GUARDRAILS_EXAMPLE])]) -> GuardrailsPublic:
    """Replaces the global guardrails: ``max_budget_change_pct`` (0-1000), ``min_budget`` and
    ``approval_above`` (minor units), ``max_bid_factor`` (1-10), ``excluded_campaigns``; a field left out
    takes its default.

    Refuses an unknown field and a value out of range (422); nothing is saved then. Idempotent.
    """
    return GuardrailsPublic.of(keel.media.save_guardrails(body))


# -- actions and approvals ------------------------------------------------------------------------------------
@router.get("/media/actions", response_model=ActionPage, operation_id="list_ad_actions", summary="List ad actions")
def list_actions(
    keel: KeelDep,
    code: Filter = None,
    rule: Annotated[str | None, Query(max_length=100)] = None,
    mode: Annotated[
        Literal["applied", "dry_run", "approval", "approved", "rejected", "drift", "manual"] | None,
        Query(description="approval: the changes waiting for a person"),
    ] = None,
    account: Filter = None,
    since: Moment = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ActionPage:
    """The action log, newest first: every decision of the rules (with its reason and numbers), each drift
    found and each resolution, filtered by object code, rule, mode, account and time, a page at a time.

    Refuses an unknown mode, a date-time without its offset and paging values out of range (422).
    Idempotent: a read.
    """
    rows, total = keel.media.actions(code=code, rule=rule, mode=mode, account=account, since=since,
                                     limit=limit, offset=offset)  # fmt: skip
    money = _currencies(keel)
    return ActionPage(
        items=[ActionPublic.of(a, money.get(a.account)) for a in rows], total=total, limit=limit, offset=offset
    )


def _decide(keel: KeelDep, action_id: int, approve: bool, by: str) -> ActionPublic:
    found = keel.media.decide(action_id, approve, by)
    return ActionPublic.of(found, _currencies(keel).get(found.account))


@router.post(
    "/media/actions/{action_id}/approve",
    response_model=ActionPublic,
    operation_id="approve_ad_action",
    summary="Approve a waiting change",
)
def approve_action(action_id: RowId, keel: KeelDep, identity: IdentityDep) -> ActionPublic:
    """Applies a rule's change that waits for approval (a budget move above ``approval_above``): it becomes
    the object's desired state and leaves for the platform; the action names the caller in ``decided_by``.

    Refuses an unknown action (404), one not waiting for approval (409: already decided, applied or a dry
    run) and one whose object changed since the rule asked (409: its next pass asks again). Not idempotent:
    a second approval answers 409.
    """
    return _decide(keel, action_id, True, identity.name)


@router.post(
    "/media/actions/{action_id}/reject",
    response_model=ActionPublic,
    operation_id="reject_ad_action",
    summary="Reject a waiting change",
)
def reject_action(action_id: RowId, keel: KeelDep, identity: IdentityDep) -> ActionPublic:
    """Refuses a rule's change that waits for approval; nothing is sent and ``decided_by`` names the caller.

    Refuses an unknown action (404) and one not waiting for approval (409). Not idempotent: a second
    rejection answers 409.
    """
    return _decide(keel, action_id, False, identity.name)


# -- the outbox -----------------------------------------------------------------------------------------------
@router.get("/media/states", response_model=StatePage, operation_id="list_ad_states", summary="List desired states")
def list_states(
    keel: KeelDep,
    account: Filter = None,
    only: Annotated[Literal["owed", "dead", "drift"] | None, Query(description="only these states")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> StatePage:
    """What Keel wants each campaign, ad group and ad to be on its platform (by level and code), how far the
    platform has it, the rules holding it paused, and its dead letters and drift, a page at a time.

    Refuses an unknown ``only`` and paging values out of range (422). Idempotent: a read.
    """
    rows, total = keel.media.states(account, only, limit, offset)
    money = _currencies(keel)
    return StatePage(
        items=[StatePublic.of(r, money.get(r.account)) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/media/states/{level}/{code}/resolve",
    response_model=StatePublic,
    operation_id="resolve_ad_drift",
    summary="Resolve a drift",
)
def resolve_drift(level: Level, code: CodePath, body: Resolve, keel: KeelDep) -> StatePublic:
    """Ends a drift (a person changed the object on the platform): ``keep`` ``keel`` sends Keel's state again,
    ``platform`` adopts the platform's as Keel's. Rules act on the object again.

    Refuses an unknown level or ``keep`` (422), an unknown object (404) and one without a drift (409).
    Not idempotent: a second call answers 409.
    """
    row = keel.media.resolve(level, code, body.keep)
    return StatePublic.of(row, _currencies(keel).get(row.account))


@router.post(
    "/media/states/{level}/{code}/retry",
    response_model=StatePublic,
    operation_id="retry_ad_dead_letter",
    summary="Retry a dead letter",
)
def retry_dead_letter(level: Level, code: CodePath, keel: KeelDep) -> StatePublic:
    """Sends a dead letter again (once its cause is fixed): its state is owed afresh, attempts from zero.

    Refuses an unknown level (422), an unknown object (404) and one that is not a dead letter (409).
    Not idempotent: once sent, a second call answers 409.
    """
    row = keel.media.retry(level, code)
    return StatePublic.of(row, _currencies(keel).get(row.account))


# -- savings --------------------------------------------------------------------------------------------------
@router.get("/media/savings", response_model=SavingsPublic, operation_id="get_ad_savings", summary="Ad savings")
def get_savings(keel: KeelDep, since: Moment = None, until: Moment = None) -> SavingsPublic:
    """What the rules saved and cost from ``since`` to ``until`` (whole hours, the one ``until`` falls in
    included; by default the last 7 days up to now), per currency and by rule, campaign, account, channel and
    region: spend wasted on ads showing without stock, spend avoided and sales missed by pauses (estimates),
    budget moved and the sales it brought. See docs/media.md for how each figure is computed.

    Refuses a date-time without its offset, an ``until`` not after ``since`` and a window over
    93 days (422). Idempotent: a read.
    """
    end = until or utcnow()
    start = since or max(end, EARLIEST + timedelta(days=7)) - timedelta(days=7)
    first, last, _ = window(start, end)
    found = keel.media.savings(start, end)
    return SavingsPublic.of(found, first, last)
