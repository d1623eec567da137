"""Request and response models of the planning automation API."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from keel.planning.automation import AutomationReport
from keel.planning.model import Action, Automation
from keel.planning.schemas import RunPublic
from keel.platform.schemas import StrictModel

Kind = Literal["purchase", "transfer", "rebalance"]


class AutomationSet(StrictModel):
    """A country's automation rule; a field not given takes its default."""

    enabled: bool = Field(default=False, description="the worker re-plans on schedule only when enabled")
    every_minutes: int = Field(default=1440, ge=1, le=10_080, description="re-plan when the last run is this old")
    replenish: bool = Field(default=True, description="re-plan purchases and DC transfers")
    rebalance: bool = Field(default=False, description="re-plan transfers between the country's locations")
    top: int | None = Field(default=None, ge=1, le=100_000, description="only the N best-selling SKUs")
    accept_kinds: list[Kind] = Field(
        default_factory=list, max_length=3, description="suggestion kinds accepted automatically (none: only suggest)"
    )
    max_units: int = Field(default=0, ge=0, le=10_000_000, description="at most this many units in one")
    max_value_per_day: float = Field(
        default=0.0, ge=0, le=1e12, description="goods value (units x unit_cost) accepted per UTC day, local currency"
    )
    excluded_locations: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=1000, description="never accepted automatically into or out of these"
    )


class AutomationPublic(BaseModel):
    country: str
    enabled: bool
    every_minutes: int
    replenish: bool
    rebalance: bool
    top: int | None
    accept_kinds: list[str]
    max_units: int
    max_value_per_day: float
    excluded_locations: list[str]

    @classmethod
    def of(cls, rule: Automation) -> AutomationPublic:
        return cls(**asdict(rule))


class AutomationSaved(BaseModel):
    rule: AutomationPublic
    changed: bool = Field(description="false: the same rule again")


class AutomationRunPublic(BaseModel):
    country: str
    skipped: bool = Field(description="nothing moved since the last run: no new run was made")
    moved_skus: int | None = Field(description="SKUs whose stock moved since the last run (null: the first run)")
    runs: list[RunPublic]
    accepted: int
    held: int = Field(description="left proposed for a person: a guardrail held them")
    failed: int = Field(description="the ledger refused the acceptance (a DC no longer held the units)")
    accepted_value: float

    @classmethod
    def of(cls, r: AutomationReport) -> AutomationRunPublic:
        return cls(
            country=r.country, skipped=r.skipped, moved_skus=r.moved_skus, runs=[RunPublic.of(x) for x in r.runs],
            accepted=r.accepted, held=r.held, failed=r.failed, accepted_value=r.accepted_value,
        )  # fmt: skip


class ActionPublic(BaseModel):
    id: int
    at: datetime
    country: str
    action: str = Field(description="planned, skipped, accepted, held or failed")
    run_id: int | None
    suggestion_id: int | None
    value: float
    reason: str

    @classmethod
    def of(cls, a: Action) -> ActionPublic:
        return cls(**asdict(a))


class ActionsPage(BaseModel):
    items: list[ActionPublic]
    total: int
    limit: int
    offset: int
