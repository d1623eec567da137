"""The Google-Ads-style connector: states as one ``mutate`` (``POST /v1/customers/{account}:mutate``, at most
10,000 operations, levels mixed) with ``partialFailure``, so the good operations land and the bad ones come
back by index; reads by ``GET /v1/customers/{account}/{campaigns|adGroups|adGroupAds}`` (see
``keel.sim.adplatform_wire``).

Limits: 10,000 operations a request, 10 requests a second per account (paced here) and a daily quota of
operations per account (15,000 by default: the outbox plans with ``limits.daily_operations`` and
``Sent.operations``). A 429 ``RESOURCE_EXHAUSTED`` for the day becomes ``quota_reset_at``; one for the rate
(``RESOURCE_TEMPORARILY_EXHAUSTED``) becomes ``retry_after_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from keel.media.connectors._http import Answer, HttpConnector, amount, detail, seconds, state_of, unfit
from keel.media.model import Change, ItemResult, Level, Limits, Remote, Sent, Status

RESOURCES = {Level.CAMPAIGN: ("campaignOperation", "campaigns", "budgetAmountMinor"),
             Level.AD_GROUP: ("adGroupOperation", "adGroups", "cpcBidMinor"),
             Level.AD: ("adGroupAdOperation", "adGroupAds", "cpcBidMinor")}  # fmt: skip
STATES = {"ENABLED": Status.ENABLED, "PAUSED": Status.PAUSED}
RETRYABLE_KINDS = frozenset({"internalError", "quotaError", "databaseError"})  # other kinds: the same op fails again


class GoogleAdsConnector(HttpConnector):
    """One customer's Google-Ads-style API; ``url`` is the API's base, ``token`` the bearer token."""

    DEFAULT_LIMITS = Limits(batch_size=10_000, requests_per_s=10.0, daily_operations=15_000)

    def send(self, account: str, changes: Sequence[Change]) -> Sent:
        """Update the objects to their states in one mutate with partial failure."""
        self.check(changes)
        local = [ItemResult(c.level, c.code, False, False, why) for c in changes if (why := unfit(c))]
        sent = [c for c in changes if not unfit(c)]
        if not sent:
            return Sent(tuple(local))
        customer = quote(account, safe="")
        operations = [{RESOURCES[c.level][0]: {"update": {
            "resourceName": f"customers/{customer}/{RESOURCES[c.level][1]}/{c.code}",
            "status": c.state.status.value.upper(),
            RESOURCES[c.level][2]: amount(c.level, c.state),
        }}} for c in sent]  # fmt: skip
        body = {"mutateOperations": operations, "partialFailure": True}
        answer = self.call(account, "POST", f"/v1/customers/{customer}:mutate", body=body, changes=sent)
        if answer.status == 429:
            self.throttled()
            return _refused(answer, tuple(local))
        results = _results(answer, sent) if answer.status == 200 else None
        if results is None:
            error = answer.error or (detail(answer) if answer.status != 200 else "malformed mutate answer")
            return Sent(tuple(local), error=error)
        return Sent((*local, *results), operations=len(sent))

    def _read_chunk(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        _, collection, amount_name = RESOURCES[level]
        customer = quote(account, safe="")
        answer = self.call(account, "GET", f"/v1/customers/{customer}/{collection}", params=[("id", c) for c in codes])
        if answer.status == 429:
            self.throttled()
        listed = answer.doc.get("results") if answer.status == 200 and isinstance(answer.doc, dict) else None
        prefix = f"customers/{customer}/{collection}/"
        return [
            Remote(
                level,
                row["resourceName"].removeprefix(prefix),
                state_of(level, STATES[row["status"]], row.get(amount_name)),
            )
            for row in listed or ()
            if isinstance(row, dict) and str(row.get("resourceName")).startswith(prefix) and row.get("status") in STATES
        ]


def _refused(answer: Answer, local: tuple[ItemResult, ...]) -> Sent:
    """A 429: the day's quota (``quota_reset_at``) or the rate (``retry_after_s``)."""
    error = answer.doc.get("error") if isinstance(answer.doc, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    quota = next((d for d in details or () if isinstance(d, dict) and "quotaError" in d), {})
    if quota.get("quotaError") == "RESOURCE_EXHAUSTED":
        return Sent(local, quota_reset_at=_reset_at(quota.get("quotaResetTime")))
    return Sent(local, retry_after_s=seconds(quota.get("retryDelay")))


def _reset_at(value: object) -> datetime:
    """The quota's reset time as answered; the next UTC midnight (the quota day's end) when it is missing."""
    try:
        at = datetime.fromisoformat(str(value))
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    except ValueError:
        today = datetime.now(UTC).date()
        return datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)


def _results(answer: Answer, sent: Sequence[Change]) -> list[ItemResult] | None:
    """Each operation's result: its error when the partial failure names its index, else accepted when the
    results name a resource for it; None when the answer is not a mutate answer."""
    doc = answer.doc
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list) or len(results) != len(sent):
        return None
    failures: dict[int, ItemResult] = {}
    partial = doc.get("partialFailureError")
    for detail_ in partial.get("details", ()) if isinstance(partial, dict) else ():
        for error in detail_.get("errors", ()) if isinstance(detail_, dict) else ():
            index = _index(error, len(sent))
            if index is None:
                continue
            code = error.get("errorCode")
            kind, name = next(iter(code.items())) if isinstance(code, dict) and code else ("unknown", "UNKNOWN")
            text = f"{name}: {error.get('message') or ''}".rstrip(": ")
            failures[index] = ItemResult(sent[index].level, sent[index].code, False, kind in RETRYABLE_KINDS, text)
    items = []
    for i, (change, result) in enumerate(zip(sent, results, strict=True)):
        if i in failures:
            items.append(failures[i])
        elif isinstance(result, dict) and result.get("resourceName"):
            items.append(ItemResult(change.level, change.code, True))
    return items


def _index(error: Any, size: int) -> int | None:
    location = error.get("location") if isinstance(error, dict) else None
    index = location.get("operationIndex") if isinstance(location, dict) else None
    return index if isinstance(index, int) and 0 <= index < size else None
