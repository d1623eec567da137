"""HTTP API of the orders context: sourcing policies, one document per channel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from keel.access import ScopeDep
from keel.deps import KeelDep
from keel.orders.schemas import (
    SourcingPolicyPublic,
    SourcingPolicyStored,
)
from keel.platform.schemas import Document

router = APIRouter(tags=["orders"])


@router.get(
    "/sourcing-policies",
    response_model=list[SourcingPolicyStored],
    operation_id="list_sourcing_policies",
    summary="List sourcing policies",
)
def list_sourcing_policies(keel: KeelDep, scope: ScopeDep) -> list[SourcingPolicyStored]:
    """The stored sourcing policy documents: one per channel that has its own, and ``*``, the default of every other
    channel.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [SourcingPolicyStored.model_validate(p, from_attributes=True) for p in keel.orders.policies.list(scope)]


@router.get(
    "/sourcing-policies/{channel}",
    response_model=SourcingPolicyPublic,
    operation_id="get_sourcing_policy",
    summary="Get a channel's sourcing policy",
)
def get_sourcing_policy(channel: str, keel: KeelDep, scope: ScopeDep) -> SourcingPolicyPublic:
    """The sourcing policy in effect for a channel (its own, else the ``*`` default, else the built-in one), with every
    filter and number spelled out under ``effective``.

    Refuses an unknown channel (404). Idempotent: a read, it changes nothing.
    """
    return SourcingPolicyPublic.model_validate(keel.orders.policies.get(channel, scope), from_attributes=True)


@router.put(
    "/sourcing-policies/{channel}",
    response_model=SourcingPolicyPublic,
    operation_id="set_sourcing_policy",
    summary="Set a channel's sourcing policy",
)
def set_sourcing_policy(
    channel: str,
    keel: KeelDep,
    scope: ScopeDep,
    body: Annotated[
        Document,
        Body(
            examples=[
                {
                    "filters": [
                        {"kind": "same_country"},
                        {"kind": "max_distance", "km": 800, "same_day_km": 40},
                        {"kind": "store_protection", "min_units": 3},
                        {"kind": "capacity", "headroom": 20},
                    ],
                    "objective": "fewest_splits_then_cost",
                    "max_nodes": 3,
                    "weights": {"split": 2.0, "late": 1.5},
                }
            ]
        ),
    ],
) -> SourcingPolicyPublic:
    """Replaces the channel's sourcing policy (``*``: the default of every channel without its own): filters, objective,
    maximum nodes and weights. It applies to the next order planned: capture, re-routing, backorders and waves.

    Refuses an unknown channel (404) and an invalid document or excluded nodes that are not locations (422). Idempotent:
    the same document again leaves the same policy (each call is still announced).
    """
    return SourcingPolicyPublic.model_validate(keel.orders.policies.set(channel, body, scope), from_attributes=True)


@router.delete(
    "/sourcing-policies/{channel}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_sourcing_policy",
    summary="Drop a channel's sourcing policy",
)
def delete_sourcing_policy(channel: str, keel: KeelDep, scope: ScopeDep) -> Response:
    """Drops the channel's own sourcing policy: it falls back to ``*``, then to the built-in policy. Answers 204 with no
    body.

    Refuses a channel with no policy of its own (404). Not idempotent: a second call answers 404, leaving the same
    state.
    """
    keel.orders.policies.delete(channel, scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
