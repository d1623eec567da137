"""HTTP API of the channel sync engine: configuration, status, the desired state, and operator actions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt

from keel.access import ScopeDep
from keel.channels.sync.api_orders import router as orders_router
from keel.channels.sync.drift import Drift, DriftCheck
from keel.channels.sync.service import ChannelSync, SyncItem
from keel.deps import KeelDep
from keel.platform.schemas import LongText, Number, StrictModel, Text

router = APIRouter(tags=["channel sync"])
CodePath = Annotated[str, Field(max_length=64)]


class SyncSettings(StrictModel):
    """How Keel reaches a channel. The secret signs every request (HMAC-SHA256) and is never shown again."""

    connector: Literal["webhook", "file", "shopify", "amazon"] = "webhook"
    url: LongText = Field(
        examples=["https://hooks.example.com/keel"],
        description="http(s) base URL; file:///absolute/dir for a file feed; an Amazon region's endpoint",
    )
    secret: Text | None = Field(None, description="8-200 printable characters; write-only (a file feed has none)")
    batch_size: StrictInt | None = Field(None, description="updates per request (1-25,000; default 500)")
    rate_limit: StrictInt | None = Field(None, description="requests per window (default 60)")
    window_s: Number | None = Field(None, description="the rate limit's window in seconds (default 60)")
    max_attempts: StrictInt | None = Field(None, description="attempts before a value is a dead letter (default 8)")
    timeout_s: Number | None = Field(None, description="seconds to wait for the channel's answer (default 5)")


class HealthPublic(BaseModel):
    metric: str = Field(
        description="lag_p99_s, error_rate (a share: 0.05 is 5 %), backlog_age_s (requests, last 15 minutes); "
        "cancellation_rate, late_shipment_rate, valid_tracking_rate, on_time_delivery_rate, order_defect_rate "
        "(the seller standards, on the channel's orders)"
    )
    value: float | None = Field(description="over the metric's window (None: no request, or no order, in it)")
    threshold: float = Field(description="the limit, in the metric's direction")
    direction: Literal["at most", "at least"] = Field(description="which side of the threshold is good")
    status: Literal["ok", "breach", "projected", "no data"] = Field(
        description="projected: within the threshold now, beyond it before the window ends on the current trend; "
        "no data: no request, or fewer than 20 orders in an order metric's window"
    )
    projected: float | None = Field(
        description="requests: the value half a window (7.5 minutes) on; orders: the value at the first "
        "crossing, else at the window's end, at the newest slice's pace"
    )
    projected_in_s: float | None = Field(description="projected: seconds until the projection first crosses")
    window_s: float = Field(description="the window the value is measured over, in seconds")
    orders: int | None = Field(description="order metrics: orders counted in the window (None: a request metric)")


class DriftCheckPublic(BaseModel):
    channel: str
    at: datetime
    checked: int = Field(description="values read back from the channel and compared with what Keel pushed")
    differences: int
    corrected: int = Field(description="differences owed to the channel again (Keel's value is pushed)")
    adopted: int = Field(description="differences in a field the channel owns: its value taken as Keel's")
    error: str | None = Field(description="a read that failed: the check stopped there")


class DriftPublic(BaseModel):
    id: int
    country: str
    sku: str
    field: str
    keel_quantity: int | None = Field(description="the value Keel last pushed")
    channel_quantity: int | None = Field(description="the value the channel showed (None: it did not hold it)")
    found_at: datetime
    action: str = Field(description="what Keel did about it")


class DriftPage(BaseModel):
    items: list[DriftPublic]
    next_before: int | None = Field(description="pass as ``before`` for the next (older) page; None: the last")


Rate = Annotated[float, Field(strict=True, ge=0, le=1)]


class Thresholds(StrictModel):
    """A channel's health thresholds; a metric left out keeps its default. A rate is a share, 0-1."""

    lag_p99_s: Number | None = Field(None, description="seconds (default 60)")
    error_rate: Rate | None = Field(None, description="a share of requests (default 0.05)")
    backlog_age_s: Number | None = Field(None, description="seconds (default 300)")
    cancellation_rate: Rate | None = Field(None, description="at most, orders placed in 7 days (default 0.025)")
    late_shipment_rate: Rate | None = Field(None, description="at most, orders due to ship in 10 days (0.04)")
    valid_tracking_rate: Rate | None = Field(None, description="at least, orders shipped in 30 days (0.99)")
    on_time_delivery_rate: Rate | None = Field(None, description="at least, orders delivered in 30 days (0.90)")
    order_defect_rate: Rate | None = Field(None, description="at most, orders placed in 60 days (default 0.01)")


