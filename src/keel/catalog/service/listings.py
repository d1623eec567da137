"""Syndication use cases: channel targets, each variant's listing per channel (ready or blocked with reasons),
rebuilt in the transaction of the write that changes the product, and the channels' readiness."""

from __future__ import annotations

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
    Reason,
    Target,
    parse_target,
    target_document,
)
from keel.catalog.model.syndicate import Plans, listing_states
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
        *,
        shared: bool = True,
        before: dict[str, str] | None = None,
    ) -> list[NewEvent]:
        """Rebuild the listings of ``products`` on ``syndication``'s targets (their groups' rows unless
        ``shared`` is off: they stand already; and the channels' own rows), store the rows that changed, and
        return one ``listing.changed`` event per product whose listing changed on any of those channels.
        ``before`` maps each channel to its group before this change (a target moving to another group)."""
        if not syndication.targets or not products:
            return []
        after = {t.channel: t.group for t in syndication.targets}
        before = before or after
        mine = {t.channel for t in syndication.targets}
        groups = set(after.values())

        stored = store.rows_of(conn, [p.code for p in products])
        by_product: dict[str, dict[tuple[str, str, str], store.StoredRow]] = {}
        for key, row in stored.items():
            by_product.setdefault(row.product, {})[key] = row
        rows: list[store.StoredRow] = []
        gone: list[tuple[str, str, str]] = []
        events: list[NewEvent] = []
        plans = Plans()
        shares = _Shares(before, after)
        # one list per distinct reasons, shared by the rows that give them (never mutated; the store serialises
        # each once): most listings of an import are ready, and the blocked ones block for a few reasons
        reasons_of: dict[tuple[Reason, ...], list[list[str]]] = {}
        for product in products:
            old = by_product.get(product.code, {})
            revision = revisions[product.code]
            # the groups' rows stand unless this product has none there yet (its listings kept by migration
            # 0014 as channels' own rows until its next write)
            build = shared or not any(k[1] == store.SHARED and k[0] in groups for k in old)
            rebuilt = groups if build else set()

            def in_scope(key: tuple[str, str, str], rebuilt: set[str] = rebuilt) -> bool:
                return key[1] in mine or (key[1] == store.SHARED and key[0] in rebuilt)

            fresh: dict[tuple[str, str, str], store.StoredRow] = {}
            family = families[product.family]
            for r in listing_states(product, family, syndication.targets, syndication.profiles, build, plans):
                reasons = reasons_of.get(r.reasons)
                if reasons is None:
                    reasons = reasons_of[r.reasons] = [[x.rule, x.field, x.message] for x in r.reasons]
                fresh[(r.group, r.channel, r.sku)] = store.StoredRow(
                    r.group, r.channel, r.sku, product.code, r.state.value, reasons, r.payload, revision, now
                )
            if not old:  # a new product (an import's usual case): every row is new, nothing is replaced
                rows += fresh.values()
                changed = set(fresh)
                shown = shares.changes(old, fresh, changed)
            else:
                changed = set()
                for key, built in fresh.items():
                    have = old.get(key)
                    if not _same(have, built):
                        rows.append(built)
                        changed.add(key)
                        if have is not None:
                            gone.append(key)
                for key in old:
                    if key not in fresh and in_scope(key):
                        gone.append(key)
                        changed.add(key)
                kept = {key: have for key, have in old.items() if not in_scope(key)}
                shown = shares.changes(old, kept | fresh, changed)
            if shown:
                data = {"product": product.code, "revision": revision, "listings": shown}
                events.append(NewEvent(LISTING_CHANGED, f"catalog/listings/{product.code}", data, source=source))
        store.save_rows(conn, rows, gone)
        return events

    def put_target(self, channel: str, doc: Any, source: str = "api", scope: Scope = Scope.ALL) -> Target:
        """Set how a channel lists products: its compliance profile, locale and mapping (field <- attribute,
        with unit conversion and truncation where the profile allows it); every product's listing on the
        channel is rebuilt in the same transaction. Refused (422) for an unknown profile, a bad mapping or a
        truncation the profile does not allow, a channel the registry does not have, and (403) for a channel
        outside ``scope``. Idempotent: the same document again changes nothing. A channel whose target equals
        another's joins that channel's listing group: only the products that differ on it are built for it."""
        scope.check_channel(channel)
        self._check_channel_exists(channel)
        with self.db.write() as conn:
            syndication = self._syndication(conn)
            target, problems = parse_target(channel, doc, syndication.profiles)
            if target is None:
                errors = [FieldError(None, f, r) for f, r in problems]
                raise ValidationFailed(problem_count("the target", errors), errors)
            now = utcnow()
            if not store.save_target(conn, channel, target_document(target), target.group, now):
                return target
            before = {t.channel: t.group for t in syndication.targets}
            joined = any(t.group == target.group and t.channel != channel for t in syndication.targets)
            events = [NewEvent(TARGET_CHANGED, f"catalog/targets/{channel}", {"channel": channel}, source=source)]
            one = Syndication([target], syndication.profiles)
            events += self._relist_every(conn, one, now, source, shared=not joined, before=before)
            store.drop_orphan_groups(conn)
            self.events.append(conn, events)
        return target

    def _relist_every(
        self,
        conn: Any,
        syndication: Syndication,
        now: datetime,
        source: str,
        *,
        family: str | None = None,
        shared: bool = True,
        before: dict[str, str] | None = None,
    ) -> list[NewEvent]:
        """``_relist`` over every stored product (of ``family``), a chunk at a time."""
        families = {c: self._family(d) for c, d in store.family_documents(conn).items()}
        events: list[NewEvent] = []
        batch: list[store.StoredProduct] = []
        for stored in (*store.iter_products(conn, family), None):
            if stored is not None:
                batch.append(stored)
            if batch and (stored is None or len(batch) == WRITE_CHUNK):
                products = []
                for s in batch:
                    product, problems = parse_product(s.document, families)
                    if product is None:
                        raise ValueError(f"stored product {s.code} does not parse: {problems}")
                    products.append(product)
                revisions = {s.code: s.revision for s in batch}
                events += self._relist(
                    conn, products, revisions, families, syndication, now, source, shared=shared, before=before
                )
                batch = []
        return events

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
        sees, and how many match. Counted per listing group; the page is read from the channels it spans only,
        so a page costs the same however many channels and products there are."""
        value = state.value if state else None
        with self.db.read() as conn:
            groups = {
                t.channel: t.group
                for t in self._syndication(conn).targets
                if scope.sees_channel(t.channel) and channel in (None, t.channel)
            }
            counts = store.state_counts(conn, groups)
            sizes = {c: counts[c][value] if value else sum(counts[c].values()) for c in sorted(groups)}
            rows: list[store.StoredListing] = []
            skip = offset
            for c, size in sizes.items():
                if len(rows) >= limit:
                    break
                if skip >= size:
                    skip -= size
                    continue
                rows += store.channel_rows(conn, c, groups[c], state=value, limit=limit - len(rows), offset=skip)
                skip = 0
        return [listing_view(r) for r in rows], sum(sizes.values())

    def readiness(self, top: int = 5, scope: Scope = Scope.ALL) -> list[ChannelReadiness]:
        """Per channel with a target (that ``scope`` sees): listings ready and blocked, and the ``top`` reasons
        that block most."""
        with self.db.read() as conn:
            groups = {t.channel: t.group for t in self._syndication(conn).targets if scope.sees_channel(t.channel)}
            counts = store.state_counts(conn, groups)
            reasons = store.blocked_reasons(conn, groups)
        return [
            ChannelReadiness(
                channel,
                counts[channel][ListingState.READY.value],
                counts[channel][ListingState.BLOCKED.value],
                tuple(reasons[channel].most_common(top)),
            )
            for channel in groups
        ]


def _same(a: store.StoredRow | None, b: store.StoredRow | None) -> bool:
    return a is not None and b is not None and (a.state, a.reasons, a.payload) == (b.state, b.reasons, b.payload)


class _Shares:
    """What changed for each channel, per product, for one rebuild (``before`` and ``after``: each channel's
    group before and after it). Which channels show their group's rows before and after depends only on the
    channels a product has own rows on, so it is worked out once per such set (usually: none)."""

    def __init__(self, before: dict[str, str], after: dict[str, str]) -> None:
        self.before, self.after = before, after
        self._split: dict[frozenset[str], tuple[list[tuple[str, str]], dict[str, list[str]]]] = {}

    def _channels(self, own: frozenset[str]) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
        """The channels looked at one by one (own rows, or a group moved), and each group's other members."""
        found = self._split.get(own)
        if found is None:
            singles: list[tuple[str, str]] = []
            members: dict[str, list[str]] = {}
            for channel, group in self.after.items():
                if channel in own or self.before.get(channel) != group:
                    singles.append((channel, group))
                else:  # it shows its group's rows before and after: one look per group and SKU
                    members.setdefault(group, []).append(channel)
            found = self._split[own] = (singles, members)
        return found

    def changes(
        self,
        old: dict[tuple[str, str, str], store.StoredRow],
        fresh: dict[tuple[str, str, str], store.StoredRow],
        changed: set[tuple[str, str, str]],
    ) -> list[dict[str, Any]]:
        """What changed for each channel of ``after`` and each SKU of one product (its rows ``old`` and
        ``fresh``, those of ``changed`` rewritten). A channel's listing before is its own row in its old group
        when it had one, else the group's; likewise after. Grouped by (SKU, state) with the channels, so an
        event stays small when fifty channels change at once."""
        own = frozenset(k[1] for k in (*old, *fresh) if k[1] != store.SHARED)
        skus = sorted({k[2] for k in old} | {k[2] for k in fresh})
        shown: dict[tuple[str, str], list[str]] = {}
        singles, members = self._channels(own)
        for channel, group in singles:
            _one_channel(channel, group, old, fresh, changed, self.before, skus, shown)
        for group, channels in members.items():
            for sku in skus:
                if (group, store.SHARED, sku) in changed:
                    row = fresh.get((group, store.SHARED, sku))
                    shown.setdefault((sku, row.state if row else "removed"), []).extend(channels)
        return [{"sku": sku, "state": state, "channels": sorted(chs)} for (sku, state), chs in sorted(shown.items())]


def _one_channel(
    channel: str,
    group: str,
    old: dict[tuple[str, str, str], store.StoredRow],
    fresh: dict[tuple[str, str, str], store.StoredRow],
    changed: set[tuple[str, str, str]],
    before: dict[str, str],
    skus: list[str],
    shown: dict[tuple[str, str], list[str]],
) -> None:
    # a channel without a target before listed nothing: no key of ``old`` has an empty group
    was = (before.get(channel, ""), channel if any(k[1] == channel for k in old) else store.SHARED)
    now = (group, channel if any(k[1] == channel for k in fresh) else store.SHARED)
    for sku in skus:
        then, row = old.get((*was, sku)), fresh.get((*now, sku))
        if (was == now and (*now, sku) not in changed) or (then is None and row is None) or _same(then, row):
            continue
        shown.setdefault((sku, row.state if row else "removed"), []).append(channel)
