"""The Amazon-Ads-style connector: states as sponsored-products updates, one ``PUT`` per level
(``/v1/profiles/{account}/campaigns``, ``/adGroups``, ``/productAds``, at most 1,000 items in all), answered
207 with a result per item; reads by ``GET`` on the same collections (see ``keel.sim.adplatform_wire``).

A batch mixing levels goes out as one request per level, campaigns first; when one of them is refused
(429, a failure) the items of the requests before it are in ``Sent.items`` and the rest were not sent.
Limits: 1,000 items a request, 10 requests a second per account (paced here); a 429's ``Retry-After``
becomes ``retry_after_s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from keel.media.connectors._http import Answer, HttpConnector, amount, detail, seconds, state_of, unfit
from keel.media.model import Change, ItemResult, Level, Limits, Remote, Sent, Status

COLLECTIONS = {Level.CAMPAIGN: ("campaigns", "campaignId", "dailyBudget"),
               Level.AD_GROUP: ("adGroups", "adGroupId", "defaultBid"),
               Level.AD: ("productAds", "adId", "bid")}  # fmt: skip
STATES = {"ENABLED": Status.ENABLED, "PAUSED": Status.PAUSED}
PERMANENT = frozenset({"ENTITY_NOT_FOUND", "DUPLICATE_VALUE", "INVALID_ARGUMENT"})  # the same item fails again


class AmazonAdsConnector(HttpConnector):
    """One advertiser's Amazon-Ads-style API; ``url`` is the API's base, ``token`` the bearer token."""

    DEFAULT_LIMITS = Limits(batch_size=1000, requests_per_s=10.0)

    def send(self, account: str, changes: Sequence[Change]) -> Sent:
        """Update the objects to their states, one request per level."""
        self.check(changes)
        items = [ItemResult(c.level, c.code, False, False, why) for c in changes if (why := unfit(c))]
        for level, (collection, id_name, amount_name) in COLLECTIONS.items():
            group = [c for c in changes if c.level is level and not unfit(c)]
            if not group:
                continue
            body = {collection: [{id_name: c.code, "state": c.state.status.value.upper(),
                                  amount_name: amount(level, c.state)} for c in group]}  # fmt: skip
            path = f"/v1/profiles/{quote(account, safe='')}/{collection}"
            answer = self.call(account, "PUT", path, body=body, changes=group)
            if answer.status == 429:
                self.throttled()
                return Sent(tuple(items), retry_after_s=seconds(answer.headers.get("retry-after")))
            results = _results(answer, collection, group) if answer.status == 207 else None
            if results is None:
                error = answer.error or (detail(answer) if answer.status != 207 else "malformed 207 answer")
                return Sent(tuple(items), error=error)
            items.extend(results)
        return Sent(tuple(items))

    def _read_chunk(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        collection, id_name, amount_name = COLLECTIONS[level]
        path = f"/v1/profiles/{quote(account, safe='')}/{collection}"
        answer = self.call(account, "GET", path, params=[("id", c) for c in codes])
        listed = answer.doc.get(collection) if answer.status == 200 and isinstance(answer.doc, dict) else None
        if answer.status == 429:
            self.throttled()
        return [
            Remote(level, row[id_name], state_of(level, STATES[row["state"]], row.get(amount_name)))
            for row in listed or ()
            if isinstance(row, dict) and isinstance(row.get(id_name), str) and row.get("state") in STATES
        ]


def _results(answer: Answer, collection: str, group: Sequence[Change]) -> list[ItemResult] | None:
    """The 207's per-item results by index; None when the answer is not a multi-status of this request."""
    doc = answer.doc.get(collection) if isinstance(answer.doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(doc.get("success"), list) or not isinstance(doc.get("error"), list):
        return None
    results: dict[int, ItemResult] = {}
    for row in doc["success"]:
        if (index := _index(row, len(group))) is not None:
            results[index] = ItemResult(group[index].level, group[index].code, True)
    for row in doc["error"]:
        if (index := _index(row, len(group))) is not None:
            code = str(row.get("code"))
            error = f"{code}: {row.get('message') or ''}".rstrip(": ")
            results[index] = ItemResult(group[index].level, group[index].code, False, code not in PERMANENT, error)
    return [results[i] for i in sorted(results)]


def _index(row: Any, size: int) -> int | None:
    index = row.get("index") if isinstance(row, dict) else None
    return index if isinstance(index, int) and 0 <= index < size else None
