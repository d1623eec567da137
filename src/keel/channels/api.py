"""HTTP API of the channel registry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field, field_validator

from keel.access import ScopeDep
from keel.channels.model import Channel, ChannelChanges, CreateChannel, Policy, policy_document
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset, Page
from keel.platform.schemas import Code, Document, Flag, StrictModel, Text

router = APIRouter(tags=["channels"])


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


def public(channel: Channel) -> ChannelPublic:
    return ChannelPublic.model_validate(channel)


@router.post("/channels", status_code=201, response_model=ChannelPublic, operation_id="create_channel")
def create_channel(body: ChannelCreate, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Register a sales channel with the countries it sells to and its availability policy."""
    command = CreateChannel(body.code, body.name, body.kind, tuple(body.countries), body.currency, body.policy)
    return public(keel.channels.create(command, scope))


@router.get("/channels", response_model=Page, operation_id="list_channels")
def list_channels(
    keel: KeelDep,
    scope: ScopeDep,
    kind: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Channels, filtered by kind, country and active flag, one page at a time."""
    items, total = keel.channels.list(
        kind=kind, country=country, active=active, limit=limit, offset=offset, scope=scope
    )
    return Page(items=[public(c).model_dump() for c in items], total=total, limit=limit, offset=offset)


@router.get("/channels/{code}", response_model=ChannelPublic, operation_id="get_channel")
def get_channel(code: str, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """One channel by its code, with its policy document."""
    return public(keel.channels.get(code, scope))


@router.patch("/channels/{code}", response_model=ChannelPublic, operation_id="update_channel")
def update_channel(code: str, body: ChannelUpdate, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Change the given fields of a channel; fields left out keep their value."""
    changes: ChannelChanges = body.model_dump(exclude_unset=True)  # type: ignore[assignment]
    return public(keel.channels.update(code, changes, scope))


@router.delete("/channels/{code}", response_model=ChannelPublic, operation_id="deactivate_channel")
def deactivate_channel(code: str, keel: KeelDep, scope: ScopeDep) -> ChannelPublic:
    """Deactivate a channel: its listings drop to zero at the next projector step."""
    return public(keel.channels.deactivate(code, scope))
