"""Ad accounts, campaigns, ad groups and ads: what Keel knows of an advertiser's setup on each platform.

Three platform kinds share one shape (an account holds campaigns, a campaign ad groups, an ad group ads):
Amazon-Ads-style (sponsored products: an ad is a product ad for one SKU), Google-Ads-style (shopping: an ad
is a product group, a set of SKUs chosen by SKU list, category, brand or label) and Meta-style (catalogue
ads, the same). A campaign targets one region: a country, a region of a country, or a radius around a store.

Money is in the account's currency, in minor units (``keel.platform.money``): budgets are per day, bids per
click. Every object has a ``code``, which is also its id on the platform; codes are unique per level.

The **state** Keel sends to a platform is ``AdState`` (status, bid, budget); the operator's own status and
the pauses that rules hold are kept apart (``paused_by``), so a person's pause is never lifted by a rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Platform(StrEnum):
    AMAZON = "amazon"  # Amazon-Ads-style: batches of at most 1,000 items, 207 multi-status, 429 Retry-After
    GOOGLE = "google"  # Google-Ads-style: mutate requests of at most 10,000 operations, partial failure, quota
    META = "meta"  # Meta-style: batches of at most 50 requests


class Status(StrEnum):
    ENABLED = "enabled"
    PAUSED = "paused"


class Level(StrEnum):
    CAMPAIGN = "campaign"
    AD_GROUP = "ad_group"
    AD = "ad"


@dataclass(frozen=True)
class Region:
    """Where a campaign shows: a country (ISO 3166-1 alpha-2), optionally narrowed to one of its regions
    (as Keel's locations name them, e.g. ``Bavaria``) or to ``radius_km`` around a store (local inventory
    ads). A narrowed campaign sells from the stock of the locations in it, not from a channel's listing."""

    country: str
    region: str | None = None
    store: str | None = None
    radius_km: float | None = None

    @property
    def key(self) -> str:
        if self.store is not None:
            return f"{self.country}:store:{self.store}:{self.radius_km:g}km"
        return f"{self.country}:{self.region}" if self.region else self.country


@dataclass(frozen=True)
class Target:
    """What an ad advertises: explicit SKUs, or a product group by category, brand or label (resolved to SKUs
    through the catalog when the ad is saved)."""

    skus: tuple[str, ...] = ()
    category: str | None = None
    brand: str | None = None
    label: str | None = None

    @property
    def is_group(self) -> bool:
        return not self.skus


@dataclass(frozen=True)
class Guardrails:
    """Limits on what rules may do to an account's money (also set once for all accounts, as global limits;
    the stricter of the two holds)."""

    max_budget_change_pct: float = 30.0  # a campaign's budget moves at most this much per day, either way
    min_budget: int = 100  # minor units: no rule takes a campaign's daily budget below this
    approval_above: int | None = None  # a budget move bigger than this (minor units) waits for a person
    max_bid_factor: float = 2.0  # a rule's bid stays within [bid / factor, bid * factor] of the set bid
    excluded_campaigns: tuple[str, ...] = ()  # rules never act on these


@dataclass(frozen=True)
class Account:
    code: str
    platform: Platform
    channel: str  # the Keel channel whose availability the account's ads sell from
    currency: str
    name: str = ""
    url: str | None = None  # the platform's API (a connector's base URL); None: changes are only recorded
    guardrails: Guardrails = field(default_factory=Guardrails)


@dataclass(frozen=True)
class Campaign:
    code: str
    account: str
    name: str
    region: Region
    daily_budget: int  # minor units
    status: Status = Status.ENABLED


@dataclass(frozen=True)
class AdGroup:
    code: str
    campaign: str
    name: str
    default_bid: int  # minor units per click
    status: Status = Status.ENABLED


@dataclass(frozen=True)
class Ad:
    code: str
    ad_group: str
    target: Target
    bid: int | None = None  # None: the ad group's default bid
    status: Status = Status.ENABLED


@dataclass(frozen=True)
class AdState:
    """What one object should be (or is) on its platform: ``bid`` for ad groups and ads, ``budget`` for
    campaigns (None where the level has none)."""

    status: Status
    bid: int | None = None
    budget: int | None = None
