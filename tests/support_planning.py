"""A replenishment world shared by the planning tests: a store selling one SKU every day, its DC holding stock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from keel.bootstrap import Keel
from tests.support import ST_DE, WH_DE, mv

SKU = "SKU-PL"


def seed_sales(keel: Keel, today: date) -> None:
    """A store selling 4 a day for four weeks, 2 left; its DC holding 30."""

    def at(days_ago: int, hour: int = 12) -> str:
        moment = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC)
        return moment.replace(hour=hour).isoformat()

    rows = [mv("r-st", "received", SKU, ST_DE, 4 * 28 + 2, occurred_at=at(29, 8)),
            mv("r-dc", "received", SKU, WH_DE, 30, occurred_at=at(29, 8))]  # fmt: skip
    rows += [mv(f"s-{d}", "sold", SKU, ST_DE, 4, occurred_at=at(d)) for d in range(28, 0, -1)]
    keel.stock.apply_batch(rows)
