"""Catalog pages of the control tower: the product list with completeness per channel and its filters, one
product with its values per locale, its listing per channel with the reasons, and its history with a readable
diff between two revisions, and the channels' readiness with the reasons that block most.

Products span every channel; what a restricted viewer sees of them (completeness, listings, readiness) covers
only its channels.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from keel.bootstrap import Keel
from keel.catalog import ProductQuery, show
from keel.deps import KeelDep
from keel.platform.errors import NotFound
from keel.platform.scope import Scope
from keel.web import params
from keel.web.params import Pager
from keel.web.render import UI, PageRoute, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
CATALOG = f"{UI}/catalog"
TOP_REASONS = 5


def _require_target(keel: Keel, channel: str, scope: Scope) -> None:
    if channel not in {t.channel for t in keel.catalog.targets(scope)}:
        raise NotFound(f"No channel {channel!r} lists the catalog (it has no target, or is not yours to see).")


@router.get(CATALOG)
def products_page(
    request: Request,
    keel: KeelDep,
    q: str | None = None,
    family: str | None = None,
    brand: str | None = None,
    blocked_on: str | None = None,
    missing: str | None = None,
    rule: str | None = None,
    page: str | None = None,
    size: str | None = None,
) -> Response:
    scope = page_scope(request)
    families = [f.code for f in keel.catalog.families()]
    filters = {
        "q": params.text(q, "q"),
        "family": params.choice(family, "family", frozenset(families)),
        "brand": params.text(brand, "brand"),
        "blocked_on": params.text(blocked_on, "blocked_on"),
        "missing": params.text(missing, "missing"),
        "rule": params.text(rule, "rule"),
    }
    if filters["blocked_on"]:
        _require_target(keel, filters["blocked_on"], scope)
    pager = Pager.parse(page, size)
    query = ProductQuery(
        filters["family"], filters["brand"], filters["q"], filters["blocked_on"], filters["missing"], filters["rule"]
    )
    rows, total = keel.catalog.browse(query, limit=pager.size, offset=pager.offset, scope=scope)
    targets = keel.catalog.targets(scope)
    return render(
        request,
        "catalog.html",
        {
            "title": "Catalog",
            "products": rows,
            "pager": pager.with_total(total),
            "filters": filters,
            "filtered": any(filters.values()),
            "families": families,
            "brands": keel.catalog.brands(),
            "channels": [t.channel for t in targets],
        },
    )


@router.get(f"{CATALOG}/readiness")
def readiness_page(request: Request, keel: KeelDep) -> Response:
    scope = page_scope(request)
    channels = keel.catalog.readiness(top=TOP_REASONS, scope=scope)
    rows = []
    for c in channels:
        # a top reason reads "<rule id>: <message>"; rule ids hold no ": ", so the first one splits them
        reasons = [(*text.partition(": ")[::2], count) for text, count in c.top_reasons]
        listed = c.ready + c.blocked
        rows.append({"channel": c, "listed": listed, "share": c.ready / listed if listed else None, "reasons": reasons})
    ready = sum(c.ready for c in channels)
    blocked = sum(c.blocked for c in channels)
    return render(
        request,
        "catalog_readiness.html",
        {
            "title": "Channel readiness",
            "rows": rows,
            "ready": ready,
            "blocked": blocked,
            "share": ready / (ready + blocked) if ready + blocked else None,
        },
    )


@router.get(CATALOG + "/products/{code}")
def product_page(
    request: Request,
    keel: KeelDep,
    code: str,
    since: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
) -> Response:
    scope = page_scope(request)
    try:
        detail = keel.catalog.detail(code, scope)
    except NotFound:
        raise NotFound(f"There is no product {code!r}.") from None
    last = detail.revision
    newer = params.integer(to, "to", default=last, low=1, high=last)
    older = params.integer(since, "from", default=max(1, newer - 1), low=1, high=last)
    changes = keel.catalog.diff(code, older, newer) if older != newer else ()
    diff = [
        (c.path, show(c.before) if c.before is not None else None, show(c.after) if c.after is not None else None)
        for c in changes
    ]
    return render(
        request,
        "catalog_product.html",
        {
            "title": f"Product {detail.code}",
            "p": detail,
            "older": older,
            "newer": newer,
            "diff": diff,
            "numbers": list(range(last, 0, -1)),
        },
    )
