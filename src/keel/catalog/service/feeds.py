"""Feed use cases: a channel's ready listings, a page at a time, with the quantity and availability the
channel lists (from the inventory context's availability service, passed in) and checked again against the
channel's profile once those are filled in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from keel.catalog import store
from keel.catalog.model.feeds import FeedItem, FeedStats, lasting_rules, with_availability
from keel.catalog.model.listings import ListingState, Target, validate
from keel.catalog.model.profiles import Profile
from keel.catalog.service.overview import OverviewUseCases
from keel.platform.errors import NotFound
from keel.platform.scope import Scope

FEED_PAGE = 500  # listings read, and SKUs asked for their availability, per round trip


class Listed(Protocol):
    """What a channel lists of one SKU in one country (``keel.inventory.ListedQuantity``)."""

    @property
    def quantity(self) -> int: ...

    @property
    def backorder(self) -> bool: ...


class Availability(Protocol):
    """The availability service's read of listed quantities (``keel.inventory.AvailabilityService``)."""

    def projected(
        self, skus: list[str], channel: str | None = None, country: str | None = None, scope: Scope = Scope.ALL
    ) -> Mapping[str, Sequence[Listed]]: ...


@dataclass
class Feed:
    """A feed about to stream: its channel's target, what is known before a listing is read (how many
    listings the channel has, how many the catalog holds blocked, and how many of those the feed will leave
    out whatever availability it fills in, by rule: a lower bound, since a backorder without a date is only
    found while streaming), and the counts of the run (``stats``, filled in as ``items`` is read)."""

    target: Target
    listings: int
    blocked: int
    left_out: int
    left_out_by_rule: Counter[str]
    stats: FeedStats
    items: Iterator[FeedItem]


class FeedUseCases(OverviewUseCases):
    """Channel feeds."""

    def feed(
        self,
        channel: str,
        availability: Availability,
        *,
        country: str | None = None,
        scope: Scope = Scope.ALL,
        page: int = FEED_PAGE,
    ) -> Feed:
        """The ready listings of ``channel``, by SKU, each with the quantity the channel lists (summed over its
        countries, or in ``country``) and the availability that follows (in stock, backorder when the channel
        takes backorders, else out of stock), validated again against the channel's profile with those
        filled in. A listing that fails (blocked by its family's requirements or its profile's rules) is left
        out and counted in ``stats``. Refused before anything streams: a channel outside ``scope`` (403),
        a channel without a target or unknown to the channel registry (404)."""
        scope.check_channel(channel)
        left_out, by_rule = 0, Counter[str]()
        with self.db.read() as conn:
            syndication = self._syndication(conn)
            target = next((t for t in syndication.targets if t.channel == channel), None)
            if target is None:
                raise NotFound(f"channel {channel!r} has no catalog target: nothing is listed there")
            profile = syndication.profiles[target.profile]
            total = store.channel_listing_count(conn, channel, target.group)
            blocked = store.state_counts(conn, {channel: target.group})[channel][ListingState.BLOCKED.value]
            # the stored reasons tell, before streaming, which blocked listings no availability can let out;
            # listings with equal reasons are counted in the database and their reasons read once
            for reasons, n in store.blocked_reason_sets(conn, channel, target.group):
                lasting = lasting_rules(reasons, profile)
                left_out += n if lasting else 0
                by_rule.update(dict.fromkeys(lasting, n))
        availability.projected([], channel, country, scope)  # an unknown channel is refused before streaming
        stats = FeedStats(channel)
        items = self._feed_items(target, profile, availability, country, scope, stats, page)
        return Feed(target, total, blocked, left_out, by_rule, stats, items)

    def feed_summary(
        self, channel: str, availability: Availability, *, country: str | None = None, scope: Scope = Scope.ALL
    ) -> Feed:
        """The feed of ``channel`` run to its end without writing it: ``stats`` then says how many listings it
        read (and how many the catalog holds ready), how many items it would send and how many it leaves out
        by rule. Refused like ``feed``."""
        run = self.feed(channel, availability, country=country, scope=scope)
        for _ in run.items:
            pass
        return run

    def _feed_items(
        self,
        target: Target,
        profile: Profile,
        availability: Availability,
        country: str | None,
        scope: Scope,
        stats: FeedStats,
        page: int,
    ) -> Iterator[FeedItem]:
        after = ""
        while True:
            with self.db.read() as conn:  # one short read per page: a long feed holds no transaction open
                rows = store.channel_rows(conn, target.channel, target.group, after=after, limit=page)
            if not rows:
                return
            listed = availability.projected([r.sku for r in rows], target.channel, country, scope)
            for row in rows:
                stats.listings += 1
                stats.ready += row.state == ListingState.READY.value
                quantities = listed.get(row.sku, ())
                payload = with_availability(
                    row.payload, sum(q.quantity for q in quantities), any(q.backorder for q in quantities)
                )
                # the family's requirements were checked on the product; the profile's rules again, on
                # what the feed sends (availability was the feed's to fill)
                failed = [r for r, _, _ in row.reasons if r.startswith("family:")]
                failed += [r.rule for r in validate(profile, payload)]
                if failed:
                    stats.left_out += 1
                    stats.reasons.update(failed)
                    continue
                stats.included += 1
                yield FeedItem(row.channel, row.sku, row.product, payload["quantity"], payload)
            after = rows[-1].sku
