"""The ad platforms' wire formats (the simulator and its rules are in ``keel.sim.adplatform``). Amounts are
integers in the account currency's minor units on every platform; a field sent as ``null`` clears it, a field
left out keeps its value. Reads take the codes as repeated ``id`` query parameters and leave unknown ones out.

Amazon-Ads-style, under ``/amazon/v1/profiles/{account}``, collections ``campaigns`` (``campaignId``,
``state``: ENABLED/PAUSED, ``dailyBudget``), ``adGroups`` (``adGroupId``, ``state``, ``defaultBid``) and
``productAds`` (``adId``, ``state``, ``bid``): ``POST`` creates, ``PUT`` updates, with
``{"<collection>": [item, ...]}`` (at most 1,000), answered 207 ``{"<collection>": {"success": [{"index",
"id"}], "error": [{"index", "id", "code", "message"}]}}`` (codes ENTITY_NOT_FOUND, DUPLICATE_VALUE,
INVALID_ARGUMENT: for good; INTERNAL_ERROR: try again); ``GET .../<collection>?id=..`` -> ``{"<collection>":
[item, ...]}``. Errors: ``{"code", "details"}``; 429 with ``Retry-After`` (whole seconds).

Google-Ads-style, under ``/google/v1/customers/{account}``: ``POST :mutate`` with ``{"mutateOperations":
[{"campaignOperation" | "adGroupOperation" | "adGroupAdOperation": {"create" | "update": resource}}],
"partialFailure": true}`` (at most 10,000), a resource being ``{"resourceName":
"customers/{account}/{campaigns|adGroups|adGroupAds}/{code}", "status": ENABLED/PAUSED,
"budgetAmountMinor" (campaigns) | "cpcBidMinor" (ad groups, ads)}``. With partial failure the good operations
are applied and the answer is 200 ``{"results": [{"resourceName"} or {} per operation],
"partialFailureError": {"code": 3, "message", "details": [{"errors": [{"errorCode": {"<kind>": "<code>"},
"message", "location": {"operationIndex": i}}]}]}}``; without it one bad operation fails the whole request
(400, or 500 when the failure is transient) and nothing is applied. Error kinds: ``mutateError``
(RESOURCE_NOT_FOUND, RESOURCE_ALREADY_EXISTS), ``fieldError`` (INVALID_VALUE) for good, ``internalError``
(TRANSIENT_ERROR) to retry. ``GET /{campaigns|adGroups|adGroupAds}?id=..`` -> ``{"results": [resource]}``.
Errors: ``{"error": {"code", "status", "message", "details"}}``; 429 RESOURCE_EXHAUSTED with details
``{"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED", "retryDelay": "1.5s"}`` (rate) or ``{"quotaError":
"RESOURCE_EXHAUSTED", "quotaResetTime": ISO 8601, "retryDelay"}`` (daily operations).

Meta-style, under ``/meta/v1/act_{account}``: ``POST /batch`` with ``{"batch": [{"method": "POST",
"relative_url": "campaigns" | "campaigns/{code}" (likewise ``adsets``, ``ads``), "body": {...}}]}`` (at most
50; without a code it creates ``body.id``), the body's fields ``status`` (ACTIVE/PAUSED), ``daily_budget``
(campaigns), ``bid_amount`` (ad sets, ads); answered 200 with one ``{"code": <HTTP status>, "body": {"id",
"success": true} | {"error": {"message", "type", "code", "error_subcode", "is_transient"}}}`` per
sub-request, in order. ``GET /{campaigns|adsets|ads}?id=..`` -> ``{"data": [{"id", "status", ...}]}``.
Errors: ``{"error": {...}}``; over the rate HTTP 400, code 80004, with ``X-Ad-Account-Usage: {"acc_id_util_pct":
100, "reset_time_duration": <seconds>}``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import unquote

from keel.media import AdState, Level, Platform, Status
from keel.sim.http import Reply

Query = Mapping[str, list[str]]


@dataclass(frozen=True)
class Op:
    """One item of a write, read off the wire."""

    level: Level
    code: str
    create: bool = False
    status: Status | None = None
    bid: int | None = None
    budget: int | None = None
    sets: frozenset[str] = frozenset()  # the amounts the item names ("bid", "budget"); the others are kept
    invalid: str | None = None  # the item cannot be read: refused for good


@dataclass(frozen=True)
class Outcome:
    ok: bool
    error: str | None = None  # NOT_FOUND, DUPLICATE, INVALID_ARGUMENT (for good), INTERNAL_ERROR (retryable)
    retryable: bool = False
    message: str = ""


@dataclass(frozen=True)
class Request:
    account: str
    ops: tuple[Op, ...] | None = None  # a write's items; None: a read
    size: int = 0  # items as sent
    level: Level | None = None  # a read's level (and an Amazon write's)
    codes: tuple[str, ...] = ()  # a read's codes
    atomic: bool = False
    bad: str | None = None  # a request that cannot be read: 400 once authorised


def json_reply(status: int, doc: object, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return Reply(status, body, (("Content-Type", "application/json"), *headers))


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _op(level: Level, code: object, item: Mapping[str, Any], create: bool, statuses: Mapping[str, Status],
        status_name: str, amount: tuple[str, str]) -> Op:  # fmt: skip
    """An item's fields; ``amount`` is (its wire name, "bid" or "budget") for the level."""
    if not isinstance(code, str) or not code:
        return Op(level, "", create, invalid="the item names no id")
    status = item.get(status_name)
    if status_name in item and status not in statuses:
        return Op(level, code, create, invalid=f"{status_name} must be one of {sorted(statuses)}")
    wire_name, field = amount
    value = item.get(wire_name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        return Op(level, code, create, invalid=f"{wire_name} must be an integer (minor units) or null")
    sets = frozenset({field}) if wire_name in item else frozenset()
    resolved = statuses[status] if isinstance(status, str) else None
    return Op(level, code, create, resolved, value if field == "bid" else None,
              value if field == "budget" else None, sets)  # fmt: skip


class Wire:
    """One platform's wire: how its requests read and its answers look."""

    platform: ClassVar[Platform]
    batch_size: ClassVar[int]

    def parse(self, method: str, path: str, query: Query, body: bytes) -> Request | Reply:
        raise NotImplementedError

    def refused(self, status: int, message: str) -> Reply:
        raise NotImplementedError

    def throttled(self, wait_s: float) -> Reply:
        raise NotImplementedError

    def too_large(self, size: int) -> Reply:
        return self.refused(400, f"{size} items in one request; at most {self.batch_size}")

    def exhausted(self, reset_at: datetime) -> Reply:
        raise NotImplementedError(f"{self.platform} has no daily quota")

    def unavailable(self) -> Reply:
        return self.refused(503, "service unavailable, try again")

    def written(self, request: Request, outcomes: Sequence[Outcome]) -> Reply:
        raise NotImplementedError

    def found(self, request: Request, rows: Sequence[tuple[str, AdState]]) -> Reply:
        raise NotImplementedError


def _seconds(wait_s: float) -> int:
    return max(1, math.ceil(wait_s))


class AmazonWire(Wire):
    platform = Platform.AMAZON
    batch_size = 1000
    LEVELS: ClassVar = {"campaigns": (Level.CAMPAIGN, "campaignId", ("dailyBudget", "budget")),
                        "adGroups": (Level.AD_GROUP, "adGroupId", ("defaultBid", "bid")),
                        "productAds": (Level.AD, "adId", ("bid", "bid"))}  # fmt: skip
    PATH = re.compile(r"^/v1/profiles/([^/]+)/(campaigns|adGroups|productAds)$")
    STATUSES: ClassVar = {"ENABLED": Status.ENABLED, "PAUSED": Status.PAUSED}
    CODES: ClassVar = {"NOT_FOUND": "ENTITY_NOT_FOUND", "DUPLICATE": "DUPLICATE_VALUE"}

    def parse(self, method: str, path: str, query: Query, body: bytes) -> Request | Reply:
        match = self.PATH.match(path)
        if match is None or method not in {"GET", "POST", "PUT"}:
            return self.refused(404, f"no resource {method} {path}")
        account, collection = unquote(match.group(1)), match.group(2)
        level, id_name, amount = self.LEVELS[collection]
        if method == "GET":
            return Request(account, level=level, codes=tuple(query.get("id", ())))
        doc = _load(body)
        items = doc.get(collection) if isinstance(doc, dict) else None
        if not isinstance(items, list):
            return Request(account, (), bad=f"the body must be {{{collection!r}: [...]}}")
        ops = tuple(
            _op(level, i.get(id_name), i, method == "POST", self.STATUSES, "state", amount)
            if isinstance(i, dict) else Op(level, "", invalid="an item must be an object")
            for i in items
        )  # fmt: skip
        return Request(account, ops, len(items), level)

    def refused(self, status: int, message: str) -> Reply:
        code = {400: "INVALID_ARGUMENT", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND"}
        return json_reply(status, {"code": code.get(status, "SERVICE_UNAVAILABLE"), "details": message})

    def throttled(self, wait_s: float) -> Reply:
        doc = {"code": "TOO_MANY_REQUESTS", "details": "request rate exceeded"}
        return json_reply(429, doc, (("Retry-After", str(_seconds(wait_s))),))

    def written(self, request: Request, outcomes: Sequence[Outcome]) -> Reply:
        collection = next(k for k, v in self.LEVELS.items() if v[0] == request.level)
        success, error = [], []
        for index, (op, out) in enumerate(zip(request.ops or (), outcomes, strict=True)):
            if out.ok:
                success.append({"index": index, "id": op.code})
            else:
                code = self.CODES.get(out.error or "", out.error)
                error.append({"index": index, "id": op.code, "code": code, "message": out.message})
        return json_reply(207, {collection: {"success": success, "error": error}})

    def found(self, request: Request, rows: Sequence[tuple[str, AdState]]) -> Reply:
        collection, (_, id_name, (amount, field)) = next(
            (k, v) for k, v in self.LEVELS.items() if v[0] == request.level
        )
        items = [{id_name: code, "state": s.status.value.upper(), amount: getattr(s, field)} for code, s in rows]
        return json_reply(200, {collection: items})


class GoogleWire(Wire):
    platform = Platform.GOOGLE
    batch_size = 10_000
    OPERATIONS: ClassVar = {"campaignOperation": (Level.CAMPAIGN, "campaigns", ("budgetAmountMinor", "budget")),
                            "adGroupOperation": (Level.AD_GROUP, "adGroups", ("cpcBidMinor", "bid")),
                            "adGroupAdOperation": (Level.AD, "adGroupAds", ("cpcBidMinor", "bid"))}  # fmt: skip
    MUTATE = re.compile(r"^/v1/customers/([^/:]+):mutate$")
    READ = re.compile(r"^/v1/customers/([^/:]+)/(campaigns|adGroups|adGroupAds)$")
    STATUSES: ClassVar = {"ENABLED": Status.ENABLED, "PAUSED": Status.PAUSED}
    ERRORS: ClassVar = {"NOT_FOUND": ("mutateError", "RESOURCE_NOT_FOUND"),
                        "DUPLICATE": ("mutateError", "RESOURCE_ALREADY_EXISTS"),
                        "INVALID_ARGUMENT": ("fieldError", "INVALID_VALUE"),
                        "INTERNAL_ERROR": ("internalError", "TRANSIENT_ERROR")}  # fmt: skip
    STATUS_NAMES: ClassVar = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                              404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                              503: "UNAVAILABLE"}  # fmt: skip

    def parse(self, method: str, path: str, query: Query, body: bytes) -> Request | Reply:
        if method == "GET" and (match := self.READ.match(path)) is not None:
            level = next(v[0] for v in self.OPERATIONS.values() if v[1] == match.group(2))
            return Request(unquote(match.group(1)), level=level, codes=tuple(query.get("id", ())))
        if method != "POST" or (match := self.MUTATE.match(path)) is None:
            return self.refused(404, f"no resource {method} {path}")
        account = unquote(match.group(1))
        doc = _load(body)
        operations = doc.get("mutateOperations") if isinstance(doc, dict) else None
        if not isinstance(operations, list):
            return Request(account, (), bad="the body must hold mutateOperations")
        ops = tuple(self._op(account, o) for o in operations)
        return Request(account, ops, len(operations), atomic=doc.get("partialFailure") is not True)

    def _op(self, account: str, operation: object) -> Op:
        if not isinstance(operation, dict) or len(operation) != 1:
            return Op(Level.CAMPAIGN, "", invalid="an operation names one resource operation")
        kind, body = next(iter(operation.items()))
        if kind not in self.OPERATIONS or not isinstance(body, dict) or len(body) != 1:
            return Op(Level.CAMPAIGN, "", invalid="an operation is one create or update of a known resource")
        level, collection, amount = self.OPERATIONS[kind]
        verb, resource = next(iter(body.items()))
        if verb not in {"create", "update"} or not isinstance(resource, dict):
            return Op(level, "", invalid="an operation is create or update")
        name = resource.get("resourceName")
        prefix = f"customers/{account}/{collection}/"
        if not isinstance(name, str) or not name.startswith(prefix):
            return Op(level, "", invalid=f"resourceName must start with {prefix}")
        return _op(level, name.removeprefix(prefix), resource, verb == "create", self.STATUSES, "status", amount)

    def _error(self, status: int, message: str, details: list[dict[str, Any]] | None = None) -> Reply:
        doc = {"code": status, "status": self.STATUS_NAMES.get(status, "UNKNOWN"), "message": message}
        return json_reply(status, {"error": doc | ({"details": details} if details else {})})

    def refused(self, status: int, message: str) -> Reply:
        return self._error(status, message)

    def throttled(self, wait_s: float) -> Reply:
        detail = {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED", "retryDelay": f"{wait_s:.3f}s"}
        return self._error(429, "too many requests", [detail])

    def too_large(self, size: int) -> Reply:
        error = {"errorCode": {"requestError": "TOO_MANY_MUTATE_OPERATIONS"},
                 "message": f"{size} operations; at most {self.batch_size}"}  # fmt: skip
        return self._error(400, "request contains an invalid argument", [{"errors": [error]}])

    def exhausted(self, reset_at: datetime) -> Reply:
        detail = {"quotaError": "RESOURCE_EXHAUSTED", "quotaResetTime": reset_at.isoformat()}
        return self._error(429, "daily operations quota exhausted", [detail])

    def written(self, request: Request, outcomes: Sequence[Outcome]) -> Reply:
        ops = request.ops or ()
        errors = [
            {"errorCode": dict([self.ERRORS.get(out.error or "", ("requestError", str(out.error)))]),
             "message": out.message, "location": {"operationIndex": i}}
            for i, out in enumerate(outcomes) if not out.ok
        ]  # fmt: skip
        if request.atomic and errors:
            status = 500 if any(o.retryable for o in outcomes if not o.ok) else 400
            return self._error(status, "the request failed; nothing was applied", [{"errors": errors}])
        results = [
            {"resourceName": f"customers/{request.account}/{self._collection(op.level)}/{op.code}"} if out.ok else {}
            for op, out in zip(ops, outcomes, strict=True)
        ]
        doc: dict[str, Any] = {"results": results}
        if errors:
            doc["partialFailureError"] = {"code": 3, "message": f"{len(errors)} operations failed",
                                          "details": [{"errors": errors}]}  # fmt: skip
        return json_reply(200, doc)

    def _collection(self, level: Level) -> str:
        return str(next(v[1] for v in self.OPERATIONS.values() if v[0] == level))

    def found(self, request: Request, rows: Sequence[tuple[str, AdState]]) -> Reply:
        level = request.level or Level.CAMPAIGN
        _, collection, (amount, field) = next(v for v in self.OPERATIONS.values() if v[0] == level)
        prefix = f"customers/{request.account}/{collection}/"
        results = [
            {"resourceName": prefix + code, "status": s.status.value.upper(), amount: getattr(s, field)}
            for code, s in rows
        ]
        return json_reply(200, {"results": results})


class MetaWire(Wire):
    platform = Platform.META
    batch_size = 50
    EDGES: ClassVar = {"campaigns": (Level.CAMPAIGN, ("daily_budget", "budget")),
                       "adsets": (Level.AD_GROUP, ("bid_amount", "bid")),
                       "ads": (Level.AD, ("bid_amount", "bid"))}  # fmt: skip
    BATCH = re.compile(r"^/v1/act_([^/]+)/batch$")
    READ = re.compile(r"^/v1/act_([^/]+)/(campaigns|adsets|ads)$")
    STATUSES: ClassVar = {"ACTIVE": Status.ENABLED, "PAUSED": Status.PAUSED}
    # outcome -> (sub-request status, error code, subcode)
    ERRORS: ClassVar = {"NOT_FOUND": (404, 100, 33), "DUPLICATE": (400, 100, 1487390),
                        "INVALID_ARGUMENT": (400, 100, None), "INTERNAL_ERROR": (500, 2, None)}  # fmt: skip

    def parse(self, method: str, path: str, query: Query, body: bytes) -> Request | Reply:
        if method == "GET" and (match := self.READ.match(path)) is not None:
            level = self.EDGES[match.group(2)][0]
            return Request(unquote(match.group(1)), level=level, codes=tuple(query.get("id", ())))
        if method != "POST" or (match := self.BATCH.match(path)) is None:
            return self.refused(404, f"no resource {method} {path}")
        account = unquote(match.group(1))
        doc = _load(body)
        batch = doc.get("batch") if isinstance(doc, dict) else None
        if not isinstance(batch, list):
            return Request(account, (), bad="the body must hold a batch")
        return Request(account, tuple(self._op(r) for r in batch), len(batch))

    def _op(self, sub: object) -> Op:
        if not isinstance(sub, dict) or sub.get("method") != "POST" or not isinstance(sub.get("relative_url"), str):
            return Op(Level.CAMPAIGN, "", invalid="a sub-request is a POST with a relative_url")
        edge, _, code = sub["relative_url"].partition("/")
        body = sub.get("body")
        if edge not in self.EDGES or not isinstance(body, dict):
            return Op(Level.CAMPAIGN, "", invalid="a sub-request posts a body to campaigns, adsets or ads")
        level, amount = self.EDGES[edge]
        create = not code
        code = body.get("id") if create else unquote(code)
        return _op(level, code, body, create, self.STATUSES, "status", amount)

    def _error(self, status: int, code: int, message: str, *, transient: bool = False,
               subcode: int | None = None, headers: tuple[tuple[str, str], ...] = ()) -> Reply:  # fmt: skip
        return json_reply(status, {"error": _meta_error(code, message, transient, subcode)}, headers)

    def refused(self, status: int, message: str) -> Reply:
        code = {401: 190, 403: 200, 503: 2}.get(status, 100)
        return self._error(status, code, message, transient=status >= 500)

    def throttled(self, wait_s: float) -> Reply:
        usage = json.dumps({"acc_id_util_pct": 100, "reset_time_duration": _seconds(wait_s)})
        message = "there have been too many calls to this ad account"
        return self._error(400, 80004, message, transient=True, headers=(("X-Ad-Account-Usage", usage),))

    def too_large(self, size: int) -> Reply:
        return self._error(400, 1, f"{size} requests in one batch; at most {self.batch_size}")

    def unavailable(self) -> Reply:
        return self._error(500, 2, "service temporarily unavailable", transient=True)

    def written(self, request: Request, outcomes: Sequence[Outcome]) -> Reply:
        answers: list[dict[str, Any]] = []
        for op, out in zip(request.ops or (), outcomes, strict=True):
            if out.ok:
                answers.append({"code": 200, "body": {"id": op.code, "success": True}})
            else:
                status, code, subcode = self.ERRORS.get(out.error or "", (400, 100, None))
                body = {"error": _meta_error(code, out.message, out.retryable, subcode)}
                answers.append({"code": status, "body": body})
        return json_reply(200, answers)

    def found(self, request: Request, rows: Sequence[tuple[str, AdState]]) -> Reply:
        level = request.level or Level.CAMPAIGN
        amount, field = next(v[1] for v in self.EDGES.values() if v[0] == level)
        names = {v: k for k, v in self.STATUSES.items()}
        data = [{"id": code, "status": names[s.status], amount: getattr(s, field)} for code, s in rows]
        return json_reply(200, {"data": data})


def _meta_error(code: int, message: str, transient: bool, subcode: int | None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "is_transient": transient}
    return error | ({"error_subcode": subcode} if subcode is not None else {})


WIRES: dict[str, Wire] = {w.platform.value: w for w in (AmazonWire(), GoogleWire(), MetaWire())}
