"""THE table of who may call what: every HTTP route and page maps to a permission or to PUBLIC.

``keel.api.create_app`` refuses to start when a route of the app is missing here (or a row here names no
route), so a new route cannot ship without a decision. HEAD has no rows: every GET route answers HEAD
(``keel.platform.head``) under its GET row's rule (``Guard.rule``). Public, and why:
- ``/healthz``: load balancers and orchestrators probe it without credentials; it tells nothing private.
- ``/ui/login`` (GET and POST): one cannot log in after logging in.
- ``/static/*``: the stylesheet, icons, scripts and the vendored Swagger UI; no data.
- ``/docs`` and ``/openapi.json``: the API's shape is published in the repository anyway; no data.
- ``POST /sync/channels/{code}/orders``: a channel's order webhook. A marketplace holds no Keel token; the
  route itself refuses (401) a body not signed with the secret of the channel's sync configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from keel.access.model import (
    ACCESS_ADMIN,
    ACCESS_SELF,
    AUDIT_READ,
    CATALOG_READ,
    CATALOG_WRITE,
    CHANNELS_READ,
    CHANNELS_WRITE,
    FX_READ,
    FX_WRITE,
    GEO_READ,
    INVENTORY_READ,
    INVENTORY_RESERVE,
    INVENTORY_WRITE,
    LOCATIONS_READ,
    LOCATIONS_WRITE,
    MEDIA_READ,
    MEDIA_WRITE,
    METRICS_READ,
    ORDERS_PLAN,
    ORDERS_POLICIES,
    ORDERS_READ,
    ORDERS_WRITE,
    PLANNING_READ,
    PLANNING_WRITE,
    PRICING_CARTS,
    PRICING_READ,
    PRICING_WRITE,
    TOWER_READ,
)


@dataclass(frozen=True)
class Rule:
    """``permission`` None: public. ``page``: a browser page (anonymous -> login redirect, not 401)."""

    permission: str | None
    page: bool = False


PUBLIC = Rule(None)


def page(permission: str | None) -> Rule:
    return Rule(permission, page=True)


ROUTES: dict[tuple[str, str], Rule] = {
    # platform
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): Rule(METRICS_READ),
    ("GET", "/docs"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    # access
    ("GET", "/access/me"): Rule(ACCESS_SELF),
    ("GET", "/access/identities"): Rule(ACCESS_ADMIN),
    ("GET", "/access/tokens"): Rule(ACCESS_ADMIN),
    # inventory
    ("GET", "/availability/{sku}"): Rule(INVENTORY_READ),
    ("POST", "/availability/query"): Rule(INVENTORY_READ),  # a read with a body
    ("POST", "/locations"): Rule(LOCATIONS_WRITE),
    ("GET", "/locations"): Rule(LOCATIONS_READ),
    ("GET", "/locations/{code}"): Rule(LOCATIONS_READ),
    ("PATCH", "/locations/{code}"): Rule(LOCATIONS_WRITE),
    ("DELETE", "/locations/{code}"): Rule(LOCATIONS_WRITE),
    ("POST", "/location-groups"): Rule(LOCATIONS_WRITE),
    ("GET", "/location-groups"): Rule(LOCATIONS_READ),
    ("PUT", "/location-groups/{code}/members"): Rule(LOCATIONS_WRITE),
    ("POST", "/inventory/movements"): Rule(INVENTORY_WRITE),
    ("GET", "/inventory/movements"): Rule(INVENTORY_READ),
    ("GET", "/inventory/positions"): Rule(INVENTORY_READ),
    ("POST", "/inventory/reservations"): Rule(INVENTORY_RESERVE),
    ("GET", "/inventory/reservations/{rid}"): Rule(INVENTORY_READ),
    ("POST", "/inventory/reservations/{rid}/release"): Rule(INVENTORY_RESERVE),
    ("POST", "/inventory/reservations/{rid}/commit"): Rule(INVENTORY_RESERVE),
    ("POST", "/inventory/counts"): Rule(INVENTORY_WRITE),
    ("GET", "/inventory/accuracy"): Rule(INVENTORY_READ),
    # channels
    ("POST", "/channels"): Rule(CHANNELS_WRITE),
    ("GET", "/channels"): Rule(CHANNELS_READ),
    ("GET", "/channels/{code}"): Rule(CHANNELS_READ),
    ("PATCH", "/channels/{code}"): Rule(CHANNELS_WRITE),
    ("DELETE", "/channels/{code}"): Rule(CHANNELS_WRITE),
    # channel sync
    ("GET", "/sync/channels"): Rule(CHANNELS_READ),
    ("GET", "/sync/channels/{code}"): Rule(CHANNELS_READ),
    ("PUT", "/sync/channels/{code}"): Rule(CHANNELS_WRITE),
    ("POST", "/sync/channels/{code}/pause"): Rule(CHANNELS_WRITE),
    ("POST", "/sync/channels/{code}/resume"): Rule(CHANNELS_WRITE),
    ("POST", "/sync/channels/{code}/resync"): Rule(CHANNELS_WRITE),
    ("POST", "/sync/channels/{code}/retry"): Rule(CHANNELS_WRITE),
    ("GET", "/sync/channels/{code}/items"): Rule(CHANNELS_READ),
    # a channel's order webhook: no Keel credentials, the channel's HMAC signature is checked by the route
    ("POST", "/sync/channels/{code}/orders"): PUBLIC,
    ("POST", "/sync/channels/{code}/drift"): Rule(CHANNELS_WRITE),
    ("GET", "/sync/channels/{code}/drift"): Rule(CHANNELS_READ),
    ("GET", "/sync/channels/{code}/order-updates"): Rule(CHANNELS_READ),
    ("PUT", "/sync/channels/{code}/thresholds"): Rule(CHANNELS_WRITE),
    # orders
    ("POST", "/orders"): Rule(ORDERS_WRITE),
    ("GET", "/orders"): Rule(ORDERS_READ),
    ("GET", "/orders/metrics"): Rule(ORDERS_READ),
    ("GET", "/audit"): Rule(AUDIT_READ),
    ("GET", "/audit/export.csv"): Rule(AUDIT_READ),
    ("GET", "/audit/{seq}"): Rule(AUDIT_READ),
    ("POST", "/orders/waves"): Rule(ORDERS_PLAN),
    ("POST", "/orders/backorders/fill"): Rule(ORDERS_PLAN),
    ("GET", "/orders/{order_id}"): Rule(ORDERS_READ),
    ("POST", "/orders/{order_id}/allocations/{number}/pick"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/allocations/{number}/pack"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/allocations/{number}/ship"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/allocations/{number}/deliver"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/allocations/{number}/reject"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/cancel"): Rule(ORDERS_WRITE),
    ("POST", "/orders/{order_id}/returns"): Rule(ORDERS_WRITE),
    ("GET", "/returns/{rma}"): Rule(ORDERS_READ),
    ("POST", "/returns/{rma}/receive"): Rule(ORDERS_WRITE),
    ("POST", "/returns/{rma}/refund"): Rule(ORDERS_WRITE),
    ("GET", "/sourcing-policies"): Rule(ORDERS_READ),
    ("GET", "/sourcing-policies/{channel}"): Rule(ORDERS_READ),
    ("PUT", "/sourcing-policies/{channel}"): Rule(ORDERS_POLICIES),
    ("DELETE", "/sourcing-policies/{channel}"): Rule(ORDERS_POLICIES),
    # geo
    ("GET", "/geo/postal-codes/{country}/{code}"): Rule(GEO_READ),
    # fx
    ("GET", "/fx/rates"): Rule(FX_READ),
    ("POST", "/fx/rates"): Rule(FX_WRITE),
    # pricing
    ("GET", "/pricing/lists"): Rule(PRICING_READ),
    ("GET", "/pricing/lists/{code}"): Rule(PRICING_READ),
    ("PUT", "/pricing/lists/{code}"): Rule(PRICING_WRITE),
    ("DELETE", "/pricing/lists/{code}"): Rule(PRICING_WRITE),
    ("PUT", "/pricing/skus"): Rule(PRICING_WRITE),
    ("GET", "/pricing/tax-rates"): Rule(PRICING_READ),
    ("PUT", "/pricing/tax-rates/{country}/{tax_class}"): Rule(PRICING_WRITE),
    ("GET", "/pricing/policies"): Rule(PRICING_READ),
    ("GET", "/pricing/policies/{scope}"): Rule(PRICING_READ),
    ("PUT", "/pricing/policies/{scope}"): Rule(PRICING_WRITE),
    ("POST", "/pricing/policies/{scope}/preview"): Rule(PRICING_WRITE),  # weighs sales of every channel
    ("DELETE", "/pricing/policies/{scope}"): Rule(PRICING_WRITE),
    ("GET", "/pricing/competitor-prices"): Rule(PRICING_READ),
    ("PUT", "/pricing/competitor-prices"): Rule(PRICING_WRITE),
    ("GET", "/pricing/prices"): Rule(PRICING_READ),
    ("GET", "/pricing/prices/{channel}/{country}/{sku:path}"): Rule(PRICING_READ),
    ("POST", "/pricing/recompute"): Rule(PRICING_WRITE),
    ("GET", "/pricing/promotions"): Rule(PRICING_READ),
    ("GET", "/pricing/promotions/{code}"): Rule(PRICING_READ),
    ("PUT", "/pricing/promotions/{code}"): Rule(PRICING_WRITE),
    ("DELETE", "/pricing/promotions/{code}"): Rule(PRICING_WRITE),
    ("POST", "/pricing/promotions/{code}/codes"): Rule(PRICING_WRITE),
    ("GET", "/pricing/promotions/{code}/codes"): Rule(PRICING_WRITE),  # codes can be spent: their owners only
    # a shop's, an app's or a till's checkout; a restricted caller prices and redeems carts of its own
    # channels and countries only (the service checks the cart's channel and country)
    ("POST", "/pricing/carts/evaluate"): Rule(PRICING_CARTS),
    ("POST", "/pricing/carts/redeem/{reference}"): Rule(PRICING_CARTS),
    ("POST", "/pricing/carts/orders/{order_id}"): Rule(PRICING_CARTS),
    # a what-if replays orders of every channel: the pricing team's, like saving the promotion
    ("POST", "/pricing/promotions/{code}/preview"): Rule(PRICING_WRITE),
    # planning
    ("GET", "/planning/policies"): Rule(PLANNING_READ),
    ("PUT", "/planning/policies"): Rule(PLANNING_WRITE),
    ("POST", "/planning/runs"): Rule(PLANNING_WRITE),
    ("GET", "/planning/runs"): Rule(PLANNING_READ),
    ("GET", "/planning/suggestions"): Rule(PLANNING_READ),
    ("GET", "/planning/suggestions/{suggestion_id}"): Rule(PLANNING_READ),
    ("POST", "/planning/suggestions/{suggestion_id}/accept"): Rule(PLANNING_WRITE),
    ("POST", "/planning/suggestions/{suggestion_id}/reject"): Rule(PLANNING_WRITE),
    ("POST", "/planning/suggestions/{suggestion_id}/receive"): Rule(PLANNING_WRITE),
    ("GET", "/planning/history"): Rule(PLANNING_READ),
    ("GET", "/planning/forecast"): Rule(PLANNING_READ),
    ("GET", "/planning/forecast/country"): Rule(PLANNING_READ),
    ("POST", "/planning/history"): Rule(PLANNING_WRITE),
    ("GET", "/planning/automation"): Rule(PLANNING_READ),
    ("GET", "/planning/automation/{country}"): Rule(PLANNING_READ),
    ("PUT", "/planning/automation/{country}"): Rule(PLANNING_WRITE),
    ("POST", "/planning/automation/{country}/runs"): Rule(PLANNING_WRITE),
    ("GET", "/planning/automation-actions"): Rule(PLANNING_READ),
    # media
    ("GET", "/media/accounts"): Rule(MEDIA_READ),
    ("GET", "/media/accounts/{code}"): Rule(MEDIA_READ),
    ("PUT", "/media/setup"): Rule(MEDIA_WRITE),
    ("GET", "/media/campaigns"): Rule(MEDIA_READ),
    ("GET", "/media/campaigns/{code}"): Rule(MEDIA_READ),
    ("PUT", "/media/performance"): Rule(MEDIA_WRITE),
    ("POST", "/media/performance/csv"): Rule(MEDIA_WRITE),
    ("GET", "/media/performance"): Rule(MEDIA_READ),
    ("GET", "/media/rules"): Rule(MEDIA_READ),
    ("PUT", "/media/rules/{name}"): Rule(MEDIA_WRITE),
    ("DELETE", "/media/rules/{name}"): Rule(MEDIA_WRITE),
    ("GET", "/media/guardrails"): Rule(MEDIA_READ),
    ("PUT", "/media/guardrails"): Rule(MEDIA_WRITE),
    ("GET", "/media/actions"): Rule(MEDIA_READ),
    ("POST", "/media/actions/{action_id}/approve"): Rule(MEDIA_WRITE),
    ("POST", "/media/actions/{action_id}/reject"): Rule(MEDIA_WRITE),
    ("GET", "/media/states"): Rule(MEDIA_READ),
    ("POST", "/media/states/{level}/{code}/resolve"): Rule(MEDIA_WRITE),
    ("POST", "/media/states/{level}/{code}/retry"): Rule(MEDIA_WRITE),
    ("GET", "/media/savings"): Rule(MEDIA_READ),
    # catalog
    ("GET", "/catalog/gtins/{gtin}"): Rule(CATALOG_READ),
    ("GET", "/catalog/families"): Rule(CATALOG_READ),
    ("GET", "/catalog/families/{code}"): Rule(CATALOG_READ),
    ("PUT", "/catalog/families/{code}"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/categories"): Rule(CATALOG_READ),
    ("PUT", "/catalog/categories/{code}"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/profiles"): Rule(CATALOG_READ),
    ("GET", "/catalog/profiles/{code}"): Rule(CATALOG_READ),
    ("PUT", "/catalog/profiles/{code}"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/products/{code}/compliance"): Rule(CATALOG_READ),
    ("GET", "/catalog/products"): Rule(CATALOG_READ),
    ("GET", "/catalog/products/{code}"): Rule(CATALOG_READ),
    ("PUT", "/catalog/products/{code}"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/products/{code}/revisions"): Rule(CATALOG_READ),
    ("GET", "/catalog/products/{code}/revisions/{number}"): Rule(CATALOG_READ),
    ("GET", "/catalog/products/{code}/diff"): Rule(CATALOG_READ),
    ("POST", "/catalog/products/{code}/revert"): Rule(CATALOG_WRITE),
    ("POST", "/catalog/imports"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/targets"): Rule(CATALOG_READ),
    ("PUT", "/catalog/targets/{channel}"): Rule(CATALOG_WRITE),
    ("GET", "/catalog/listings"): Rule(CATALOG_READ),
    ("GET", "/catalog/readiness"): Rule(CATALOG_READ),
    ("GET", "/catalog/feeds/{channel}"): Rule(CATALOG_READ),
    ("GET", "/catalog/feeds/{channel}/summary"): Rule(CATALOG_READ),
    # pages
    ("GET", "/ui/login"): page(None),
    ("POST", "/ui/login"): page(None),
    ("POST", "/ui/logout"): page(ACCESS_SELF),
    ("GET", "/"): page(TOWER_READ),
    ("GET", "/ui/stock"): page(TOWER_READ),
    ("GET", "/ui/inventory"): page(INVENTORY_READ),
    ("GET", "/ui/availability"): page(INVENTORY_READ),
    ("GET", "/ui/availability/{sku:path}"): page(INVENTORY_READ),
    ("GET", "/ui/locations"): page(LOCATIONS_READ),
    ("GET", "/ui/channels"): page(CHANNELS_READ),
    ("GET", "/ui/orders"): page(ORDERS_READ),
    ("GET", "/ui/orders/waves"): page(ORDERS_READ),  # a preview is a dry run: it writes nothing
    ("POST", "/ui/orders/waves"): page(ORDERS_PLAN),
    ("GET", "/ui/orders/{order_id}"): page(ORDERS_READ),
    ("GET", "/ui/audit"): page(AUDIT_READ),
    ("GET", "/ui/audit/{seq}"): page(AUDIT_READ),
    ("GET", "/ui/catalog"): page(CATALOG_READ),
    ("GET", "/ui/catalog/readiness"): page(CATALOG_READ),
    ("GET", "/ui/catalog/products/{code}"): page(CATALOG_READ),
    ("GET", "/ui/sync"): page(CHANNELS_READ),
    ("GET", "/ui/sync/{code}"): page(CHANNELS_READ),
    ("POST", "/ui/sync/{code}/{action}"): page(CHANNELS_WRITE),  # pause, resume, resync, retry, drift
    ("GET", "/ui/pricing"): page(PRICING_READ),
    ("GET", "/ui/pricing/prices/{channel}/{country}/{sku:path}"): page(PRICING_READ),
    ("GET", "/ui/pricing/promotions"): page(PRICING_READ),
    ("GET", "/ui/pricing/promotions/{code}"): page(PRICING_READ),
    ("GET", "/ui/pricing/cart"): page(PRICING_READ),  # a simulation: evaluates a cart, counts nothing
    # media pages
    ("GET", "/ui/planning"): page(PLANNING_READ),
    ("GET", "/ui/planning/suggestions/{suggestion_id}"): page(PLANNING_READ),
    ("POST", "/ui/planning/suggestions/{suggestion_id}/{decision}"): page(PLANNING_WRITE),  # accept/reject/receive
    ("POST", "/ui/planning/run"): page(PLANNING_WRITE),
    ("GET", "/ui/planning/automation"): page(PLANNING_READ),
    ("GET", "/ui/planning/forecast"): page(PLANNING_READ),
    ("GET", "/ui/planning/forecast/country"): page(PLANNING_READ),
    ("POST", "/ui/planning/automation/rule"): page(PLANNING_WRITE),
    ("POST", "/ui/planning/automation/run"): page(PLANNING_WRITE),
    ("GET", "/ui/media"): page(MEDIA_READ),
    ("GET", "/ui/media/campaigns/{code}"): page(MEDIA_READ),
    ("GET", "/ui/media/actions"): page(MEDIA_READ),
    ("POST", "/ui/media/actions/{action_id}/{decision}"): page(MEDIA_WRITE),  # approve or reject
    ("POST", "/ui/media/drift/{level}/{code}/{keep}"): page(MEDIA_WRITE),  # keep Keel's or the platform's state
    ("GET", "/ui/media/savings"): page(MEDIA_READ),
}

# Mounted static directories (no route table of their own): public, they hold no data.
MOUNTS: dict[str, Rule] = {"/static": PUBLIC, "/static/plotly": PUBLIC}
