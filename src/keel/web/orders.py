"""Orders pages of the control tower: the list with fulfilment rates, and one order with its timeline and
the routing explanation (candidates considered, why each was rejected, how the plans ranked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.deps import KeelDep
from keel.orders.model import DEAD, Status
from keel.platform.errors import NotFound
from keel.web import params
from keel.web.params import Pager
from keel.web.render import UI, PageRoute, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# Order statuses: a live shipment's, or what is left when none is live (see keel.orders.model.order_status).
STATUSES = frozenset(
    {*(s.value for s in Status if s not in DEAD), Status.CANCELLED.value, "backordered", "partially_backordered"}
)


@router.get(f"{UI}/orders")
def orders_page(
    request: Request,
    keel: KeelDep,
    channel: str | None = None,
    status: str | None = None,
    country: str | None = None,
    since: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    filters = {
        "channel": params.text(channel, "channel"),
        "status": params.choice(status, "status", STATUSES),
        "country": params.country(country),
        "since": params.text(since, "since"),
    }
    created_since = None
    if filters["since"]:
        try:
            created_since = datetime.fromisoformat(filters["since"])
        except ValueError:
            raise params.BadQuery("since", "must be a date such as 2026-05-01") from None
    pager = Pager.parse(page, size)
    items, total = keel.orders.list(
        channel=filters["channel"],
        status=filters["status"],
        country=filters["country"],
        created_since=created_since,
        limit=pager.size,
        offset=pager.offset,
    )
    channels, _ = keel.channels.list(limit=10_000)
    return render(
        request,
        "orders.html",
        {
            "title": "Orders",
            "orders": items,
            "pager": pager.with_total(total),
            "filters": filters,
            "filtered": any(filters.values()),
            "metrics": keel.orders.metrics(
                channel=filters["channel"], country=filters["country"], created_since=created_since
            ),
            "statuses": sorted(STATUSES),
            "channel_codes": [c["code"] for c in channels],
        },
    )


@router.get(UI + "/orders/{order_id}")
def order_page(request: Request, keel: KeelDep, order_id: str) -> Response:
    number = params.integer(order_id, "order", default=0, low=1, high=10**12)
    try:
        order = keel.orders.get(number)
    except NotFound:
        raise NotFound(f"There is no order {order_id}.") from None
    routes: list[dict[str, Any]] = order["routing"]
    return render(request, "order.html", {"title": f"Order {order['id']}", "order": order, "routes": routes})
