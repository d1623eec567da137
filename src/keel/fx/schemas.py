"""Request and response models of the FX API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from keel.fx.model import ImportReport, Rate, rate_text


class RatePublic(BaseModel):
    date: date
    currency: str = Field(examples=["USD"])
    rate: str = Field(examples=["1.0823"], description="units of the currency per 1 EUR, decimal string")

    @classmethod
    def of(cls, r: Rate) -> RatePublic:
        return cls(date=r.day, currency=r.currency, rate=rate_text(r.rate))


class RatesPage(BaseModel):
    items: list[RatePublic]
    total: int
    limit: int
    offset: int


class ImportPublic(BaseModel):
    rows: int = Field(description="dated rows read")
    rates: int = Field(description="cells holding a rate (N/A cells are skipped)")
    inserted: int
    updated: int = Field(description="known (date, currency) pairs whose rate the file changed")
    unchanged: int
    currencies: list[str]
    first_date: date | None
    last_date: date | None

    @classmethod
    def of(cls, r: ImportReport) -> ImportPublic:
        return cls(
            rows=r.rows,
            rates=r.rates,
            inserted=r.inserted,
            updated=r.updated,
            unchanged=r.unchanged,
            currencies=list(r.currencies),
            first_date=r.first_day,
            last_date=r.last_day,
        )