class ChannelSyncPublic(BaseModel):
    channel: str
    connector: str
    url: str
    batch_size: int
    rate_limit: int
    window_s: float
    max_attempts: int
    paused: bool
    owner: str | None = Field(description="the worker pushing to this channel now (None: none holds it)")
    pending: int = Field(description="values owed to the channel (the backlog)")
    synced: int
    dead: int = Field(description="dead letters: values given up after max_attempts or refused for good")
    oldest_pending_at: datetime | None = Field(description="when the oldest value still owed changed")
    lag_p50_s: float | None = Field(description="change committed -> channel accepted, last 15 minutes")
    lag_p99_s: float | None
    requests: int = Field(description="requests sent in the last 15 minutes")
    errors: int = Field(description="requests that failed as a whole in the last 15 minutes")
    last_error: str | None
    retry_at: datetime | None = Field(description="no request before this (backoff or the channel's Retry-After)")
    health: list[HealthPublic] = Field(
        description="each metric against the channel's threshold: the request metrics, then the seller standards"
    )
    drift: DriftCheckPublic | None = Field(description="the latest drift check (None: never checked)")
    drift_found_24h: int = Field(description="differences found by drift checks in the last 24 hours")
    drift_corrected_24h: int = Field(description="of which pushed again (the rest adopted from the channel)")
    updates_pending: int = Field(description="order updates (shipments, cancellations, refunds) still owed")
    updates_sent: int
    updates_dead: int = Field(description="order updates given up on (retry brings them back)")


class SyncItemPublic(BaseModel):
    country: str
    sku: str
    quantity: int
    content: str | None
    version: int
    pushed_version: int
    pushed_quantity: int | None
    state: str
    attempts: int
    due_at: datetime
    last_error: str | None
    changed_at: datetime
    pushed_at: datetime | None
    price: str | None = Field(
        None, description="the pricing engine's price, a decimal string in the channel's currency"
    )


class SyncItemPage(BaseModel):
    items: list[SyncItemPublic]
    next_after: str | None = Field(description="pass as ``after`` for the next page (None: this is the last)")


class SyncAction(BaseModel):
    channel: str
    changed: int = Field(description="rows or flags the action changed (0: nothing to do)")


def public(s: ChannelSync) -> ChannelSyncPublic:
    caps = s.capabilities
    return ChannelSyncPublic(
        channel=s.channel,
        connector=s.connector,
        url=s.url,
        batch_size=caps.batch_size,
        rate_limit=caps.rate_limit,
        window_s=caps.window_s,
        max_attempts=s.max_attempts,
        paused=s.paused,
        owner=s.owner,
        pending=s.pending,
        synced=s.synced,
        dead=s.dead,
        oldest_pending_at=s.oldest_pending_at,
        lag_p50_s=s.lag_p50_s,
        lag_p99_s=s.lag_p99_s,
        requests=s.requests,
        errors=s.errors,
        last_error=s.last_error,
        retry_at=s.retry_at,
        health=[HealthPublic(**h.__dict__) for h in s.health],
        drift=check(s.drift) if s.drift is not None else None,
        drift_found_24h=s.drift_found_24h,
        drift_corrected_24h=s.drift_corrected_24h,
        updates_pending=s.updates_pending,
        updates_sent=s.updates_sent,
        updates_dead=s.updates_dead,
    )


def check(c: DriftCheck) -> DriftCheckPublic:
    return DriftCheckPublic(**c.__dict__)


def drift(d: Drift) -> DriftPublic:
    return DriftPublic(**d.__dict__)


def item(i: SyncItem) -> SyncItemPublic:
    return SyncItemPublic(**{k: v for k, v in i.__dict__.items() if k != "channel"})


@router.get(
    "/sync/channels",
    response_model=list[ChannelSyncPublic],
    operation_id="list_channel_sync",
    summary="Sync status of every channel",
)
def list_sync(keel: KeelDep, scope: ScopeDep) -> list[ChannelSyncPublic]:
    """Every channel with a sync configuration (that the caller sees): backlog, dead letters, lag p50/p99 and
    errors over the last 15 minutes, the worker holding it, paused or not.

    Refuses nothing but callers without access. Idempotent: a read, it changes nothing.
    """
    return [public(s) for s in keel.sync.status(scope)]


@router.get(
    "/sync/channels/{code}",
    response_model=ChannelSyncPublic,
    operation_id="get_channel_sync",
    summary="Sync status of a channel",
)
def get_sync(code: CodePath, keel: KeelDep, scope: ScopeDep) -> ChannelSyncPublic:
    """One channel's sync status.

    Refuses a channel without a sync configuration or outside the caller's restrictions (404). Idempotent.
    """
    return public(keel.sync.channel(code, scope))


@router.put(
    "/sync/channels/{code}",
    response_model=ChannelSyncPublic,
    operation_id="configure_channel_sync",
    summary="Configure a channel's sync",
)
def configure_sync(code: CodePath, body: SyncSettings, keel: KeelDep, scope: ScopeDep) -> ChannelSyncPublic:
    """Sets how Keel pushes to the channel: connector, URL, signing secret and the channel's limits. The first
    configuration owes the channel every listing it has now; the pump starts pushing at once.

    Refuses an unknown channel (404), one outside the caller's restrictions (403) and bad settings (422).
    Idempotent: the same body again changes nothing.
    """
    doc = body.model_dump(exclude_none=True)
    return public(keel.sync.configure(code, doc, scope))


