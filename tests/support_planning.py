"""A replenishment world shared by the planning tests: a store selling one SKU every day, its DC holding stock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from keel.bootstrap import Keel
from keel.inventory import CreateLocation
from tests.support import ST_DE, WH_DE, mv

SKU = "SKU-PL"
SLOW_STORE = "ST-DE-2"


def seed_sales(keel: Keel, today: date) -> None:
    """A store selling 4 a day for four weeks, 2 left; its DC holding 30."""

    def at(days_ago: int, hour: int = 12) -> str:
        moment = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC)
        return moment.replace(hour=hour).isoformat()

    rows = [mv("r-st", "received", SKU, ST_DE, 4 * 28 + 2, occurred_at=at(29, 8)),
            mv("r-dc", "received", SKU, WH_DE, 30, occurred_at=at(29, 8))]  # fmt: skip
    rows += [mv(f"s-{d}", "sold", SKU, ST_DE, 4, occurred_at=at(d)) for d in range(28, 0, -1)]
    keel.stock.apply_batch(rows)


def seed_slow_store(keel: Keel, sku: str, today: date, fast_per_day: int = 6) -> None:
    """Two stores of DE selling ``sku`` for four weeks: Munich (ST-DE-1) ``fast_per_day`` a day with 1 left,
    a new Augsburg store (ST-DE-2) 1 a day with 60 left. Rebalancing DE moves stock from Augsburg to Munich."""
    if SLOW_STORE not in {loc.code for loc in keel.locations.list(limit=1000)[0]}:  # a second SKU: same stores
        keel.locations.create(CreateLocation(code=SLOW_STORE, name="Augsburg store", kind="store", country="DE"))

    def at(days_ago: int, hour: int = 12) -> str:
        moment = datetime.combine(today - timedelta(days=days_ago), datetime.min.time(), UTC)
        return moment.replace(hour=hour).isoformat()

    rows = [mv(f"r-{sku}-fast", "received", sku, ST_DE, fast_per_day * 28 + 1, occurred_at=at(29, 8)),
            mv(f"r-{sku}-slow", "received", sku, SLOW_STORE, 88, occurred_at=at(29, 8))]  # fmt: skip
    for d in range(28, 0, -1):
        rows += [mv(f"s-{sku}-fast-{d}", "sold", sku, ST_DE, fast_per_day, occurred_at=at(d)),
                 mv(f"s-{sku}-slow-{d}", "sold", sku, SLOW_STORE, 1, occurred_at=at(d))]  # fmt: skip
    keel.stock.apply_batch(rows)
