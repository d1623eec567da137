"""What the ad connectors share: one pooled HTTP client with the account's bearer token, a pacer that keeps
each account's requests at the platform's declared rate, the batch check, and the read in chunks.

``HttpConnector.call`` turns everything that can go wrong on the way (a timeout, a refused or dropped
connection, a body that is not JSON) into an ``Answer`` with ``error`` or a status, never an exception; each
connector maps the answers of its platform to ``Sent``. No retries here: the outbox that calls a connector
retries, with its own backoff, and a resend of the same state is harmless (the platform sets states).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from keel.media.model import AdState, Change, Level, Limits, Remote, Sent, Status
from keel.media.model.port import ConnectorStats

DEFAULT_RETRY_AFTER_S = 1.0
MAX_RETRY_AFTER_S = 3600.0
READ_CHUNK = 100  # codes per read request: keeps the URL short


class Pacer:
    """Spaces one account's requests ``1 / rate`` seconds apart (a token bucket holding one token), so a
    caller cannot go over the platform's rate however fast it calls; safe across threads."""

    def __init__(
        self, rate: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if rate <= 0:
            raise ValueError("the request rate must be positive")
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, account: str) -> None:
        """Return when ``account`` may send its next request (its slot is taken)."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(account, now))
            self._next[account] = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


@dataclass(frozen=True)
class Answer:
    """A request's answer; ``status`` 0 with ``error``: no usable HTTP answer at all."""

    status: int = 0
    doc: Any = None  # the JSON body; None when there was none or it was not JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None


class HttpConnector:
    """The shared half of a connector; a subclass sets ``DEFAULT_LIMITS`` and implements ``send`` and
    ``_read_chunk``."""

    DEFAULT_LIMITS: Limits

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout_s: float = 10.0,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,  # tests: httpx.MockTransport
    ) -> None:
        self.url = url.rstrip("/")
        self.limits = limits or self.DEFAULT_LIMITS
        self.stats = ConnectorStats()
        self._pacer = Pacer(self.limits.requests_per_s)
        self._stats_lock = threading.Lock()
        headers = {"Authorization": f"Bearer {token}"}
        self._client = httpx.Client(timeout=timeout_s, follow_redirects=False, transport=transport, headers=headers)

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        account: str,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Sequence[tuple[str, str]] = (),
        changes: Sequence[Change] = (),
    ) -> Answer:
        """One paced request; ``changes`` give it an ``Idempotency-Key`` (platforms may ignore it)."""
        headers = {"Idempotency-Key": idempotency_key(changes)} if changes else {}
        self._pacer.wait(account)
        try:
            response = self._client.request(method, self.url + path, json=body, params=list(params), headers=headers)
        except httpx.TimeoutException:
            return self._count(Answer(error="timeout"))
        except httpx.HTTPError as exc:  # refused, reset, closed without an answer, bad framing
            return self._count(Answer(error=f"connection error: {type(exc).__name__}"))
        try:
            doc = response.json() if response.content else None
        except (ValueError, UnicodeDecodeError):
            doc = None
        return self._count(Answer(response.status_code, doc, response.headers))

    def _count(self, answer: Answer) -> Answer:
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.by_status[answer.status] = self.stats.by_status.get(answer.status, 0) + 1
            if answer.error is not None or answer.status >= 500:
                self.stats.failed += 1
        return answer

    def throttled(self) -> None:
        """Count a request the platform refused for its rate or quota."""
        with self._stats_lock:
            self.stats.throttled += 1

    def check(self, changes: Sequence[Change]) -> None:
        """The caller batches: a batch over the platform's limit is a programming error."""
        if len(changes) > self.limits.batch_size:
            raise ValueError(f"{len(changes)} changes in one request; the platform takes at most "
                             f"{self.limits.batch_size}")  # fmt: skip

    def send(self, account: str, changes: Sequence[Change]) -> Sent:
        """Apply ``changes`` (at most ``limits.batch_size``) on the platform."""
        raise NotImplementedError

    def read(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        """The platform's current state of these objects, unknown codes left out. A chunk whose request
        fails is left out too (and counted in ``stats.failed``): the port has no way to say a read failed."""
        found: list[Remote] = []
        unique = list(dict.fromkeys(codes))
        for start in range(0, len(unique), READ_CHUNK):
            found.extend(self._read_chunk(account, level, unique[start : start + READ_CHUNK]))
        return found

    def _read_chunk(self, account: str, level: Level, codes: Sequence[str]) -> list[Remote]:
        raise NotImplementedError


def idempotency_key(changes: Iterable[Change]) -> str:
    return hashlib.sha256(",".join(c.key for c in changes).encode()).hexdigest()[:32]


def unfit(change: Change) -> str | None:
    """Why a state cannot be sent for its level (an amount the level does not have); None when it can."""
    if change.level is Level.CAMPAIGN and change.state.bid is not None:
        return "a campaign has no bid"
    if change.level is not Level.CAMPAIGN and change.state.budget is not None:
        return f"an {change.level} has no budget"
    return None


def amount(level: Level, state: AdState) -> int | None:
    """The one amount a level's state carries: a campaign's budget, an ad group's or an ad's bid."""
    return state.budget if level is Level.CAMPAIGN else state.bid


def state_of(level: Level, status: Status, value: object) -> AdState:
    """An ``AdState`` from a status and the level's amount as read off the wire."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    return AdState(status, budget=number) if level is Level.CAMPAIGN else AdState(status, bid=number)


def detail(answer: Answer) -> str:
    """A failed answer in a line: its status and what its body says."""
    doc = answer.doc
    error = doc.get("error") if isinstance(doc, dict) else None
    message = (error.get("message") if isinstance(error, dict) else None) or (
        doc.get("details") if isinstance(doc, dict) else None
    )
    return f"HTTP {answer.status}" + (f": {str(message)[:200]}" if message else "")


def seconds(value: object, default: float = DEFAULT_RETRY_AFTER_S) -> float:
    """A wait in seconds (a number or a numeric text such as ``"2"`` or ``"1.5s"``), kept within reason."""
    try:
        wait = float(str(value).removesuffix("s")) if value is not None else default
    except ValueError:
        wait = default
    return min(max(wait, 0.0), MAX_RETRY_AFTER_S) if wait == wait else default  # NaN: the default
