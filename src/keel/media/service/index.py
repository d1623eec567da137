"""The watchers' view of the ad setup: every ad with what its stock is read from, kept in memory and rebuilt
when the setup's revision moves (``objects.revision``).

An ad of a country-wide campaign sells what its account's channel lists in that country (the channel's ATP:
``by_listing``); an ad of a campaign narrowed to a region or to a radius around a store sells what the
locations there hold (``local_by_sku``, ``AdInfo.places``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from keel.media.model import Account, Campaign, Platform, Status
from keel.media.service.ports import Directory, Place
from keel.media.store import objects
from keel.platform.db import Database


@dataclass(frozen=True)
class AdInfo:
    code: str
    ad_group: str
    campaign: str
    account: str
    platform: Platform
    channel: str
    country: str
    region: str  # the campaign's ``Region.key``
    skus: tuple[str, ...]
    set_bid: int
    operator_status: Status  # the ad's own, as a person set it (a paused campaign or group hides it on the platform)
    categories: frozenset[str]  # the product group's category, or the SKU's categories with their ancestors
    brand: str | None
    places: frozenset[str] | None  # locations whose stock counts (None: the channel's listing)


@dataclass
class Index:
    revision: int = -1
    ads: dict[str, AdInfo] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    by_listing: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)  # (channel, country, sku)
    local_by_sku: dict[str, list[str]] = field(default_factory=dict)

    def affected(self, listings: Iterable[tuple[str, str, str]]) -> set[str]:
        return {ad for key in listings for ad in self.by_listing.get(key, ())}

    def skus(self) -> list[str]:
        return sorted({s for ad in self.ads.values() for s in ad.skus})


def _km(a: Place, b: Place) -> float:
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return math.inf
    la1, lo1, la2, lo2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))  # type: ignore[arg-type]
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def build(db: Database, directory: Directory) -> Index:
    """Read the whole setup into an index (a few queries; the setup changes rarely)."""
    with db.read() as conn:
        revision = objects.revision(conn)
        accounts = {a.code: a for a in objects.accounts(conn)}
        campaigns = {c.code: c for c in objects.campaigns(conn)}
        groups = {g.code: g for g in objects.groups(conn)}
        ads = objects.ads(conn)
        skus = objects.ad_skus(conn)
    places: list[Place] = []
    if any(c.region.region or c.region.store for c in campaigns.values()):
        places = directory.places()
    by_code = {p.code: p for p in places}
    local: dict[str, frozenset[str]] = {}
    for c in campaigns.values():
        r = c.region
        if r.store is not None and r.store in by_code:
            home = by_code[r.store]
            local[c.code] = frozenset(
                p.code for p in places if p.country == r.country and _km(home, p) <= (r.radius_km or 0.0)
            )
        elif r.region is not None:
            local[c.code] = frozenset(p.code for p in places if p.country == r.country and p.region == r.region)
    single = sorted({s[0] for a, _ in ads if len(s := skus.get(a.code, [])) == 1})
    tags = directory.tags(single) if single else {}
    index = Index(revision, campaigns=campaigns, accounts=accounts)
    for ad, campaign_code in ads:
        campaign = campaigns[campaign_code]
        group = groups[ad.ad_group]
        account = accounts[campaign.account]
        listed = tuple(skus.get(ad.code, []))
        brand = ad.target.brand
        categories = frozenset({ad.target.category} if ad.target.category else ())
        if len(listed) == 1 and listed[0] in tags:
            brand, categories = tags[listed[0]]
        info = AdInfo(
            ad.code, ad.ad_group, campaign.code, account.code, account.platform, account.channel,
            campaign.region.country, campaign.region.key, listed,
            ad.bid if ad.bid is not None else group.default_bid,
            ad.status, categories, brand, local.get(campaign.code),
        )  # fmt: skip
        index.ads[ad.code] = info
        for sku in listed:
            if info.places is None:
                index.by_listing.setdefault((account.channel, campaign.region.country, sku), []).append(ad.code)
            else:
                index.local_by_sku.setdefault(sku, []).append(ad.code)
    return index
