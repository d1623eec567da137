"""Response models of the access API (secrets never appear in them)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class IdentityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    role: str
    permissions: list[str]
    channels: list[str] | None
    countries: list[str] | None


class AccountPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    role: str
    disabled: bool
    created_at: datetime


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    identity: str
    name: str
    scopes: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
