"""Syndication use cases: channel targets, each variant's listing per channel (ready or blocked with reasons),
rebuilt in the transaction of the write that changes the product, and the channels' readiness."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from keel.catalog import store
from keel.catalog.model import (
    Family,
    Product,
    parse_product,
)
from keel.catalog.model.listings import (
    ChannelReadiness,
    ListingState,
    ListingView,
    Target,
    listing_states,
    parse_target,
    target_document,
)
from keel.catalog.service.common import (
    LISTING_CHANGED,
    TARGET_CHANGED,
    WRITE_CHUNK,
    CatalogBase,
    Syndication,
    listing_view,
    problem_count,
    shipped_profiles,
    stored_profile,
)
from keel.platform.clock import utcnow
from keel.platform.errors import FieldError, ValidationFailed
from keel.platform.events import NewEvent
from keel.platform.scope import Scope


class ListingUseCases(CatalogBase):
    """Channel targets and listing states."""

    def _syndication(self, conn: Any) -> Syndication:
        profiles = dict(shipped_profiles()) | {c: stored_profile(d) for c, d in store.profile_documents(conn).items()}
        targets = []
        for channel, doc in store.target_documents(conn).items():
            target, problems = parse_target(channel, doc, profiles)
            if target is None:  # stored targets were checked on the way in (and profiles keep their codes)
                raise ValueError(f"stored target {channel} does not parse: {problems}")
            targets.append(target)
        return Syndication(targets, profiles)

    def _relist(
        self,
        conn: Any,
        products: list[Product],
        revisions: dict[str, int],
        families: dict[str, Family],
        syndication: Syndication,
        now: datetime,
        source: str,
        channel: str | None = None,
    ) -> list[NewEvent]:
        """Rebuild the listings of ``products`` on every target (or one channel's), store those that changed,
        and return one ``listing.changed`` event per product whose listings changed."""
        if not syndication.targets or not products:
            return []
        stored = store.listings_of(conn, [p.code for p in products], channel)
        rows: list[store.StoredListing] = []
        gone: list[tuple[str, str]] = []
        events: list[NewEvent] = []
        for product in products:
            views = listing_states(product, families[product.family], syndication.targets, syndication.profiles)
            fresh = {(v.channel, v.sku): v for v in views}
            changed = []
            for key, v in fresh.items():
                reasons = [[r.rule, r.field, r.message] for r in v.reasons]
                have = stored.get(key)
                if have is not None and (have.state, have.reasons, have.payload) == (v.state.value, reasons, v.payload):
                    continue
                revision = revisions[product.code]
                rows.append(store.StoredListing(*key, product.code, v.state.value, reasons, v.payload, revision, now))
                changed.append({"channel": v.channel, "sku": v.sku, "state": v.state.value})
            for key, have in stored.items():
                if have.product == product.code and key not in fresh:
                    gone.append(key)
                    changed.append({"channel": key[0], "sku": key[1], "state": "removed"})
            if changed:
                data = {"product": product.code, "revision": revisions[product.code], "listings": changed}
                events.append(NewEvent(LISTING_CHANGED, f"catalog/listings/{product.code}", data, source=source))
        store.save_listings(conn, rows, gone)
        return events

    def put_target(self, channel: str, doc: Any, source: str = "api", scope: Scope = Scope.ALL) -> Target:
        """Set how a channel lists products: its compliance profile, locale and mapping (field <- attribute,
        with unit conversion and truncation where the profile allows it); every product's listing on the
        channel is rebuilt in the same transaction. Refused (422) for an unknown profile, a bad mapping or a
        truncation the profile does not allow, a channel the registry does not have, and (403) for a channel
        outside ``scope``. Idempotent: the same document again changes nothing."""
        scope.check_channel(channel)
        self._check_channel_exists(channel)
        with self.db.write() as conn:
            syndication = self._syndication(conn)
            target, problems = parse_target(channel, doc, syndication.profiles)
            if target is None:
                errors = [FieldError(None, f, r) for f, r in problems]
                raise ValidationFailed(problem_count("the target", errors), errors)
            now = utcnow()
            if not store.save_target(conn, channel, target_document(target), now):
                return target
            families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
            one = Syndication([target], syndication.profiles)
            events = [NewEvent(TARGET_CHANGED, f"catalog/targets/{channel}", {"channel": channel}, source=source)]
            batch: list[store.StoredProduct] = []
            for stored in store.iter_products(conn):
                batch.append(stored)
                if len(batch) == WRITE_CHUNK:
                    events += self._relist_stored(conn, batch, families, one, now, source, channel)
                    batch = []
            events += self._relist_stored(conn, batch, families, one, now, source, channel)
            self.events.append(conn, events)
        return target

    def _relist_stored(
        self,
        conn: Any,
        batch: list[store.StoredProduct],
        families: dict[str, Family],
        syndication: Syndication,
        now: datetime,
        source: str,
        channel: str,
    ) -> list[NewEvent]:
        products = []
        for stored in batch:
            product, problems = parse_product(stored.document, families)
            if product is None:
                raise ValueError(f"stored product {stored.code} does not parse: {problems}")
            products.append(product)
        revisions = {s.code: s.revision for s in batch}
        return self._relist(conn, products, revisions, families, syndication, now, source, channel)

    def targets(self, scope: Scope = Scope.ALL) -> list[Target]:
        """Every channel's target (of the channels ``scope`` sees), by channel."""
        with self.db.read() as conn:
            return [t for t in self._syndication(conn).targets if scope.sees_channel(t.channel)]

    def listings(
        self,
        channel: str | None = None,
        state: ListingState | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[list[ListingView], int]:
        """A page of listings (by channel, then SKU), filtered by channel and state, of the channels ``scope``
        sees, and how many match."""
        with self.db.read() as conn:
            value = state.value if state else None
            rows, total = store.listings_page(conn, channel, value, limit, offset, scope.channels)
        return [listing_view(r) for r in rows], total

    def readiness(self, top: int = 5, scope: Scope = Scope.ALL) -> list[ChannelReadiness]:
        """Per channel with a target (that ``scope`` sees): listings ready and blocked, and the ``top`` reasons
        that block most."""
        with self.db.read() as conn:
            counts = store.state_counts(conn)
            out = []
            for target in self._syndication(conn).targets:
                if not scope.sees_channel(target.channel):
                    continue
                tally: Counter[str] = Counter()
                for reasons in store.blocked_reasons(conn, target.channel):
                    tally.update(f"{rule}: {message}" for rule, _, message in reasons)
                have = counts.get(target.channel, {})
                out.append(
                    ChannelReadiness(
                        target.channel,
                        have.get(ListingState.READY.value, 0),
                        have.get(ListingState.BLOCKED.value, 0),
                        tuple(tally.most_common(top)),
                    )
                )
        return out
