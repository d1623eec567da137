"""What the media context needs of the others, as ports wired in ``bootstrap`` (media imports no other
context's service): the catalog's SKUs, the channels' countries, the locations, stock and sales."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Place:
    """A location as media targets it: its country and region, and where it is."""

    code: str
    country: str
    region: str | None
    latitude: float | None
    longitude: float | None


class Directory(Protocol):
    def known_skus(self, skus: Collection[str]) -> set[str]:
        """Which of ``skus`` Keel knows (its catalog holds them, or its stock ledger)."""
        ...

    def tags(self, skus: Collection[str]) -> dict[str, tuple[str | None, frozenset[str]]]:
        """SKU -> (brand, categories with their ancestors), for the SKUs the catalog holds."""
        ...

    def group_skus(self, category: str | None, brand: str | None, label: str | None) -> list[str]:
        """The SKUs a product group selects."""
        ...

    def channel_countries(self, channel: str) -> tuple[str, ...] | None:
        """The countries an active channel sells in (None: no such active channel)."""
        ...

    def places(self) -> list[Place]:
        """Every active location."""
        ...


class StockReader(Protocol):
    def listed(self, skus: list[str]) -> dict[tuple[str, str, str], int]:
        """(channel, country, SKU) -> the quantity the channel lists there (its ATP), for these SKUs."""
        ...

    def available_at(self, skus: list[str]) -> dict[str, dict[str, int]]:
        """SKU -> location code -> units available there (for campaigns around a store or in a region)."""
        ...

    def skus_moved(self, first_seq: int, last_seq: int) -> set[str]:
        """The SKUs a ``stock.moved`` event's ledger range moved."""
        ...

    def units_sold(self, since: datetime) -> dict[tuple[str, str, str], int]:
        """(channel, country, SKU) -> units ordered since ``since``: the run rate behind days of cover."""
        ...
