"""Pricing pages of the control tower: the price lists, the policies and every computed price a page at a time
(filtered by channel, country and SKU), and one price with its explanation: the list it came from, each rule
that moved it, its hard floor and its tax split. Amounts show in their currency's own decimals."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from keel.deps import KeelDep
from keel.platform.clock import utcnow
from keel.platform.errors import NotFound
from keel.platform.money import plain
from keel.pricing import STANDARD_RATES
from keel.web import params
from keel.web.render import UI, PageRoute, page_scope, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
PRICING = f"{UI}/pricing"
SIZES = (25, 50, 100, 200)
RULE_WORDS = {
    "price_list": "Price list",
    "cost_plus": "Margin floor",
    "map": "Minimum advertised price",
    "parity": "Channel parity",
    "max_change_per_day": "Maximum change per day",
    "competitor": "Competitor band",
    "markdown": "Stock markdown",
    "no_discount_when_short": "No discount when short",
    "floor": "Hard floor",
    "ending": "Price ending",
    "promotion": "Published promotion",
}


def money(minor: int | None, currency: str) -> str:
    return "\N{EN DASH}" if minor is None else f"{plain(minor, currency)} {currency}"


def _rules(rules: list[dict[str, Any]]) -> str:
    """A policy's rules as a line an operator reads."""
    words = []
    for r in rules:
        kind = r.get("rule")
        if kind == "cost_plus":
            words.append(f"margin floor {float(r['margin_floor']):.0%} on cost")
        elif kind == "map":
            words.append(f"minimum advertised prices of {r['list']}")
        elif kind == "parity":
            words.append(f"within {float(r['within']):.0%} of {r['channel']}")
        elif kind == "max_change_per_day":
            words.append(f"at most {float(r['limit']):.0%} change a day")
        elif kind == "competitor":
            index = float(r.get("index", "1"))
            of = "" if index == 1 else f"{index:.0%} of "
            words.append(f"within {float(r['within']):.0%} of {of}the {r.get('of', 'lowest')} competitor price")
        elif kind == "markdown":
            words.append(f"{float(r['percent']):.0%} off above {r['cover_days_above']} days of cover")
        elif kind == "no_discount_when_short":
            words.append(f"no discount under {r['cover_days_below']} days of cover")
        elif kind == "ending":
            words.append("price endings" + (" (own)" if r.get("endings") else ""))
    return "; ".join(words) + ("; " if words else "") + "then the currency's price ending"


@router.get(PRICING)
def pricing_page(
    request: Request,
    keel: KeelDep,
    channel: str | None = None,
    country: str | None = None,
    sku: str | None = None,
    size: str | None = None,
    offset: str | None = None,
) -> Response:
    shown = {k: params.text(v, k) for k, v in (("channel", channel), ("country", country), ("sku", sku))}
    rows = params.integer(size, "size", default=50, low=1, high=SIZES[-1])
    skip = params.integer(offset, "offset", default=0, low=0, high=10**9)
    within = page_scope(request)
    prices, total = keel.pricing.prices(shown["channel"], shown["country"], shown["sku"], rows, skip, within)
    context = {
        "title": "Pricing",
        "lists": keel.pricing.lists(),
        "policies": [(p.scope, _rules(p.rules), p.updated_at) for p in keel.pricing.policies()],
        "prices": prices,
        "total": total,
        "all_prices": total if not any(shown.values()) else keel.pricing.prices(limit=1, within=within)[1],
        "shown": shown,
        "size": rows,
        "sizes": SIZES,
        "offset": skip,
        "money": money,
        "now": utcnow(),
    }
    return render(request, "pricing.html", context)


@router.get(PRICING + "/prices/{channel}/{country}/{sku:path}")
def price_page(request: Request, keel: KeelDep, channel: str, country: str, sku: str) -> Response:
    try:
        explained = keel.pricing.explain(channel, country, sku, page_scope(request))
    except NotFound:
        raise NotFound(
            f"{sku} has no price on {channel} in {country}: no price list of the channel's currency prices it "
            f"there. See the price lists on {PRICING}."
        ) from None
    price = explained.price
    context = {
        "title": f"{sku} on {channel} ({country})",
        "p": price,
        "steps": [(RULE_WORDS.get(s.rule, s.rule), s) for s in price.steps],
        "split": explained.taxed,
        "rate": explained.taxed.rate,
        "tax_class": explained.tax_class,
        "default_rate": STANDARD_RATES.get(country) if explained.tax_class == "standard" else None,
        "money": money,
        "back": f"{PRICING}?channel={quote(channel)}&country={quote(country)}",
    }
    return render(request, "pricing_price.html", context)
