"""HTTP API of syndication: channel targets, listing states, readiness per channel; a caller restricted to
some channels sees and sets only theirs (docs/access.md, "Restrictions")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from keel.access import ScopeDep
from keel.catalog.model.listings import ListingState
from keel.catalog.schemas import (
    ListingPublic,
    ListingsPage,
    ReadinessPublic,
    TargetPublic,
)
from keel.deps import KeelDep
from keel.platform.api import Limit, Offset
from keel.platform.schemas import Document

router = APIRouter(tags=["catalog"])


@router.get(
    "/catalog/targets",
    response_model=list[TargetPublic],
    operation_id="list_catalog_targets",
    summary="List channel targets",
)
def list_targets(keel: KeelDep, scope: ScopeDep) -> list[TargetPublic]:
    """How each channel lists products: its compliance profile, locale and field mapping.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [TargetPublic.of(t) for t in keel.catalog.targets(scope)]


@router.put(
    "/catalog/targets/{channel}",
    response_model=TargetPublic,
    operation_id="put_catalog_target",
    summary="Set how a channel lists products",
)
def put_target(
    channel: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    scope: ScopeDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "profile": "google-merchant",
                    "locale": "de",
                    "mapping": {
                        "description": {"source": "description", "truncate": 5000},
                        "shipping_weight": {"source": "weight", "unit": "kg"},
                    },
                }
            ]
        ),
    ],
) -> TargetPublic:
    """Set a channel's compliance profile, locale and mapping (channel field from an attribute or a built-in
    source, with unit conversion, and truncation where the profile allows it). Every product's listing on the
    channel is rebuilt in the same transaction, announced with ``listing.changed`` events.

    Refuses a channel the channel registry does not have, an unknown profile, a bad mapping, an unknown unit
    and a truncation the profile does not allow (422), and a channel outside the caller's restrictions (403).
    Idempotent: the same document again changes nothing.
    """
    return TargetPublic.of(keel.catalog.put_target(channel, body, source="api", scope=scope))


@router.get("/catalog/listings", response_model=ListingsPage, operation_id="list_listings", summary="List listings")
def list_listings(
    keel: KeelDep,
    scope: ScopeDep,
    channel: Annotated[str | None, Query(max_length=64, description="only this channel's listings")] = None,
    state: Annotated[ListingState | None, Query(description="ready or blocked")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ListingsPage:
    """Each variant's listing per channel: ready or blocked with its reasons, and the payload the channel is
    sent; by channel, then SKU.

    Refuses an unknown state or a page out of range (422). Idempotent: a read, it changes nothing.
    """
    items, total = keel.catalog.listings(channel, state, limit=limit, offset=offset, scope=scope)
    return ListingsPage(items=[ListingPublic.of(v) for v in items], total=total, limit=limit, offset=offset)


@router.get(
    "/catalog/readiness",
    response_model=list[ReadinessPublic],
    operation_id="catalog_readiness",
    summary="Listings ready and blocked per channel",
)
def readiness(keel: KeelDep, scope: ScopeDep) -> list[ReadinessPublic]:
    """Per channel with a target: how many listings are ready and blocked, and the reasons that block most.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [ReadinessPublic.of(r) for r in keel.catalog.readiness(scope=scope)]
