"""HTTP API of planning automation: a rule per country, a run on demand, and the log of what it did."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.planning.schemas_automation import (
    ActionPublic,
    ActionsPage,
    AutomationPublic,
    AutomationRunPublic,
    AutomationSaved,
    AutomationSet,
)
from keel.platform.api import Limit, Offset

router = APIRouter(tags=["planning"])
Country = Annotated[str, Path(pattern="^[A-Z]{2}$", description="a two-letter ISO country code")]


@router.get("/planning/automation", response_model=list[AutomationPublic], operation_id="list_planning_automation",
            summary="List planning automation rules")  # fmt: skip
def list_rules(keel: KeelDep, scope: ScopeDep) -> list[AutomationPublic]:
    """The stored rule of each country (of the caller's countries): schedule and acceptance guardrails.

    Refuses nothing a caller with `planning.read` can send. Idempotent: a read, it changes nothing.
    """
    return [AutomationPublic.of(r) for r in keel.automation.rules(scope)]


@router.get("/planning/automation/{country}", response_model=AutomationPublic,
            operation_id="get_planning_automation", summary="Get a country's automation rule")  # fmt: skip
def get_rule(country: Country, keel: KeelDep, scope: ScopeDep) -> AutomationPublic:
    """The country's rule; a country without one answers the disabled default.

    Refuses a code that is not two capital letters (422) and a country outside the caller's restrictions (403).
    Idempotent: a read, it changes nothing.
    """
    return AutomationPublic.of(keel.automation.rule(country, scope))


@router.put("/planning/automation/{country}", response_model=AutomationSaved,
            operation_id="set_planning_automation", summary="Set a country's automation rule")  # fmt: skip
def set_rule(country: Country, body: AutomationSet, keel: KeelDep, scope: ScopeDep) -> AutomationSaved:
    """Replaces the country's rule (a field not given takes its default). The worker then re-plans the country
    every `every_minutes` while `enabled`, only the SKUs whose stock moved since its last run, and accepts
    suggestions of `accept_kinds` of at most `max_units` units while the day's accepted goods value stays within
    `max_value_per_day`, never into or out of `excluded_locations`. Every step is recorded with its reason.

    Refuses an unknown field, a value out of range, an unknown location of the country, and an enabled rule
    that re-plans no mode (422), and a country outside the caller's restrictions (403); nothing is written
    then. Idempotent: the same rule again changes nothing.
    """
    rule, changed = keel.automation.set_rule(country, body.model_dump(exclude_unset=True), scope)
    return AutomationSaved(rule=AutomationPublic.of(rule), changed=changed)


@router.post("/planning/automation/{country}/runs", response_model=AutomationRunPublic, status_code=201,
             operation_id="run_planning_automation", summary="Run a country's automation now")  # fmt: skip
async def run_now(country: Country, keel: KeelDep, scope: ScopeDep) -> AutomationRunPublic:
    """Runs the country's rule at once, as the worker would (even when it is disabled): re-plans the SKUs whose
    stock moved since the last automatic run (all of them the first time), then accepts within the guardrails.
    Takes seconds to minutes: it forecasts.

    Refuses a rule that re-plans no mode (422) and a country outside the caller's restrictions (403).
    Not idempotent: a second call re-plans what moved in between, or records that nothing did.
    """
    report = await run_in_threadpool(lambda: keel.automation.run(country, scope=scope))
    return AutomationRunPublic.of(report)


@router.get("/planning/automation-actions", response_model=ActionsPage,
            operation_id="list_planning_automation_actions", summary="What the automation did, and why")  # fmt: skip
def list_actions(
    keel: KeelDep,
    scope: ScopeDep,
    country: Annotated[str | None, Query(pattern="^[A-Z]{2}$")] = None,
    action: Annotated[Literal["planned", "skipped", "accepted", "held", "failed"] | None, Query()] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ActionsPage:
    """Every recorded automatic step, newest first: runs made or skipped, suggestions accepted or held (with the
    guardrail that held them), acceptances the ledger refused. Only the caller's countries.

    Refuses a bad country code, an unknown action and a page out of range (422). Idempotent: a read.
    """
    items, total = keel.automation.actions(country=country, action=action, limit=limit, offset=offset, scope=scope)
    return ActionsPage(items=[ActionPublic.of(a) for a in items], total=total, limit=limit, offset=offset)
