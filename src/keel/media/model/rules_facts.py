"""The facts the rules engine reads and the decisions it returns (see ``rules`` for what it does with them)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from keel.media.model.ads import AdState, Level, Platform, Status
from keel.media.model.rules_doc import Metric
from keel.platform.money import plain

Numbers = Mapping[str, int | float | None]


class Act(StrEnum):
    PAUSE = "pause"  # the ad stops showing
    RESUME = "resume"  # the ad shows again
    HOLD = "hold"  # the rule now also holds an ad that was already paused
    RELEASE = "release"  # the rule lets go of an ad that stays paused (another hold, or a person's pause)
    BID = "bid"
    BUDGET = "budget"


@dataclass(frozen=True)
class AdFacts:
    """What the engine knows of one ad. ``cover_days`` None means no sales (unlimited cover); money is in
    the account's minor units; ``region`` is the campaign's ``Region.key``."""

    code: str
    ad_group: str
    campaign: str
    account: str
    platform: Platform
    country: str
    region: str
    set_bid: int  # the bid a person set (the ad's, or its ad group's default)
    state: AdState  # Keel's current desired state
    sellable: int
    cover_days: float | None = None
    skus: tuple[str, ...] = ()
    category: str | None = None
    brand: str | None = None
    operator_status: Status = Status.ENABLED
    held_by: frozenset[str] = frozenset()  # rules holding the ad paused
    last_acted: Mapping[str, datetime] = field(default_factory=dict)  # rule -> its last change here
    roas_7d: float | None = None
    acos_7d: float | None = None  # percent
    spend_7d: int | None = None
    currency: str = ""  # the account's: reasons show money in it ("" shows minor units)

    def metric(self, metric: Metric) -> float | None:
        """The metric's value; unlimited cover is infinity so that it compares above every bound."""
        match metric:
            case Metric.SELLABLE:
                return self.sellable
            case Metric.COVER_DAYS:
                return math.inf if self.cover_days is None else self.cover_days
            case Metric.ROAS_7D:
                return self.roas_7d
            case Metric.ACOS_7D:
                return self.acos_7d
            case Metric.SPEND_7D:
                return self.spend_7d


@dataclass(frozen=True)
class CampaignFacts:
    """What the engine knows of one campaign; ``moved_today`` is the net change rules made to its budget
    today (minor units, + received), ``stocked_*`` the categories and brands its ads have in stock."""

    code: str
    account: str
    platform: Platform
    country: str
    set_budget: int  # a person's
    state: AdState  # Keel's current desired status and budget
    moved_today: int = 0
    all_ads_paused: bool = False  # every ad of it is held paused by rules
    categories: frozenset[str] = frozenset()
    brands: frozenset[str] = frozenset()
    stocked_categories: frozenset[str] = frozenset()
    stocked_brands: frozenset[str] = frozenset()
    operator_status: Status = Status.ENABLED
    last_acted: Mapping[str, datetime] = field(default_factory=dict)
    currency: str = ""  # the account's: reasons show money in it ("" shows minor units)

    @property
    def budget(self) -> int:
        return self.set_budget if self.state.budget is None else self.state.budget


@dataclass(frozen=True)
class Decision:
    """One change a rule decided, with why. ``held_by`` is the ad's holds after a pause, resume, hold or
    release (the caller stores it); ``before``/``after`` follow one another when a pass changes an object
    twice, so applying the decisions in order is correct."""

    rule: str
    act: Act
    level: Level
    code: str
    account: str
    before: AdState
    after: AdState
    reason: str
    numbers: Numbers
    held_by: frozenset[str] | None = None
    dry_run: bool = False
    needs_approval: bool = False


def money(minor: int | None, currency: str) -> str:
    """An amount for a reason: ``12.40 EUR`` in the account's currency, or the minor units when it is not known."""
    if minor is None or not currency:
        return str(minor)
    return f"{plain(minor, currency)} {currency}"
