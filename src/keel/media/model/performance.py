"""Performance rows as files and documents: day (and hour where the platform gives it) x ad x SKU with
impressions, clicks, cost and what the clicks brought in 7 and 14 days (orders, units, sales), parsed with an
error per bad field; and the ratios read off them (ROAS, ACoS)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from keel.platform.errors import FieldError

COLUMNS = (
    "date", "hour", "campaign", "ad_group", "ad", "sku", "impressions", "clicks", "cost",
    "orders_7d", "units_7d", "sales_7d", "orders_14d", "units_14d", "sales_14d",
)  # fmt: skip
COUNTS = ("impressions", "clicks", "orders_7d", "units_7d", "orders_14d", "units_14d")
AMOUNTS = ("cost", "sales_7d", "sales_14d")
MAX_COUNT = 10**12
AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,4})?$")


@dataclass(frozen=True)
class PerformanceRow:
    day: date
    hour: int  # 0-23, or -1 for a whole day's row
    ad: str
    sku: str | None  # None: the ad's only SKU (the service fills it in)
    campaign: str | None  # when given, checked against the ad's
    ad_group: str | None
    counts: Mapping[str, int]  # COUNTS
    amounts: Mapping[str, Decimal]  # AMOUNTS, in the account's currency (major units, as platforms report)


def parse_row(doc: Mapping[str, Any], row: int) -> tuple[PerformanceRow | None, list[FieldError]]:
    """A row of a CSV file (every value a text) or of a JSON document (numbers as numbers)."""
    errors: list[FieldError] = []
    for key in sorted(set(doc) - set(COLUMNS)):
        errors.append(FieldError(row, str(key)[:64], f"not a column; the columns are {', '.join(COLUMNS)}"))
    day: date | None = None
    try:
        day = date.fromisoformat(str(doc.get("date") or ""))
    except ValueError:
        errors.append(FieldError(row, "date", "a date as YYYY-MM-DD"))
    hour = _hour(doc.get("hour"), row, errors)
    texts: dict[str, str | None] = {}
    for key in ("ad", "sku", "campaign", "ad_group"):
        value = doc.get(key)
        value = None if value in (None, "") else value
        if value is not None and (not isinstance(value, str) or len(value) > 64 or "\x00" in value):
            errors.append(FieldError(row, key, "a code of at most 64 characters"))
            value = None
        texts[key] = value
    if texts["ad"] is None and not any(e.field == "ad" for e in errors):
        errors.append(FieldError(row, "ad", "the ad the row is about"))
    counts = {}
    for key in COUNTS:
        value = _count(doc.get(key), key in ("impressions", "clicks"))
        if value is None:
            errors.append(FieldError(row, key, f"a whole number from 0 to {MAX_COUNT}"))
        counts[key] = value or 0
    amounts = {}
    for key in AMOUNTS:
        amount = _amount(doc.get(key), key == "cost")
        if amount is None:
            errors.append(FieldError(row, key, "an amount of at least 0 with at most 4 decimals, e.g. 12.40"))
        amounts[key] = amount or Decimal(0)
    if counts["clicks"] > counts["impressions"] and not errors:
        errors.append(FieldError(row, "clicks", "more clicks than impressions"))
    if errors or day is None or texts["ad"] is None:
        return None, errors
    return (
        PerformanceRow(day, hour, texts["ad"], texts["sku"], texts["campaign"], texts["ad_group"], counts, amounts),
        [],
    )


def _hour(value: Any, row: int, errors: list[FieldError]) -> int:
    if value in (None, ""):
        return -1
    if isinstance(value, str) and value.isdigit() and len(value) <= 2:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
        errors.append(FieldError(row, "hour", "an hour of the day from 0 to 23, or empty for a whole day"))
        return -1
    return value


def _count(value: Any, required: bool) -> int | None:
    if value in (None, ""):
        return None if required else 0
    if isinstance(value, str) and value.isdigit() and len(value) <= 13:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        return None
    return value


def _amount(value: Any, required: bool) -> Decimal | None:
    if value in (None, ""):
        return None if required else Decimal(0)
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int | float | str) else ""
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
    if not AMOUNT.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class PerformanceLine:
    """Performance summed over a group (a SKU, campaign, channel, region, account or day) in one currency."""

    key: str
    currency: str
    impressions: int
    clicks: int
    cost: int  # minor units of currency
    orders_7d: int
    units_7d: int
    sales_7d: int
    orders_14d: int
    units_14d: int
    sales_14d: int

    @property
    def roas_7d(self) -> float | None:
        return roas(self.sales_7d, self.cost)

    @property
    def acos_7d(self) -> float | None:
        return acos(self.sales_7d, self.cost)


def roas(sales: int, cost: int) -> float | None:
    """Return on ad spend: sales per unit of cost (None: nothing spent)."""
    return None if cost <= 0 else round(sales / cost, 4)


def acos(sales: int, cost: int) -> float | None:
    """Advertising cost of sales: cost as a share of sales (None: no sales)."""
    return None if sales <= 0 else round(cost / sales, 4)
