"""What the pricing service answers: price lists, policies, computed prices and tax rates as read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from keel.platform.money import plain
from keel.pricing.model import PriceList, Step, Taxed


@dataclass(frozen=True)
class PriceListView:
    price_list: PriceList
    prices: int
    updated_at: datetime | None


@dataclass(frozen=True)
class PolicyView:
    scope: str
    rules: list[dict[str, Any]]
    updated_at: datetime


@dataclass(frozen=True)
class PriceView:
    channel: str
    country: str
    sku: str
    currency: str
    amount: int
    compare_at: int | None
    price_list: str
    floor: int
    tax_inclusive: bool
    steps: tuple[Step, ...]
    changed_at: datetime

    @property
    def amount_text(self) -> str:
        return plain(self.amount, self.currency)


@dataclass(frozen=True)
class TaxRateView:
    country: str
    tax_class: str
    rate: Decimal
    stored: bool  # False: a default of ``STANDARD_RATES`` (no stored rate overrides it)


@dataclass(frozen=True)
class Explained:
    """A price with its tax split: the SKU's tax class and its rate in the country (stored, else default)."""

    price: PriceView
    tax_class: str
    taxed: Taxed
