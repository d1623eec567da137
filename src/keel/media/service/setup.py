"""The ad setup: accounts, campaigns, ad groups and ads, saved as one validated batch.

A batch is checked whole before anything is written (shape, then references: the account's channel, the
campaign's country among the channel's, the store of a local campaign, each ad's SKUs in the catalog, a product
group that selects at least one SKU); one bad row refuses the batch with every error by row and field. Saving
the same batch again changes nothing.

Keel mirrors objects that live on the platforms: a new object's desired state is taken to be what its
platform holds (version 1, already sent; a drift check says otherwise if it is not). A person's later change
through Keel (a budget, a bid, a pause) becomes a new version the outbox sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from keel.media.model import Account, Ad, AdGroup, AdState, Campaign, Level, Status
from keel.media.model.documents import parse_account, parse_ad, parse_campaign, parse_group
from keel.media.service.ports import Directory
from keel.media.store import objects, outbox
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, PayloadTooLarge, ValidationFailed
from keel.platform.money import UnknownCurrency, exponent

MAX_ROWS = 50_000  # per batch, all levels together
LEVELS = ("accounts", "campaigns", "ad_groups", "ads")


@dataclass(frozen=True)
class Saved:
    accounts: int
    campaigns: int
    ad_groups: int
    ads: int
    changed: int  # objects whose desired state changed (the outbox sends them)


@dataclass(frozen=True)
class Parsed:
    accounts: list[tuple[Account, str | None]]
    campaigns: list[Campaign]
    groups: list[AdGroup]
    ads: list[tuple[Ad, str, list[str]]]  # (ad, campaign, SKUs)


def effective(status: Status, held_by: Sequence[str]) -> Status:
    """A person's pause or any rule's hold pauses an object."""
    return Status.PAUSED if status is Status.PAUSED or held_by else Status.ENABLED


class SetupService:
    def __init__(self, db: Database, directory: Directory, changed: Callable[[], None]) -> None:
        self.db, self.directory, self.changed = db, directory, changed

    def save(self, batch: Mapping[str, Any]) -> Saved:
        """Validate and store a batch ``{"accounts": [...], "campaigns": [...], "ad_groups": [...], "ads":
        [...]}`` (any of them); ``ValidationFailed`` with every error, and nothing written, if one row is bad."""
        unknown = sorted(set(batch) - set(LEVELS))
        if unknown:
            raise ValidationFailed(
                "unknown parts", [FieldError(None, k[:64], f"one of {', '.join(LEVELS)}") for k in unknown]
            )
        rows = {k: batch.get(k) or [] for k in LEVELS}
        for key, items in rows.items():
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise ValidationFailed("bad batch", [FieldError(None, key, "a list of objects")])
        if sum(len(v) for v in rows.values()) > MAX_ROWS:
            raise PayloadTooLarge(f"at most {MAX_ROWS} objects per batch")
        parsed = self._parse(rows)
        kept = {a.code: a for a in self.accounts()}
        for i, doc in enumerate(rows["accounts"]):  # a URL left out is kept (the token too, in the store)
            account, token = parsed.accounts[i]
            if "url" not in doc and account.code in kept:
                parsed.accounts[i] = (replace(account, url=kept[account.code].url), token)
        now = utcnow()
        with self.db.write() as conn:
            before = self._set_values(conn)
            for account, token in parsed.accounts:
                objects.save_account(conn, account, token, now)
            objects.save_campaigns(conn, parsed.campaigns, now)
            objects.save_groups(conn, parsed.groups, now)
            objects.save_ads(conn, parsed.ads, now)
            changed = self._states(conn, before, now)
            objects.bump(conn)
        self.changed()
        return Saved(len(parsed.accounts), len(parsed.campaigns), len(parsed.groups), len(parsed.ads), changed)

    # -- validation -------------------------------------------------------------------------------------------
    def _parse(self, rows: Mapping[str, list[Mapping[str, Any]]]) -> Parsed:
        errors: list[FieldError] = []

        def each(key: str, parse: Callable[[Mapping[str, Any], int], tuple[Any, list[FieldError]]]) -> list[Any]:
            out = []
            for i, doc in enumerate(rows[key], start=1):
                item, problems = parse(doc, i)
                errors.extend(FieldError(e.row, f"{key}.{e.field}", e.reason) for e in problems)
                if item is not None:
                    out.append(item)
            return out

        def account(doc: Mapping[str, Any], row: int) -> tuple[Any, list[FieldError]]:
            acc, token, problems = parse_account(doc)
            return (None if acc is None else (acc, token)), [FieldError(row, e.field, e.reason) for e in problems]

        accounts = each("accounts", account)
        campaigns = each("campaigns", parse_campaign)
        groups = each("ad_groups", parse_group)
        ads = each("ads", parse_ad)
        codes = {
            "accounts": [a.code for a, _ in accounts],
            "campaigns": [c.code for c in campaigns],
            "ad_groups": [g.code for g in groups],
            "ads": [a.code for a in ads],
        }
        for key, listed in codes.items():
            seen: set[str] = set()
            for i, code in enumerate(listed, start=1):
                if code in seen:
                    errors.append(FieldError(i, f"{key}.code", "appears twice in the batch"))
                seen.add(code)
        if errors:
            raise ValidationFailed("the batch has errors; nothing was saved", errors)
        resolved = self._references(rows, accounts, campaigns, groups, ads, errors)
        if errors:
            raise ValidationFailed("the batch has errors; nothing was saved", errors)
        return Parsed(accounts, campaigns, groups, resolved)

    def _references(
        self,
        rows: Mapping[str, list[Mapping[str, Any]]],
        accounts: list[tuple[Account, str | None]],
        campaigns: list[Campaign],
        groups: list[AdGroup],
        ads: list[Ad],
        errors: list[FieldError],
    ) -> list[tuple[Ad, str, list[str]]]:
        with self.db.read() as conn:
            known_accounts = {a.code: a for a in objects.accounts(conn)}
            stored_campaigns = {c.code: c for c in objects.campaigns(conn, [g.campaign for g in groups])}
            stored_groups = {g.code: g for g in objects.groups(conn)} if ads else {}
        for i, (acc, _) in enumerate(accounts, start=1):
            try:
                exponent(acc.currency)
            except UnknownCurrency:
                errors.append(FieldError(i, "accounts.currency", "an ISO 4217 code, e.g. EUR"))
            if self.directory.channel_countries(acc.channel) is None:
                errors.append(FieldError(i, "accounts.channel", f"no active channel {acc.channel!r}"))
            old = known_accounts.get(acc.code)
            if old is not None and (old.platform, old.currency) != (acc.platform, acc.currency):
                errors.append(FieldError(i, "accounts.platform", "an account's platform and currency never change"))
        known_accounts |= {a.code: a for a, _ in accounts}
        with self.db.read() as conn:
            stored = {c.code: c for c in objects.campaigns(conn, [c.code for c in campaigns])}
        for i, c in enumerate(campaigns, start=1):
            if c.code in stored and stored[c.code].account != c.account:
                errors.append(FieldError(i, "campaigns.account", f"campaign {c.code} is in {stored[c.code].account}"))
        located = self.directory.places() if any(c.region.store or c.region.region for c in campaigns) else []
        places = {p.code: p for p in located}
        regions = {(p.country, p.region) for p in located}
        for i, c in enumerate(campaigns, start=1):
            owner = known_accounts.get(c.account)
            if owner is None:
                errors.append(FieldError(i, "campaigns.account", f"no account {c.account!r}"))
                continue
            countries = self.directory.channel_countries(owner.channel) or ()
            if c.region.country not in countries:
                errors.append(
                    FieldError(i, "campaigns.country", f"{owner.channel} does not sell in {c.region.country}")
                )
            if c.region.region is not None and (c.region.country, c.region.region) not in regions:
                errors.append(FieldError(i, "campaigns.region", f"no location in region {c.region.region!r}"))
            if c.region.store is not None:
                place = places.get(c.region.store)
                if place is None or place.latitude is None or place.country != c.region.country:
                    errors.append(
                        FieldError(i, "campaigns.store", f"no located store {c.region.store!r} in {c.region.country}")
                    )
        campaign_codes = set(stored_campaigns) | {c.code for c in campaigns}
        with self.db.read() as conn:
            campaign_codes |= objects.existing(conn, "campaigns", [g.campaign for g in groups])
        for i, g in enumerate(groups, start=1):
            if g.campaign not in campaign_codes:
                errors.append(FieldError(i, "ad_groups.campaign", f"no campaign {g.campaign!r}"))
        group_campaign = {g.code: g.campaign for g in stored_groups.values()} | {g.code: g.campaign for g in groups}
        wanted = sorted({s for ad in ads for s in ad.target.skus})
        known = self.directory.known_skus(wanted) if wanted else set()
        groups_cache: dict[tuple[str | None, str | None, str | None], list[str]] = {}
        resolved = []
        for i, ad in enumerate(ads, start=1):
            campaign = group_campaign.get(ad.ad_group)
            if campaign is None:
                errors.append(FieldError(i, "ads.ad_group", f"no ad group {ad.ad_group!r}"))
                continue
            t = ad.target
            if t.skus:
                missing = [s for s in t.skus if s not in known]
                if missing:
                    errors.append(
                        FieldError(
                            i,
                            "ads.skus",
                            f"unknown SKU {missing[0]!r}"
                            + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""),
                        )
                    )
                skus = list(t.skus)
            else:
                key = (t.category, t.brand, t.label)
                if key not in groups_cache:
                    groups_cache[key] = self.directory.group_skus(*key)
                skus = groups_cache[key]
                if not skus:
                    errors.append(FieldError(i, "ads.category", "the product group selects no SKU"))
            resolved.append((ad, campaign, skus))
        del rows
        return resolved

    # -- desired states ---------------------------------------------------------------------------------------
    @staticmethod
    def _set_values(conn: Any) -> dict[tuple[Level, str], tuple[str, AdState, Status]]:
        """What a person set on every object, as its desired state would be without rules: (level, code) ->
        (account, state, status)."""
        accounts = {c.code: c.account for c in objects.campaigns(conn)}
        groups = {g.code: g for g in objects.groups(conn)}
        out: dict[tuple[Level, str], tuple[str, AdState, Status]] = {}
        for c in objects.campaigns(conn):
            out[(Level.CAMPAIGN, c.code)] = (c.account, AdState(c.status, None, c.daily_budget), c.status)
        for g in groups.values():
            out[(Level.AD_GROUP, g.code)] = (accounts[g.campaign], AdState(g.status, g.default_bid), g.status)
        for ad, campaign in objects.ads(conn):
            bid = ad.bid if ad.bid is not None else groups[ad.ad_group].default_bid
            out[(Level.AD, ad.code)] = (accounts[campaign], AdState(ad.status, bid), ad.status)
        return out

    def _states(self, conn: Any, before: dict[tuple[Level, str], tuple[str, AdState, Status]], now: Any) -> int:
        """New objects get a state (as their platform holds it); an object whose person-set status, bid or
        budget changed gets them as its new desired state (a rule's hold stays: a held ad stays paused). An
        object the batch left as it was keeps what rules made of it. Reads the whole setup: a change of an ad
        group's default bid reaches its ads that have no bid of their own."""
        after = self._set_values(conn)
        changed = 0
        for level in Level:
            items = [(k[1], v) for k, v in after.items() if k[0] is level and before.get(k) != v]
            if not items:
                continue
            held = outbox.get(conn, level, [code for code, _ in items])
            outbox.create(conn, [(level, code, acc, s) for code, (acc, s, _) in items if code not in held], now)
            updates = []
            for code, (_, state, status) in items:
                row = held.get(code)
                if row is not None:
                    new = AdState(effective(status, row.held_by), state.bid, state.budget)
                    updates.append((level, code, new, row.held_by))
            changed += len(outbox.change(conn, updates, now))
        return changed

    # -- reads ------------------------------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        with self.db.read() as conn:
            return objects.accounts(conn)

    def account(self, code: str) -> Account:
        with self.db.read() as conn:
            found = objects.account(conn, code)
        if found is None:
            raise NotFound(f"ad account {code!r} does not exist")
        return found

    def campaigns(
        self,
        account: str | None = None,
        country: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Campaign], int]:
        with self.db.read() as conn:
            return objects.campaign_page(conn, account, country, status, limit, offset)

    def campaign(self, code: str) -> tuple[Campaign, list[AdGroup], list[tuple[Ad, list[str]]]]:
        """A campaign with its ad groups and ads (each with the SKUs it advertises)."""
        with self.db.read() as conn:
            found = objects.campaigns(conn, [code])
            if not found:
                raise NotFound(f"campaign {code!r} does not exist")
            groups = objects.groups(conn, [code])
            ads = [ad for ad, _ in objects.ads(conn, [code])]
            skus = objects.ad_skus(conn, [a.code for a in ads])
        return found[0], groups, [(a, skus.get(a.code, [])) for a in ads]

    def counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            return objects.counts(conn)