def _action(name: str, summary: str, doc: str) -> None:
    def act(code: CodePath, keel: KeelDep, scope: ScopeDep) -> SyncAction:
        done = getattr(keel.sync, name)(code, scope)
        return SyncAction(channel=code, changed=int(done))

    act.__doc__ = doc
    router.post(
        f"/sync/channels/{{code}}/{name.replace('_dead', '')}",
        response_model=SyncAction,
        operation_id=f"{name}_channel_sync",
        summary=summary,
    )(act)


_action(
    "pause",
    "Pause a channel's sync",
    "Stops pushing to the channel; changes keep coalescing into its desired state.\n\nRefuses a channel without "
    "a sync configuration (404). Idempotent: ``changed`` is 0 when it was paused already.",
)
_action(
    "resume",
    "Resume a channel's sync",
    "Pushes again, starting with the latest value of everything owed.\n\nRefuses a channel without a sync "
    "configuration (404). Idempotent: ``changed`` is 0 when it was not paused.",
)
_action(
    "resync",
    "Resync a channel in full",
    "Owes the channel every listing again, from Keel's current availability.\n\nRefuses a channel without a "
    "sync configuration (404). Idempotent in effect: the channel ends with the same values.",
)
_action(
    "retry_dead",
    "Retry a channel's dead letters",
    "Gives every dead letter of the channel a fresh round of attempts.\n\nRefuses a channel without a sync "
    "configuration (404). Idempotent: ``changed`` is 0 when there are none.",
)


@router.get(
    "/sync/channels/{code}/items",
    response_model=SyncItemPage,
    operation_id="list_channel_sync_items",
    summary="A channel's desired state",
)
def list_items(
    code: CodePath,
    keel: KeelDep,
    scope: ScopeDep,
    state: Literal["pending", "synced", "dead"] | None = None,
    after: Annotated[str | None, Query(max_length=80, description="``next_after`` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SyncItemPage:
    """What Keel wants the channel to show per (country, SKU), with the version the channel holds, attempts and
    the last error, in SKU order one page at a time; ``state`` filters (``dead``: the dead letters).

    Refuses a channel without a sync configuration (404) and paging values out of range (422). Idempotent.
    """
    key = None
    if after:
        sku, _, country = after.rpartition("@")
        key = (sku, country)
    rows = keel.sync.items(code, state, key, limit, scope)
    last = rows[-1] if len(rows) == limit else None
    return SyncItemPage(items=[item(r) for r in rows], next_after=f"{last.sku}@{last.country}" if last else None)


@router.post(
    "/sync/channels/{code}/drift",
    response_model=DriftCheckPublic,
    operation_id="check_channel_sync_drift",
    summary="Check a channel for drift now",
)
def check_drift(code: CodePath, keel: KeelDep, scope: ScopeDep) -> DriftCheckPublic:
    """Reads the channel's values back, compares them with what Keel last pushed, records every difference and
    corrects it (owes Keel's value again, or adopts the channel's for a field the channel owns). A read that
    fails is reported in ``error``; what was compared until then counts.

    Refuses a channel without a sync configuration (404) and one whose connector cannot read back (409).
    Safe to repeat: a second check finds only what is still different.
    """
    return check(keel.sync.check_drift(code, scope))


@router.get(
    "/sync/channels/{code}/drift",
    response_model=DriftPage,
    operation_id="list_channel_sync_drift",
    summary="A channel's recorded drift",
)
def list_drift(
    code: CodePath,
    keel: KeelDep,
    scope: ScopeDep,
    before: Annotated[int | None, Query(ge=1, description="``next_before`` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DriftPage:
    """The differences drift checks found between the channel and what Keel pushed, newest first, with what
    Keel did about each.

    Refuses a channel without a sync configuration (404) and paging values out of range (422). Idempotent.
    """
    rows = keel.sync.drift_found(code, before, limit, scope)
    return DriftPage(items=[drift(d) for d in rows], next_before=rows[-1].id if len(rows) == limit else None)


@router.put(
    "/sync/channels/{code}/thresholds",
    response_model=dict[str, float],
    operation_id="set_channel_sync_thresholds",
    summary="Set a channel's health thresholds",
)
def set_thresholds(code: CodePath, body: Thresholds, keel: KeelDep, scope: ScopeDep) -> dict[str, float]:
    """Sets the limits the channel's health metrics are judged against; a metric left out uses its default
    (lag p99 60 s, error rate 0.05, backlog age 300 s; the seller standards' published limits, e.g.
    cancellation rate 0.025: set 0.02 for a marketplace that asks for 2 %). Returns the thresholds in force.

    Refuses a channel without a sync configuration (404) and values out of range (422). Idempotent.
    """
    return keel.sync.set_thresholds(code, body.model_dump(exclude_none=True), scope)


router.include_router(orders_router)  # the channels' order webhook (api_orders.py)
