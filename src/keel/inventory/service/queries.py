"""Read side of inventory: positions, the ledger and inventory accuracy, with filters and pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from keel.inventory import store
from keel.inventory.model import KIND_CODES, KINDS_BY_CODE, Kind, accuracy, count_variance
from keel.platform.config import Settings
from keel.platform.db import Database


class InventoryQueries:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def positions(
        self,
        *,
        sku: str | None = None,
        location: str | None = None,
        country: str | None = None,
        locations: list[str] | None = None,
        min_available: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of positions joined with their location, and the total matching the filters."""
        p, loc = store.positions, store.locations
        query = sa.select(p, loc.c.code.label("location"), loc.c.country).join(loc, loc.c.id == p.c.location_id)
        if sku:
            query = query.where(p.c.sku == sku)
        if location:
            query = query.where(loc.c.code == location)
        if country:
            query = query.where(loc.c.country == country.upper())
        if locations is not None:
            query = query.where(loc.c.code.in_(locations))
        if min_available is not None:
            query = query.where(p.c.available >= min_available)
        with self.db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(p.c.sku, loc.c.code).limit(limit).offset(offset))
            items = [{k: v for k, v in r._mapping.items() if k != "location_id"} for r in rows]
        return items, int(total)

    def available_by_location(self, skus: list[str]) -> dict[str, dict[str, int]]:
        """sku -> location code -> available, for active locations (the stock a router may allocate)."""
        p, loc = store.positions, store.locations
        out: dict[str, dict[str, int]] = {sku: {} for sku in skus}
        with self.db.read() as conn:
            for chunk in store.chunks(skus):
                query = (
                    sa.select(p.c.sku, loc.c.code, p.c.available)
                    .join(loc, loc.c.id == p.c.location_id)
                    .where(p.c.sku.in_(chunk), loc.c.active.is_(True), p.c.available > 0)
                )
                for sku, code, available in conn.execute(query):
                    out[sku][code] = available
        return out

    def ledger(
        self,
        *,
        sku: str | None = None,
        location: str | None = None,
        kind: Kind | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Movements in ledger order; page with ``after_seq`` = the last ``seq`` of the previous page."""
        m, loc = store.movements, store.locations
        query = (
            sa.select(m, loc.c.code.label("location")).join(loc, loc.c.id == m.c.location_id).where(m.c.seq > after_seq)
        )
        if sku:
            query = query.where(m.c.sku == sku)
        if location:
            query = query.where(loc.c.code == location)
            if not sku:
                # Walk the (sku, location_id, occurred_at) index once per SKU stocked at the location.
                p = store.positions
                stocked = sa.select(p.c.sku).join(loc, loc.c.id == p.c.location_id).where(loc.c.code == location)
                query = query.where(m.c.sku.in_(stocked))
        if kind:
            query = query.where(m.c.kind == KIND_CODES[kind])
        if since:
            query = query.where(m.c.occurred_at >= since)
        if until:
            query = query.where(m.c.occurred_at < until)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(m.c.seq).limit(limit))
            out = []
            for r in rows:
                item = {k: v for k, v in r._mapping.items() if k != "location_id"}
                item["kind"] = KINDS_BY_CODE[item["kind"]].value
                out.append(item)
            return out

    def accuracy(self, tolerance_pct: float | None = None, location: str | None = None) -> dict[str, Any]:
        """Share of counted positions (latest count each) whose variance is within tolerance."""
        tol = self.settings.count_tolerance_pct if tolerance_pct is None else tolerance_pct
        c, loc = store.cycle_counts, store.locations
        ranked = sa.select(
            c.c.location_id,
            c.c.book,
            c.c.counted,
            sa.func.row_number()
            .over(partition_by=(c.c.sku, c.c.location_id), order_by=(c.c.counted_at.desc(), c.c.id.desc()))
            .label("rn"),
        ).subquery()
        query = (
            sa.select(loc.c.code, ranked.c.book, ranked.c.counted)
            .join(loc, loc.c.id == ranked.c.location_id)
            .where(ranked.c.rn == 1)
        )
        if location:
            query = query.where(loc.c.code == location)
        per: dict[str, list[int]] = {}
        with self.db.read() as conn:
            for code, book, counted in conn.execute(query):
                stats = per.setdefault(code, [0, 0])
                stats[0] += count_variance(book, counted, tol).within_tolerance
                stats[1] += 1
        within = sum(s[0] for s in per.values())
        total = sum(s[1] for s in per.values())
        return {
            "tolerance_pct": tol,
            "overall": {"counted": total, "within_tolerance": within, "accuracy": accuracy(within, total)},
            "locations": [
                {
                    "location": code,
                    "counted": s[1],
                    "within_tolerance": s[0],
                    "accuracy": accuracy(s[0], s[1]),
                }
                for code, s in sorted(per.items())
            ],
        }
