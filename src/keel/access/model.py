"""Identities, roles and permissions: pure data and rules, no storage.

Permissions name one kind of action (``orders.write``); a role is a set of them. The table is data so the
docs (docs/access.md), the route table (``keel.access.routes``) and the tests read the same truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from keel.platform.errors import FieldError, ValidationFailed
from keel.platform.scope import Scope

# -- permissions ------------------------------------------------------------------------------------------
INVENTORY_READ = "inventory.read"  # positions, ledger, reservations, counts, availability
INVENTORY_WRITE = "inventory.write"  # movements and counts
INVENTORY_RESERVE = "inventory.reserve"  # create, release and commit reservations
LOCATIONS_READ = "locations.read"
LOCATIONS_WRITE = "locations.write"  # locations and location groups
CHANNELS_READ = "channels.read"
CHANNELS_WRITE = "channels.write"  # channel registry and availability policies
ORDERS_READ = "orders.read"  # orders, returns, metrics, sourcing policies
ORDERS_WRITE = "orders.write"  # capture, fulfilment steps, cancel, returns, refunds
ORDERS_PLAN = "orders.plan"  # waves and backorder passes (re-plan many orders at once)
ORDERS_POLICIES = "orders.policies"  # sourcing policies
GEO_READ = "geo.read"
GEO_WRITE = "geo.write"  # postal-code imports
FX_READ = "fx.read"  # exchange rates
FX_WRITE = "fx.write"  # exchange-rate imports
CATALOG_READ = "catalog.read"  # products, families, categories, revisions
CATALOG_WRITE = "catalog.write"  # product content, families, categories, imports and reverts
TOWER_READ = "tower.read"  # the control tower's overview pages
METRICS_READ = "metrics.read"  # Prometheus metrics (they reveal volumes and latencies)
PRICING_READ = "pricing.read"  # lists, tax rates, policies, competitor prices, prices explained, promotions
PRICING_WRITE = "pricing.write"  # lists, SKU costs, tax rates, policies, competitor prices, recomputes, promotions,
#                                   their codes (reading codes too: a code can be spent)
PRICING_CARTS = "pricing.carts"  # carts evaluated and redeemed, orders priced: a shop's, an app's, a till's
MEDIA_READ = "media.read"  # ad accounts, campaigns, performance, rules, the action log, outbox states, savings
MEDIA_WRITE = "media.write"  # the ad setup, performance imports, rules, guardrails, approvals, drift, retries
PLANNING_READ = "planning.read"  # demand forecasts and history, replenishment policies, runs and suggestions
PLANNING_WRITE = "planning.write"  # replenishment policies, planning runs, accepting/rejecting/receiving suggestions
ACCESS_SELF = "access.self"  # one's own identity
ACCESS_ADMIN = "access.admin"  # users, service accounts and every token
AUDIT_READ = "audit.read"  # the audit log: every write attempt of everyone (admins only by default)
PLATFORM_OPERATE = "platform.operate"  # serve, worker, schema migrations, demo, benches (CLI only)

PERMISSIONS: frozenset[str] = frozenset(
    {
        INVENTORY_READ, INVENTORY_WRITE, INVENTORY_RESERVE, LOCATIONS_READ, LOCATIONS_WRITE, CHANNELS_READ,
        CHANNELS_WRITE, ORDERS_READ, ORDERS_WRITE, ORDERS_PLAN, ORDERS_POLICIES, GEO_READ, GEO_WRITE,
        TOWER_READ, METRICS_READ, PRICING_READ, PRICING_WRITE, PRICING_CARTS, MEDIA_READ, MEDIA_WRITE, ACCESS_SELF,
        ACCESS_ADMIN, AUDIT_READ, PLATFORM_OPERATE, FX_READ, FX_WRITE, CATALOG_READ, CATALOG_WRITE, PLANNING_READ,
        PLANNING_WRITE,
    }
)  # fmt: skip

# Permissions over data that spans every channel and country, or that could lift a restriction: an identity
# restricted to some channels or countries never holds them, whatever its role (a restricted admin could
# otherwise create an unrestricted user, and the audit log and metrics cannot be cut by channel or country).
# Pricing writes reprice whatever they reach: a list or policy for every channel, a cost or tax class on every
# market of its SKU, a rate on every channel of its country, a recompute everywhere.
# Media: rules, guardrails and budget shifts act across campaigns, accounts and countries, and the reads add
# up across them (performance by SKU or day, the action log, savings by rule), so neither is cut by scope.
UNRESTRICTED_ONLY = frozenset(
    {ACCESS_ADMIN, AUDIT_READ, METRICS_READ, PLATFORM_OPERATE, PRICING_WRITE, MEDIA_READ, MEDIA_WRITE}
)

READS = frozenset(
    {
        INVENTORY_READ,
        LOCATIONS_READ,
        CHANNELS_READ,
        ORDERS_READ,
        GEO_READ,
        TOWER_READ,
        ACCESS_SELF,
        FX_READ,
        CATALOG_READ,
        PRICING_READ,
        MEDIA_READ,
        PLANNING_READ,
    }
)


class Role(StrEnum):
    ADMIN = "admin"
    MERCHANDISER = "merchandiser"
    INVENTORY_PLANNER = "inventory_planner"
    ORDER_OPERATIONS = "order_operations"
    PRICING = "pricing"
    MARKETING = "marketing"
    ANALYST = "analyst"
    INTEGRATION = "integration"


ROLES: dict[Role, frozenset[str]] = {
    Role.ADMIN: PERMISSIONS,
    Role.MERCHANDISER: READS | {CHANNELS_WRITE, CATALOG_WRITE},  # product content is the merchandiser's
    Role.INVENTORY_PLANNER: READS | {INVENTORY_WRITE, INVENTORY_RESERVE, LOCATIONS_WRITE, GEO_WRITE, PLANNING_WRITE},
    Role.ORDER_OPERATIONS: READS | {ORDERS_WRITE, ORDERS_PLAN, ORDERS_POLICIES, INVENTORY_RESERVE},
    Role.PRICING: READS | {PRICING_WRITE, PRICING_CARTS, FX_WRITE},  # exchange rates: the pricing team's reference
    Role.MARKETING: READS | {MEDIA_WRITE},  # ad setup, rules, approvals: the marketing team's
    Role.ANALYST: READS | {METRICS_READ},
    # A machine: a shop, a WMS or a marketplace connector. No pages, no metrics, no configuration.
    Role.INTEGRATION: frozenset(
        {
            INVENTORY_READ,
            INVENTORY_WRITE,
            INVENTORY_RESERVE,
            LOCATIONS_READ,
            CHANNELS_READ,
            CATALOG_READ,  # a shop or marketplace connector reads the product content it lists
            ORDERS_READ,
            ORDERS_WRITE,
            PRICING_CARTS,  # a shop's checkout, an app's basket, a till: the same cart call
            GEO_READ,
            ACCESS_SELF,
        }
    ),
}


class IdentityKind(StrEnum):
    HUMAN = "human"  # a user: password (web login) and tokens
    SERVICE = "service"  # a service account: tokens only


@dataclass(frozen=True)
class Identity:
    """Who a request acts as. ``scopes`` narrows the role for one token (None: the whole role);
    ``channels``/``countries`` restrict which data it sees (None: all)."""

    id: int
    name: str
    kind: IdentityKind
    role: Role
    channels: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None
    scopes: frozenset[str] | None = None

    @property
    def permissions(self) -> frozenset[str]:
        granted = (
            ROLES[self.role]
            if self.channels is None and self.countries is None
            else ROLES[self.role] - UNRESTRICTED_ONLY
        )
        return granted if self.scopes is None else granted & self.scopes

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def scope(self) -> Scope:
        """The channels and countries this identity may see and change (``Scope.ALL`` when unrestricted)."""
        if self.channels is None and self.countries is None:
            return Scope.ALL
        return Scope.of(self.channels, self.countries)


# The identity a local CLI with direct database access acts as (it can read the database file anyway).
LOCAL_OPERATOR = Identity(id=0, name="local-operator", kind=IdentityKind.HUMAN, role=Role.ADMIN)


@dataclass(frozen=True)
class Account:
    """An identity as an administrator lists it."""

    id: int
    name: str
    kind: IdentityKind
    role: Role
    disabled: bool
    created_at: datetime
    channels: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TokenInfo:
    """A token without its secret (which is shown once, at creation, and never stored)."""

    id: str
    identity: str
    name: str
    scopes: tuple[str, ...] | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class NewToken:
    """A token just created: ``secret`` is the whole bearer value, shown once."""

    info: TokenInfo
    secret: str


# -- rules -------------------------------------------------------------------------------------------------
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
NAME_RULE = "2-64 characters: lowercase letters, digits, '.', '_', '@', '-'"
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap keeps a megabyte "password" from costing CPU
TOKEN_PREFIX = "keel_"
TOKEN_ID_RE = re.compile(r"^[0-9a-f]{12}$")


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ValidationFailed(f"name {name!r} is not valid", [FieldError(None, "name", NAME_RULE)])
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        reason = f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        raise ValidationFailed(f"password {reason}", [FieldError(None, "password", reason)])
    return password


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        reason = f"must be one of {', '.join(r.value for r in Role)}"
        raise ValidationFailed(f"role {value!r} is unknown", [FieldError(None, "role", reason)]) from None


def check_scopes(role: Role, scopes: list[str] | None) -> tuple[str, ...] | None:
    """A token's scopes must be permissions its identity's role holds (a token never widens a role)."""
    if scopes is None:
        return None
    outside = sorted(set(scopes) - ROLES[role])
    if outside:
        reason = f"not granted to role {role.value}: {', '.join(outside)}"
        raise ValidationFailed(f"scopes {reason}", [FieldError(None, "scopes", reason)])
    return tuple(sorted(set(scopes)))


def check_restrictions(
    channels: list[str] | None, countries: list[str] | None, known_channels: set[str], known_countries: frozenset[str]
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """An identity's restrictions: channel codes that exist and ISO 3166-1 alpha-2 countries (None or an
    empty list: unrestricted on that side)."""
    chosen = tuple(sorted(set(channels))) if channels else None
    places = tuple(sorted({c.upper() for c in countries})) if countries else None
    unknown = sorted(set(chosen or ()) - known_channels)
    if unknown:
        reason = f"unknown channel {', '.join(map(repr, unknown))}"
        raise ValidationFailed(reason, [FieldError(None, "channels", reason)])
    unknown = sorted(set(places or ()) - known_countries)
    if unknown:
        reason = f"unknown country {', '.join(map(repr, unknown))} (ISO 3166-1 alpha-2, e.g. DE)"
        raise ValidationFailed(reason, [FieldError(None, "countries", reason)])
    return chosen, places


def split_token(value: str) -> tuple[str, str] | None:
    """``keel_<id>_<secret>`` -> (id, whole value); None when it cannot be one of ours."""
    if not value.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, secret = value[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not secret or not TOKEN_ID_RE.match(token_id):
        return None
    return token_id, value
