"""Performance data: rows imported (CSV or JSON) or pulled, checked against the setup, stored per (day,
hour, ad, SKU), and read back as totals with ROAS and ACoS per SKU, campaign, channel, region, account or
day, always per currency."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from keel.media.model.performance import AMOUNTS, COUNTS, PerformanceLine, PerformanceRow, parse_row
from keel.media.store import objects, performance
from keel.platform.db import Database
from keel.platform.errors import FieldError, PayloadTooLarge, ValidationFailed, single_field
from keel.platform.money import to_minor

MAX_ROWS = 200_000


@dataclass(frozen=True)
class Imported:
    rows: int
    days: int
    ads: int


def read_csv(text: str) -> list[dict[str, str]]:
    """A performance CSV (header row first) as row documents; ``ValidationFailed`` for a file that is not one."""
    if "\x00" in text:
        raise single_field("file", "a text file: it holds NUL bytes")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "date" not in reader.fieldnames or "ad" not in reader.fieldnames:
        raise single_field("file", "a CSV file whose header names at least date, ad, impressions, clicks and cost")
    rows = []
    for i, row in enumerate(reader, start=1):
        if None in row:
            raise ValidationFailed("bad file", [FieldError(i, "file", "more values than the header has columns")])
        rows.append({k: v for k, v in row.items() if v is not None})
        if len(rows) > MAX_ROWS:
            raise PayloadTooLarge(f"at most {MAX_ROWS} rows per import")
    return rows


class PerformanceService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, docs: Sequence[Mapping[str, Any]]) -> Imported:
        """Validate and store performance rows; one bad row refuses them all, with every error by row.
        Importing the same rows again replaces them with themselves (idempotent)."""
        if len(docs) > MAX_ROWS:
            raise PayloadTooLarge(f"at most {MAX_ROWS} rows per import")
        errors: list[FieldError] = []
        parsed: list[tuple[int, PerformanceRow]] = []
        for i, doc in enumerate(docs, start=1):
            if not isinstance(doc, Mapping):
                errors.append(FieldError(i, "row", "an object"))
                continue
            row, problems = parse_row(doc, i)
            errors += problems
            if row is not None:
                parsed.append((i, row))
        with self.db.read() as conn:
            ads = {ad.code: (ad, campaign) for ad, campaign in objects.ads(conn)} if parsed else {}
            skus = objects.ad_skus(conn, {r.ad for _, r in parsed} & set(ads))
            campaigns = {c.code: c for c in objects.campaigns(conn, {c for _, c in ads.values()})}
            currency = {a.code: a.currency for a in objects.accounts(conn)}
        out: list[dict[str, Any]] = []
        for i, r in parsed:
            if r.ad not in ads:
                errors.append(FieldError(i, "ad", f"no ad {r.ad!r}"))
                continue
            ad, campaign = ads[r.ad]
            sku = r.sku
            listed = skus.get(r.ad, [])
            if sku is None and len(listed) == 1:
                sku = listed[0]
            if sku is None or sku not in listed:
                errors.append(FieldError(i, "sku", f"one of the SKUs ad {r.ad} advertises"))
                continue
            if r.campaign is not None and r.campaign != campaign:
                errors.append(FieldError(i, "campaign", f"ad {r.ad} belongs to campaign {campaign}"))
            if r.ad_group is not None and r.ad_group != ad.ad_group:
                errors.append(FieldError(i, "ad_group", f"ad {r.ad} belongs to ad group {ad.ad_group}"))
            account = campaigns[campaign].account
            money = {k: to_minor(r.amounts[k], currency[account]) for k in AMOUNTS}
            key = {"day": r.day.isoformat(), "hour": r.hour, "ad": r.ad, "sku": sku}
            out.append(key | {"campaign": campaign, "account": account} | dict(r.counts) | money)
        with self.db.read() as conn:
            days = sorted({o["day"] for o in out})
            kinds = performance.granularity(conn, sorted({o["ad"] for o in out}), days) if out else {}
        for item in out:
            kinds.setdefault((item["day"], item["ad"], item["sku"]), set()).add(item["hour"] < 0)
        for i, item in enumerate(out, start=1):
            if len(kinds[(item["day"], item["ad"], item["sku"])]) > 1:
                errors.append(
                    FieldError(i, "hour", "this day of this ad and SKU is reported by hour and as a whole day")
                )
        seen: dict[tuple[str, int, str, str], int] = {}
        for i, item in enumerate(out, start=1):
            k = (item["day"], item["hour"], item["ad"], item["sku"])
            if k in seen:
                errors.append(FieldError(i, "date", f"the same day, hour, ad and SKU as row {seen[k]}"))
            seen[k] = i
        if errors:
            raise ValidationFailed("the performance rows have errors; nothing was imported", errors)
        with self.db.write() as conn:
            performance.save(conn, out)
        return Imported(len(out), len({o["day"] for o in out}), len({o["ad"] for o in out}))

    def totals(
        self,
        by: str,
        since: date | None = None,
        until: date | None = None,
        key: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[PerformanceLine], int]:
        """Totals per ``by`` (sku, campaign, channel, region, account, day) and currency, biggest cost first."""
        if by not in performance.GROUPS:
            raise single_field("by", f"one of {', '.join(performance.GROUPS)}")
        with self.db.read() as conn:
            return performance.totals(
                conn, by, since.isoformat() if since else None, until.isoformat() if until else None, key, limit, offset
            )


__all__ = ["COUNTS", "Imported", "PerformanceLine", "PerformanceService", "read_csv"]
