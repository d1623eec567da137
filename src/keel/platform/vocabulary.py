"""Words every context shares, defined once: codes, location kinds and capabilities, shipment and order
statuses with their groups, and the value types for quantities and money.

Standard library only, so pure domain modules (``model.py``) may import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NewType

# -- codes ----------------------------------------------------------------------------------------------
# Location, location group and channel codes.
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
CODE_RULE = "1-64 letters, digits or ._- starting alphanumeric"
SKU_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
SKU_RULE = "1-64 letters, digits or ._/- starting alphanumeric"
# Client-chosen ids of ledger movements (reservation and count ids, which go into URL paths, have the
# inventory ledger's own CLIENT_ID_RE).
MOVEMENT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
# An order's id on its channel (marketplace order numbers carry '#' and ':').
EXTERNAL_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,99}")


# -- locations ------------------------------------------------------------------------------------------
class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    DARK_STORE = "dark_store"
    THREE_PL = "3pl"
    SUPPLIER = "supplier"


# Kinds that pick and ship orders; a supplier only sends stock in.
FULFILLING_KINDS = frozenset(LocationKind) - {LocationKind.SUPPLIER}


class Capability(StrEnum):
    SHIP = "ship"
    PICKUP = "pickup"
    SHIP_FROM_STORE = "ship_from_store"


# -- shipments and orders -------------------------------------------------------------------------------
class ShipmentStatus(StrEnum):
    """Shipment (allocation) states, in the order they happen; the last four are terminal."""

    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    REPLANNED = "replanned"  # a wave moved its units to a cheaper plan before picking started


# Shipments that carry nothing any more: their units were cancelled, rejected or moved elsewhere.
DEAD_SHIPMENTS = frozenset({ShipmentStatus.CANCELLED, ShipmentStatus.REJECTED, ShipmentStatus.REPLANNED})
# Stock is still committed at the node (not yet left the building): it can be cancelled or rejected.
OPEN_SHIPMENTS = frozenset({ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING, ShipmentStatus.PACKED})


class OrderStatus(StrEnum):
    """One word for a whole order: its least advanced live shipment, or what is left when none is live."""

    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    BACKORDERED = "backordered"
    PARTIALLY_BACKORDERED = "partially_backordered"


# Orders that will sell nothing: no live shipment and nothing waiting for stock.
DEAD_ORDERS = frozenset({OrderStatus.CANCELLED})


# -- value types ----------------------------------------------------------------------------------------
Quantity = NewType("Quantity", int)
"""Whole units of one SKU."""

MAX_QUANTITY = 2**31 - 1  # per movement and per position field: the ledger stores 32-bit counts


@dataclass(frozen=True, slots=True)
class AtpRules:
    """The numbers of a channel's availability policy, applied in this order to the pooled stock: keep
    ``safety_buffer`` back, list ``allocation_pct`` % of the rest, at most ``max_listed``, nothing when under
    ``zero_below``; ``backorder`` lets the channel sell past zero. The channels context stores them, the
    inventory context computes with them."""

    safety_buffer: int = 0
    allocation_pct: float = 100.0
    max_listed: int | None = None
    zero_below: int = 0
    backorder: bool = False


@dataclass(frozen=True)
class Money:
    """An amount in one currency, exact (a Decimal, never a float). Amounts in different currencies are
    never added: ``+`` refuses them."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)
