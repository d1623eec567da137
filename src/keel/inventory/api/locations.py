"""HTTP API of the inventory context: locations and location groups."""

from __future__ import annotations

from fastapi import APIRouter, status

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.inventory.model import (
    CreateLocation,
    LocationChanges,
)
from keel.inventory.schemas import (
    GroupCreate,
    GroupMembers,
    GroupPublic,
    LocationCreate,
    LocationPage,
    LocationPublic,
    LocationUpdate,
)
from keel.platform.api import Limit, Offset, Page

router = APIRouter()


@router.post(
    "/locations",
    status_code=status.HTTP_201_CREATED,
    response_model=LocationPublic,
    tags=["locations"],
    operation_id="create_location",
    summary="Register a location",
)
def create_location(body: LocationCreate, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Registers a stock-holding location (warehouse, store, dark store, 3PL or supplier) with its country, capabilities
    and daily picking capacity.

    Refuses a code already in use (409), a country outside the caller's restrictions (403) and invalid fields such as an
    unknown kind, country or capability (422). Not idempotent: repeating it is refused with 409 and leaves the first
    location as it was.
    """
    command = CreateLocation(**{**body.model_dump(), "capabilities": tuple(body.capabilities)})
    return LocationPublic.model_validate(keel.locations.create(command, scope))


@router.get(
    "/locations",
    response_model=LocationPage,
    tags=["locations"],
    operation_id="list_locations",
    summary="List locations",
)
def list_locations(
    keel: KeelDep,
    scope: ScopeDep,
    kind: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Locations by code, filtered by kind, country and active flag, one page at a time (``limit``, ``offset``;
    ``total`` counts every match). A restricted caller sees only its countries' locations.

    Refuses paging values out of range (422). Idempotent: a read, it changes nothing.
    """
    items, total = keel.locations.list(
        kind=kind, country=country, active=active, limit=limit, offset=offset, scope=scope
    )
    rows = [LocationPublic.model_validate(x).model_dump() for x in items]
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.get(
    "/locations/{code}",
    response_model=LocationPublic,
    tags=["locations"],
    operation_id="get_location",
    summary="Get a location",
)
def get_location(code: str, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """One location by its code, active or not.

    Refuses an unknown code, or one in a country outside the caller's restrictions (404). Idempotent: a read, it changes
    nothing.
    """
    return LocationPublic.model_validate(keel.locations.get(code, scope))


@router.patch(
    "/locations/{code}",
    response_model=LocationPublic,
    tags=["locations"],
    operation_id="update_location",
    summary="Update a location",
)
def update_location(code: str, body: LocationUpdate, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Changes the fields given; fields left out keep their value. Null keeps name, kind, country, capabilities and
    active, resets ``daily_capacity`` to its kind's default and clears the rest. ``active: false`` deactivates,
    ``true`` reactivates.

    Refuses an unknown code (404), a location or new country outside the caller's restrictions (403) and invalid fields
    (422). Idempotent: the same body again leaves the same location (each call is still audited and announced as
    ``location.updated``).
    """
    changes: LocationChanges = body.model_dump(exclude_unset=True)  # type: ignore[assignment]
    return LocationPublic.model_validate(keel.locations.update(code, changes, scope))


@router.delete(
    "/locations/{code}",
    response_model=LocationPublic,
    tags=["locations"],
    operation_id="deactivate_location",
    summary="Deactivate a location",
)
def deactivate_location(code: str, keel: KeelDep, scope: ScopeDep) -> LocationPublic:
    """Marks the location inactive: movements and reservations naming it are refused from now on. The record stays,
    since the ledger names it; ``PATCH`` with ``active: true`` brings it back.

    Refuses an unknown code (404) and a location outside the caller's restrictions (403). Idempotent: deactivating an
    inactive location answers it unchanged.
    """
    return LocationPublic.model_validate(keel.locations.deactivate(code, scope))


@router.post(
    "/location-groups",
    status_code=201,
    tags=["locations"],
    operation_id="create_location_group",
    summary="Create a location group",
)
def create_group(body: GroupCreate, keel: KeelDep, scope: ScopeDep) -> GroupPublic:
    """Creates a named set of locations that channel availability policies can source from (``groups`` in a policy's
    ``sources``).

    Refuses a group code already in use (409) and unknown member locations (422). Not idempotent: repeating it is
    refused with 409.
    """
    return GroupPublic.model_validate(keel.locations.create_group(body.code, body.name, body.members, scope))


@router.get("/location-groups", tags=["locations"], operation_id="list_location_groups", summary="List location groups")
def list_groups(keel: KeelDep, scope: ScopeDep) -> list[GroupPublic]:
    """Every location group, by code, with the codes of its member locations.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [GroupPublic.model_validate(g) for g in keel.locations.groups(scope)]


@router.put(
    "/location-groups/{code}/members",
    tags=["locations"],
    operation_id="set_location_group_members",
    summary="Replace a group's members",
)
def set_members(code: str, body: GroupMembers, keel: KeelDep, scope: ScopeDep) -> GroupPublic:
    """Replaces the whole member list of a location group; the availability of channels sourcing from the group is
    recomputed.

    Refuses an unknown group (404) and unknown member locations (422). Idempotent: the same list again leaves the same
    members.
    """
    return GroupPublic.model_validate(keel.locations.set_group_members(code, body.members, scope))
