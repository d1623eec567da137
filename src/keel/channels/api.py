"""HTTP API of the channel registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from keel.access import ScopeDep
from keel.channels.model import Channel, ChannelChanges, CreateChannel, Policy, policy_document
from keel.channels.sync.api import router as sync_router  # mounted by keel.api beside this one
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset, Page
from keel.platform.schemas import Code, Document, Flag, StrictModel, Text

router = APIRouter(tags=["channels"])
__all__ = ["router", "sync_router"]


class ChannelCreate(StrictModel):
    code: Code = Field(examples=["amazon-de"])
    name: Text
    kind: Code = Field(description="marketplace, web_store, pos, social or b2b")
    countries: list[Code]
    currency: Code = Field(examples=["EUR"])
    policy: Document = Field(
        default_factory=dict,
        description="sources per country ({'DE': {'locations': [...], 'groups': [...]}}), safety_buffer, "
        "allocation_pct, max_listed, zero_below, backorder",
    )


class ChannelUpdate(StrictModel):
    name: Text | None = None
    kind: Code | None = None
    countries: list[Code] | None = None
    currency: Code | None = None
    policy: Document | None = None
    active: Flag | None = None


class ChannelPublic(ChannelCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    active: bool
    created_at: datetime
    updated_at: datetime

    @field_validator("policy", mode="before")
    @classmethod
    def _document(cls, value: Any) -> Any:
        return policy_document(value) if isinstance(value, Policy) else value


class ChannelPage(BaseModel):
    """One page of channels (GET /channels)."""

    items: list[ChannelPublic]
    total: int = Field(description="channels matching the filters, over every page")
    limit: int = Field(description="the page size asked for")
    offset: int = Field(description="channels skipped before this page")


def public(channel: Channel) -> ChannelPublic:
    return ChannelPublic.model_validate(channel)


@router.post(
    "/channels",
    status_code=201,
    response_model=ChannelPublic,
    operation_id="create_channel",
    summary="Register a channel",
)
def create_channel(body: ChannelCreate, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Registers a sales channel (marketplace, web store, POS, social or B2B) with the countries it sells to, its
    currency and its availability policy: which locations or groups feed each country, safety buffer, allocation share,
    maximum listed, zero-below and backorders.

    Refuses a code already in use (409), a code outside the caller's restrictions (403), and invalid fields or a policy
    naming unknown countries, locations or groups (422). Not idempotent: repeating it is refused with 409.
    """
    command = CreateChannel(body.code, body.name, body.kind, tuple(body.countries), body.currency, body.policy)
    return public(keel.channels.create(command, scope))


@router.get("/channels", response_model=ChannelPage, operation_id="list_channels", summary="List channels")
def list_channels(
    keel: KeelDep,
    scope: ScopeDep,
    kind: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Channels by code, filtered by kind, country and active flag, one page at a time (``limit``, ``offset``; ``total``
    counts every match). A restricted caller sees only its channels.

    Refuses paging values out of range (422). Idempotent: a read, it changes nothing.
    """
    items, total = keel.channels.list(
        kind=kind, country=country, active=active, limit=limit, offset=offset, scope=scope
    )
    return Page(items=[public(c).model_dump() for c in items], total=total, limit=limit, offset=offset)


@router.get("/channels/{code}", response_model=ChannelPublic, operation_id="get_channel", summary="Get a channel")
def get_channel(code: str, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """One channel by its code, with its policy document.

    Refuses an unknown code, or a channel outside the caller's restrictions (404). Idempotent: a read, it changes
    nothing.
    """
    return public(keel.channels.get(code, scope))


@router.patch(
    "/channels/{code}", response_model=ChannelPublic, operation_id="update_channel", summary="Update a channel"
)
def update_channel(code: str, body: ChannelUpdate, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Changes the fields given; fields left out keep their value. A new policy recomputes the channel's availability;
    ``active: false`` deactivates, ``true`` reactivates.

    Refuses an unknown code (404), a channel outside the caller's restrictions (403) and invalid fields or policies
    (422). Idempotent: the same body again leaves the same channel (each call is still audited and announced as
    ``channel.updated``).
    """
    changes: ChannelChanges = body.model_dump(exclude_unset=True)  # type: ignore[assignment]
    return public(keel.channels.update(code, changes, scope))


@router.delete(
    "/channels/{code}", response_model=ChannelPublic, operation_id="deactivate_channel", summary="Deactivate a channel"
)
def deactivate_channel(code: str, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Marks the channel inactive: its listings drop to zero at the availability projector's next step. ``PATCH`` with
    ``active: true`` brings it back.

    Refuses an unknown code (404) and a channel outside the caller's restrictions (403). Idempotent: deactivating an
    inactive channel answers it unchanged.
    """
    return public(keel.channels.deactivate(code, scope))
