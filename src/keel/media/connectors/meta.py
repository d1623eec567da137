"""The Meta-style connector: states as one batch (``POST /v1/act_{account}/batch``, at most 50 sub-requests,
levels mixed), each sub-request ``POST {campaigns|adsets|ads}/{code}`` answered with its own status; reads
by ``GET /v1/act_{account}/{campaigns|adsets|ads}`` (see ``keel.sim.adplatform_wire``).

Limits: 50 sub-requests a batch and 10 batches a second per account (paced here). Over the rate the platform
answers HTTP 400 with a rate error code (80004, or the older 4, 17, 613); the wait comes from the
``X-Ad-Account-Usage`` header's ``reset_time_duration`` and becomes ``retry_after_s``. A sub-request's error
is retried when Meta calls it transient (``is_transient``, or a 5xx without it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from keel.media.connectors._http import Answer, HttpConnector, amount, detail, seconds, state_of, unfit
from keel.media.model import Change, ItemResult, Level, Limits, Remote, Sent, Status

EDGES = {Level.CAMPAIGN: ("campaigns", "daily_budget"), Level.AD_GROUP: ("adsets", "bid_amount"),
         Level.AD: ("ads", "bid_amount")}  # fmt: skip
STATES = {"ACTIVE": Status.ENABLED, "PAUSED": Status.PAUSED}
WIRE_STATUS = {v: k for k, v in STATES.items()}
RATE_CODES = frozenset({4, 17, 613, 80000, 80004})


class MetaAdsConnector(HttpConnector):
    """One ad account's Meta-style API; ``url`` is the API's base, ``token`` the bearer token."""

    DEFAULT_LIMITS = Limits(batch_size=50, requests_per_s=10.0)

    def send(self, account: str, changes: Sequence[Change]) -> Sent:
        """Update the objects to their states in one batch."""
        self.check(changes)
        local = [ItemResult(c.level, c.code, False, False, why) for c in changes if (why := unfit(c))]
        sent = [c for c in changes if not unfit(c)]
        if not sent:
            return Sent(tuple(local))
        batch = [{"method": "POST", "relative_url": f"{EDGES[c.level][0]}/{quote(c.code, safe='')}",
                  "body": {"status": WIRE_STATUS[c.state.status], EDGES[c.level][1]: amount(c.level, c.state)}}
                 for c in sent]  # fmt: skip
        answer = self.call(account, "POST", f"/v1/act_{quote(account, safe='')}/batch", body={"batch": batch},
                           changes=sent)  # fmt: skip
        if (wait := _rate_limited(answer)) is not None:
            self.throttled()
            return Sent(tuple(local), retry_after_s=wait)
        results = _results(answer, sent) if answer.status == 200 else None
        if results is None:
            error = answer.error or (detail(answer) if answer.status != 200 else "malformed batch answer")
            return Sent(tuple(local), error=error)
        return Sent((*local, *results))

    def _read_chunk(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        edge, amount_name = EDGES[level]
        path = f"/v1/act_{quote(account, safe='')}/{edge}"
        answer = self.call(account, "GET", path, params=[("id", c) for c in codes])
        if _rate_limited(answer) is not None:
            self.throttled()
        listed = answer.doc.get("data") if answer.status == 200 and isinstance(answer.doc, dict) else None
        return [
            Remote(level, row["id"], state_of(level, STATES[row["status"]], row.get(amount_name)))
            for row in listed or ()
            if isinstance(row, dict) and isinstance(row.get("id"), str) and row.get("status") in STATES
        ]


def _rate_limited(answer: Answer) -> float | None:
    """The wait a rate-limit answer asks for; None when the answer is not one."""
    error = answer.doc.get("error") if isinstance(answer.doc, dict) else None
    if answer.status not in {400, 429} or not isinstance(error, dict) or error.get("code") not in RATE_CODES:
        return None
    try:
        usage = json.loads(answer.headers.get("x-ad-account-usage", ""))
    except ValueError:
        usage = None
    return seconds(usage.get("reset_time_duration") if isinstance(usage, dict) else None)


def _results(answer: Answer, sent: Sequence[Change]) -> list[ItemResult] | None:
    """Each sub-request's result, in order; None when the answer is not a batch answer for this request. A
    sub-request answered ``null`` (Meta's "not processed in time") is left out: not applied, as far as known."""
    if not isinstance(answer.doc, list) or len(answer.doc) != len(sent):
        return None
    items = []
    for change, sub in zip(sent, answer.doc, strict=True):
        status = sub.get("code") if isinstance(sub, dict) else None
        if not isinstance(status, int):
            continue
        if status == 200:
            items.append(ItemResult(change.level, change.code, True))
            continue
        body = sub.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        transient = error.get("is_transient")
        retry = transient if isinstance(transient, bool) else status >= 500
        text = f"{status} code {error.get('code')}: {error.get('message') or ''}".rstrip(": ")
        items.append(ItemResult(change.level, change.code, False, retry, text))
    return items
