"""Request and response schemas of the inventory API (XCreate / XUpdate / XPublic)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from keel.platform.schemas import Code, Flag, Number, Quantity, StrictModel, Text


class LocationCreate(StrictModel):
    code: Code = Field(examples=["WH-DE-BER"])
    name: Text
    kind: Code = Field(description="warehouse, store, dark_store, 3pl or supplier")
    country: Code = Field(description="ISO 3166-1 alpha-2", examples=["DE"])
    region: Text | None = None
    city: Text | None = None
    latitude: Number | None = None
    longitude: Number | None = None
    capabilities: list[Code] = Field(default_factory=list, description="ship, pickup, ship_from_store")
    daily_capacity: Quantity | None = Field(
        default=None, description="units it can pick a day for orders; null: the default of its kind", examples=[800]
    )


class LocationUpdate(StrictModel):
    name: Text | None = None
    kind: Code | None = None
    country: Code | None = None
    region: Text | None = None
    city: Text | None = None
    latitude: Number | None = None
    longitude: Number | None = None
    capabilities: list[Code] | None = None
    daily_capacity: Quantity | None = Field(default=None, description="null resets it to the default of the kind")
    active: Flag | None = None


class LocationPublic(LocationCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    active: bool
    created_at: datetime
    updated_at: datetime


class GroupCreate(StrictModel):
    code: Code
    name: Text
    members: list[Code] = Field(default_factory=list, description="location codes")


class GroupMembers(StrictModel):
    members: list[Code]


class GroupPublic(GroupCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")


class PositionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    on_hand: int
    available: int
    committed: int
    reserved: int
    safety_stock: int
    damaged: int
    quality_control: int
    incoming: int
    updated_at: datetime
    location: str
    country: str


class LocationPage(BaseModel):
    """One page of locations (GET /locations)."""

    items: list[LocationPublic]
    total: int = Field(description="locations matching the filters, over every page")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="locations skipped before this page")


class PositionPage(BaseModel):
    """One page of stock positions (GET /inventory/positions)."""

    items: list[PositionPublic]
    total: int = Field(description="positions matching the filters, over every page")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="positions skipped before this page")


class AccuracyFiguresPublic(BaseModel):
    counted: int = Field(description="positions counted (the latest count of each)")
    within_tolerance: int = Field(description="of those, counts within the tolerance")
    accuracy: float | None = Field(description="within_tolerance / counted; null when nothing was counted")


class LocationAccuracyPublic(BaseModel):
    location: str  # first, as before the models were typed: clients and the README read it so
    counted: int = Field(description="positions counted (the latest count of each)")
    within_tolerance: int = Field(description="of those, counts within the tolerance")
    accuracy: float | None = Field(description="within_tolerance / counted; null when nothing was counted")


class AccuracyPublic(BaseModel):
    """Inventory accuracy (GET /inventory/accuracy)."""

    tolerance_pct: float = Field(description="the largest variance, in % of the book, still counted as accurate")
    overall: AccuracyFiguresPublic
    locations: list[LocationAccuracyPublic]


class BatchPublic(BaseModel):
    accepted: int = Field(description="movements newly written to the ledger")
    duplicates: int = Field(description="movement ids already recorded with the same content (acknowledged)")
    first_seq: int | None
    last_seq: int | None


class ReservationCreate(StrictModel):
    sku: Code
    location: Code
    quantity: Quantity
    ttl_seconds: Number = Field(900, description="the hold is released automatically after this")
    id: Code | None = Field(None, description="client id; repeating a request with it is idempotent")
    reference: Text | None = None


class ReservationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku: str
    location: str
    quantity: int
    status: str
    reference: str | None
    expires_at: datetime
    created_at: datetime
    closed_at: datetime | None


class CountCreate(StrictModel):
    sku: Code
    location: Code
    counted: Quantity
    id: Code | None = None


class CountPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    sku: str
    location: str
    book: int
    counted: int
    variance: int
    within_tolerance: bool
    tolerance_pct: float
    counted_at: datetime


class AvailabilityQuery(StrictModel):
    skus: list[Code] = Field(max_length=1000)
    channel: Code | None = None
    country: Code | None = None


class ContributionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    location: str
    available: int
    counted: int


class StepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    removed: int
    result: int


class Explained(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    channel: str
    country: str
    quantity: int
    backorder: bool
    projected: int | None
    contributions: list[ContributionPublic]
    steps: list[StepPublic]


class ListedPublic(BaseModel):
    """What a channel was last told it may sell of one SKU in one country."""

    model_config = ConfigDict(from_attributes=True)

    channel: str
    country: str
    quantity: int
    backorder: bool
    updated_at: datetime


class SkuAvailabilityPublic(BaseModel):
    sku: str
    availability: list[ListedPublic] | list[Explained] = Field(
        description="the projected listings, or with ``explain=true`` the live breakdown"
    )


class AvailabilityBatchPublic(BaseModel):
    items: dict[str, list[ListedPublic]] = Field(description="listings per requested SKU")


class LedgerEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: str
    kind: str
    sku: str
    quantity: int
    occurred_at: datetime
    recorded_at: datetime
    reason: str | None
    reference: str | None
    location: str


class MovementsPage(BaseModel):
    items: list[LedgerEntryPublic]
    next_after_seq: int | None = Field(description="pass as ``after_seq`` for the next page; null on the last")
