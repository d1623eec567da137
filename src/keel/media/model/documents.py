"""Ad objects as documents (API bodies, CSV rows): parsed into the model with an error per bad field.

Only the shape and the numbers are checked here; whether an account, a campaign, a SKU or a store exists is
the service's part (it holds the database).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from keel.media.model.ads import Account, Ad, AdGroup, Campaign, Guardrails, Platform, Region, Status, Target
from keel.platform.errors import FieldError

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_MONEY = 10**12  # minor units: a daily budget or bid above this is a typo, not a plan
MAX_SKUS = 1000  # per ad: a bigger product group is chosen by category, brand or label
T = TypeVar("T")

Errors = list[FieldError]


def _code(doc: Mapping[str, Any], key: str, row: int | None, errors: Errors, required: bool = True) -> Any:
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not CODE.match(value):
        errors.append(FieldError(row, key, "a code of 1-64 letters, digits or . _ : / - (starting alphanumeric)"))
        return None
    return value


def _text(doc: Mapping[str, Any], key: str, row: int | None, errors: Errors, default: str = "") -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or len(value) > 200 or "\x00" in value:
        errors.append(FieldError(row, key, "a text of at most 200 characters"))
        return default
    return value


def _money(doc: Mapping[str, Any], key: str, row: int | None, errors: Errors, required: bool = True) -> Any:
    value = doc.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MONEY:
        errors.append(FieldError(row, key, f"a whole number of minor units from 0 to {MAX_MONEY}"))
        return None
    return value


def _choice(
    doc: Mapping[str, Any], key: str, row: int | None, errors: Errors, kind: Callable[[str], T], default: T | None
) -> Any:
    value = doc.get(key)
    if value is None and default is not None:
        return default
    try:
        return kind(value)  # type: ignore[arg-type]
    except ValueError:
        names = ", ".join(sorted(m.value for m in kind))  # type: ignore[attr-defined]
        errors.append(FieldError(row, key, f"one of {names}"))
        return None


def _unknown(doc: Mapping[str, Any], allowed: set[str], row: int | None, errors: Errors) -> None:
    for key in sorted(set(doc) - allowed):
        errors.append(FieldError(row, key[:64], "not a field of this object"))


def parse_guardrails(doc: Any, path: str, row: int | None, errors: Errors) -> Guardrails:
    if doc is None:
        return Guardrails()
    if not isinstance(doc, Mapping):
        errors.append(FieldError(row, path, "an object"))
        return Guardrails()
    fields = {"max_budget_change_pct", "min_budget", "approval_above", "max_bid_factor", "excluded_campaigns"}
    for key in sorted(set(doc) - fields):
        errors.append(FieldError(row, f"{path}.{key[:64]}", "not a guardrail"))
    base = Guardrails()
    pct = doc.get("max_budget_change_pct", base.max_budget_change_pct)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 1000:
        errors.append(FieldError(row, f"{path}.max_budget_change_pct", "a number from 0 to 1000"))
        pct = base.max_budget_change_pct
    factor = doc.get("max_bid_factor", base.max_bid_factor)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1 <= factor <= 10:
        errors.append(FieldError(row, f"{path}.max_bid_factor", "a number from 1 to 10"))
        factor = base.max_bid_factor
    money: Errors = []  # named under ``path`` like the other guardrails
    min_budget = _money(doc, "min_budget", row, money, required=False)
    approval = _money(doc, "approval_above", row, money, required=False)
    errors.extend(FieldError(e.row, f"{path}.{e.field}", e.reason) for e in money)
    excluded = doc.get("excluded_campaigns") or []
    if not isinstance(excluded, list) or not all(isinstance(c, str) and CODE.match(c) for c in excluded):
        errors.append(FieldError(row, f"{path}.excluded_campaigns", "a list of campaign codes"))
        excluded = []
    return Guardrails(
        float(pct),
        base.min_budget if min_budget is None else min_budget,
        approval,
        float(factor),
        tuple(excluded),
    )


def parse_account(doc: Mapping[str, Any]) -> tuple[Account | None, str | None, Errors]:
    """An account and its platform token (kept apart: never shown back)."""
    errors: Errors = []
    _unknown(doc, {"code", "platform", "channel", "currency", "name", "url", "token", "guardrails"}, None, errors)
    code = _code(doc, "code", None, errors)
    platform = _choice(doc, "platform", None, errors, Platform, None)
    channel = _code(doc, "channel", None, errors)
    currency = doc.get("currency")
    if not isinstance(currency, str) or not re.match(r"^[A-Z]{3}$", currency):
        errors.append(FieldError(None, "currency", "an ISO 4217 code, e.g. EUR"))
    url = doc.get("url")
    if url is not None and (not isinstance(url, str) or not re.match(r"^https?://[^\s\x00]{1,490}$", url)):
        errors.append(FieldError(None, "url", "an http(s) URL of the platform's API"))
    token = doc.get("token")
    if token is not None and (not isinstance(token, str) or not 0 < len(token) <= 500 or "\x00" in token):
        errors.append(FieldError(None, "token", "a text of 1-500 characters"))
    name = _text(doc, "name", None, errors)
    rails = parse_guardrails(doc.get("guardrails"), "guardrails", None, errors)
    if errors:
        return None, None, errors
    return Account(code, platform, channel, currency, name, url, rails), token, []  # type: ignore[arg-type]


def parse_region(doc: Mapping[str, Any], row: int | None, errors: Errors) -> Region | None:
    country = doc.get("country")
    if not isinstance(country, str) or not COUNTRY.match(country):
        errors.append(FieldError(row, "country", "an ISO 3166-1 alpha-2 code, e.g. DE"))
        return None
    region, store, radius = doc.get("region"), doc.get("store"), doc.get("radius_km")
    if region is not None and (not isinstance(region, str) or not 0 < len(region) <= 64 or "\x00" in region):
        errors.append(FieldError(row, "region", "a region of the country as its locations name it, e.g. Bavaria"))
        return None
    if (store is None) != (radius is None) or (store is not None and region is not None):
        errors.append(FieldError(row, "store", "a store and radius_km together, or neither (and then no region)"))
        return None
    if store is not None:
        if not isinstance(store, str) or not CODE.match(store):
            errors.append(FieldError(row, "store", "a location code"))
            return None
        if isinstance(radius, bool) or not isinstance(radius, int | float) or not 0 < radius <= 500:
            errors.append(FieldError(row, "radius_km", "a number of kilometres above 0, at most 500"))
            return None
        return Region(country, None, store, float(radius))
    return Region(country, region)


def parse_campaign(doc: Mapping[str, Any], row: int | None) -> tuple[Campaign | None, Errors]:
    errors: Errors = []
    allowed = {"code", "account", "name", "country", "region", "store", "radius_km", "daily_budget", "status"}
    _unknown(doc, allowed, row, errors)
    code = _code(doc, "code", row, errors)
    account = _code(doc, "account", row, errors)
    name = _text(doc, "name", row, errors)
    region = parse_region(doc, row, errors)
    budget = _money(doc, "daily_budget", row, errors)
    status = _choice(doc, "status", row, errors, Status, Status.ENABLED)
    if errors:
        return None, errors
    return Campaign(code, account, name, region, budget, status), []  # type: ignore[arg-type]


def parse_group(doc: Mapping[str, Any], row: int | None) -> tuple[AdGroup | None, Errors]:
    errors: Errors = []
    _unknown(doc, {"code", "campaign", "name", "default_bid", "status"}, row, errors)
    code = _code(doc, "code", row, errors)
    campaign = _code(doc, "campaign", row, errors)
    name = _text(doc, "name", row, errors)
    bid = _money(doc, "default_bid", row, errors)
    status = _choice(doc, "status", row, errors, Status, Status.ENABLED)
    if errors:
        return None, errors
    return AdGroup(code, campaign, name, bid, status), []


def parse_ad(doc: Mapping[str, Any], row: int | None) -> tuple[Ad | None, Errors]:
    errors: Errors = []
    _unknown(doc, {"code", "ad_group", "skus", "category", "brand", "label", "bid", "status"}, row, errors)
    code = _code(doc, "code", row, errors)
    group = _code(doc, "ad_group", row, errors)
    skus = doc.get("skus") or []
    if (
        not isinstance(skus, list)
        or len(skus) > MAX_SKUS
        or not all(isinstance(s, str) and CODE.match(s) for s in skus)
    ):
        errors.append(FieldError(row, "skus", f"a list of at most {MAX_SKUS} SKU codes"))
        skus = []
    tags = {k: _code(doc, k, row, errors, required=False) for k in ("category", "brand", "label")}
    if not skus and all(v is None for v in tags.values()) and not any(e.field in tags for e in errors):
        errors.append(FieldError(row, "skus", "the SKUs it advertises, or a category, brand or label"))
    if skus and any(v is not None for v in tags.values()):
        errors.append(FieldError(row, "skus", "SKUs or a product group (category, brand, label), not both"))
    bid = _money(doc, "bid", row, errors, required=False)
    status = _choice(doc, "status", row, errors, Status, Status.ENABLED)
    if errors:
        return None, errors
    target = Target(tuple(dict.fromkeys(skus)), tags["category"], tags["brand"], tags["label"])
    return Ad(code, group, target, bid, status), []
