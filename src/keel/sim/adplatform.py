"""Three ad platforms, as Keel's media connectors see them: one local HTTP server playing an Amazon-Ads-style,
a Google-Ads-style and a Meta-style API on the path prefixes ``/amazon``, ``/google`` and ``/meta``, for the
connector tests and the benches. The wire formats are in ``keel.sim.adplatform_wire``.

Every platform holds, per account, objects at three levels (campaign, ad group, ad) by code, each in an
``AdState`` (status, bid, budget in minor units). A request carries ``Authorization: Bearer <token>``; each
token opens one (platform, account) (``add_account``): no token or an unknown one is 401, another account's
token 403. An object must be created (on the wire, or ``seed``) before it is updated: updating an unknown
object is a permanent per-item error, and so is creating one that exists or a value out of range.

Limits, each break of which is counted in ``violations``:

- **Request rate**, per (platform, account), a token bucket of ``rates[platform]`` requests a second holding
  up to ``bursts[platform]`` (default: the rate, at least 1); reads count too. Over it: Amazon 429 with
  ``Retry-After``, Google 429 ``RESOURCE_TEMPORARILY_EXHAUSTED`` with a retry delay, Meta 400 with error code
  80004 and the ``X-Ad-Account-Usage`` header's ``reset_time_duration``.
- **Batch size**: Amazon 1,000 items a request, Google 10,000 operations, Meta 50 sub-requests; a bigger
  batch is refused whole with 400 (a client bug) and nothing is applied.
- **Daily operations** (Google only): ``daily_operations`` per account and quota day, every operation of an
  accepted mutate counting; a mutate that does not fit what is left is refused whole, 429
  ``RESOURCE_EXHAUSTED`` with the ``quotaResetTime``. The quota day is the UTC day of ``wall()`` (reset at
  the next UTC midnight) or, with ``quota_period_s``, a simulated day of that many seconds of ``monotonic()``.

Faults, drawn with a seeded ``random.Random`` for ``fault_rate`` of the requests that pass the limits, among
``faults``: ``error`` (a 5xx, nothing applied), ``drop`` (applied, then the connection closed without an
answer: the client does not hear that it landed), ``stall`` (applied, answered after ``stall_s``: a client
with a shorter timeout gives up) and ``item`` (writes only: about half of the items fail with a transient,
retryable error and are not applied). Everything applied is in ``accepted_log``, heard or not, so resending
the same state is shown to be harmless. ``set_remote`` plays a person changing an object on the platform.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

from keel.media import AdState, Level, Platform, Status
from keel.sim.adplatform_wire import WIRES, Op, Outcome, Request, Wire
from keel.sim.http import LocalServer, Reply

FAULTS = ("error", "drop", "stall", "item")
DEFAULT_RATE = 10.0
DEFAULT_DAILY_OPERATIONS = 15_000

Key = tuple[Platform, str]  # (platform, account)


@dataclass(frozen=True)
class Accepted:
    """One change the platform applied (heard by the client or not)."""

    platform: Platform
    account: str
    level: Level
    code: str
    state: AdState
    monotonic: float
    wall: datetime


@dataclass
class _Bucket:
    tokens: float
    at: float


class AdPlatforms(LocalServer):
    """The simulator; use as a context manager, or ``start()``/``stop()``; ``url(platform)`` once started."""

    def __init__(
        self,
        tokens: Mapping[str, tuple[Platform, str]] | None = None,
        *,
        rates: Mapping[Platform, float] | None = None,
        bursts: Mapping[Platform, float] | None = None,
        daily_operations: int = DEFAULT_DAILY_OPERATIONS,
        quota_period_s: float | None = None,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        seed: int = 0,
        stall_s: float = 6.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.faults = tuple(faults)
        if set(self.faults) - set(FAULTS) or not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"faults must be among {FAULTS}, fault_rate in [0, 1]")
        LocalServer.__init__(self, "ad platforms")
        self.rates = dict.fromkeys(Platform, DEFAULT_RATE) | dict(rates or {})
        self.bursts = {p: max(1.0, r) for p, r in self.rates.items()} | dict(bursts or {})
        self.daily_operations, self.quota_period_s = daily_operations, quota_period_s
        self.fault_rate, self.stall_s = fault_rate, stall_s
        self._monotonic, self._wall = monotonic, wall
        self._started_at = monotonic()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._tokens = dict(tokens or {})
        self._objects: dict[Key, dict[tuple[Level, str], AdState]] = {}
        self._buckets: dict[Key, _Bucket] = {}
        self._spent: dict[tuple[str, object], int] = {}  # (account, quota day) -> operations used
        self._log: list[Accepted] = []
        self._violations: dict[str, int] = {}
        self._faults: dict[str, int] = {}
        self.requests = 0

    # -- the tests' side ----------------------------------------------------------------------------------

    def url(self, platform: Platform) -> str:
        """The base URL a connector of ``platform`` is given."""
        return f"{self.base_url}/{platform.value}"

    def add_account(self, platform: Platform, account: str, token: str) -> None:
        with self._lock:
            self._tokens[token] = (platform, account)

    def seed(self, platform: Platform, account: str, level: Level, code: str, state: AdState) -> None:
        """Create an object as if it had always been there (not in ``accepted_log``)."""
        with self._lock:
            self._objects.setdefault((platform, account), {})[(level, code)] = state

    def set_remote(self, platform: Platform, account: str, level: Level, code: str, state: AdState) -> None:
        """A person changes (or creates) an object on the platform: drift, as Keel will read it."""
        self.seed(platform, account, level, code, state)

    def state(self, platform: Platform, account: str) -> dict[tuple[Level, str], AdState]:
        with self._lock:
            return dict(self._objects.get((platform, account), {}))

    @property
    def accepted_log(self) -> list[Accepted]:
        with self._lock:
            return list(self._log)

    @property
    def violations(self) -> int:
        """Requests that broke a declared limit (rate, batch size, daily quota)."""
        with self._lock:
            return sum(self._violations.values())

    @property
    def violations_by_kind(self) -> dict[str, int]:
        with self._lock:
            return dict(self._violations)

    @property
    def faults_injected(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    def operations_used(self, account: str) -> int:
        """Google operations ``account`` used in the current quota day."""
        with self._lock:
            return self._spent.get((account, self._quota_day()[0]), 0)

    # -- requests (the HTTP handler's threads) ------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(path)
        kind, _, rest = parts.path.lstrip("/").partition("/")
        query = {unquote(k): v for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests += 1
            wire = WIRES.get(kind)
            if wire is None:
                return Reply(404, b"no such platform")
            request = wire.parse(method, "/" + rest, query, body)
            return request if isinstance(request, Reply) else self._serve(wire, request, headers)

    def _serve(self, wire: Wire, request: Request, headers: Mapping[str, str]) -> Reply:
        platform = wire.platform
        auth = headers.get("authorization", "")
        owner = self._tokens.get(auth.removeprefix("Bearer ")) if auth.startswith("Bearer ") else None
        if owner is None:
            return wire.refused(401, "no valid bearer token")
        if owner != (platform, request.account):
            return wire.refused(403, "the token does not open this account")
        if (wait := self._admit((platform, request.account))) is not None:
            self._violation("rate")
            return wire.throttled(wait)
        if request.bad is not None:
            return wire.refused(400, request.bad)
        if request.ops is not None and request.size > wire.batch_size:
            self._violation("batch_size")
            return wire.too_large(request.size)
        day, reset_at = self._quota_day()
        spent = (request.account, day)
        over = request.ops is not None and self._spent.get(spent, 0) + len(request.ops) > self.daily_operations
        if platform is Platform.GOOGLE and over:
            self._violation("quota")
            return wire.exhausted(reset_at)
        fault = self._rng.choice(self.faults) if self.faults and self._rng.random() < self.fault_rate else None
        if fault == "item" and request.ops is None:
            fault = None
        if fault is not None:
            self._faults[fault] = self._faults.get(fault, 0) + 1
        if fault == "error":
            return wire.unavailable()
        if request.ops is None:
            found = self._objects.get((platform, request.account), {})
            level = request.level or Level.CAMPAIGN
            rows = [(c, found[(level, c)]) for c in request.codes if (level, c) in found]
            reply = wire.found(request, rows)
        else:
            if platform is Platform.GOOGLE:
                self._spent[spent] = self._spent.get(spent, 0) + len(request.ops)
            reply = wire.written(request, self._apply_all(platform, request, transient=fault == "item"))
        if fault == "drop":
            return Reply(0, drop=True)
        return replace(reply, stall=True) if fault == "stall" else reply

    def _violation(self, kind: str) -> None:
        self._violations[kind] = self._violations.get(kind, 0) + 1

    def _admit(self, key: Key) -> float | None:
        """Take a token from the account's bucket; the wait until one is there when none is."""
        now = self._monotonic()
        rate, burst = self.rates[key[0]], self.bursts[key[0]]
        bucket = self._buckets.setdefault(key, _Bucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return (1.0 - bucket.tokens) / rate

    def _quota_day(self) -> tuple[object, datetime]:
        """The current quota day's key and when it ends (wall clock, UTC)."""
        wall = self._wall()
        if self.quota_period_s is None:
            today = wall.astimezone(UTC).date()
            return today, datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=1)
        elapsed = self._monotonic() - self._started_at
        index = math.floor(elapsed / self.quota_period_s)
        return index, wall + timedelta(seconds=(index + 1) * self.quota_period_s - elapsed)

    def _apply_all(self, platform: Platform, request: Request, *, transient: bool) -> list[Outcome]:
        """Apply a write's items in order; an atomic request (Google without partial failure) is applied
        whole or not at all."""
        objects = self._objects.setdefault((platform, request.account), {})
        before, logged = dict(objects), len(self._log)
        outcomes = []
        for op in request.ops or ():
            if transient and self._rng.random() < 0.5:
                outcomes.append(Outcome(False, "INTERNAL_ERROR", True, "transient error, try again"))
            else:
                outcomes.append(self._apply(platform, request.account, objects, op))
        if request.atomic and not all(o.ok for o in outcomes):
            objects.clear()
            objects.update(before)
            del self._log[logged:]
        return outcomes

    def _apply(self, platform: Platform, account: str, objects: dict[tuple[Level, str], AdState], op: Op) -> Outcome:
        if op.invalid is not None:
            return Outcome(False, "INVALID_ARGUMENT", False, op.invalid)
        old = objects.get((op.level, op.code))
        if op.create and old is not None:
            return Outcome(False, "DUPLICATE", False, f"{op.level} {op.code} exists")
        if not op.create and old is None:
            return Outcome(False, "NOT_FOUND", False, f"no {op.level} {op.code}")
        if op.create and op.status is None:
            return Outcome(False, "INVALID_ARGUMENT", False, "a new object needs a status")
        base = old or AdState(Status.PAUSED)
        state = AdState(
            op.status or base.status,
            op.bid if "bid" in op.sets else base.bid,
            op.budget if "budget" in op.sets else base.budget,
        )
        if problem := _problem(op.level, state):
            return Outcome(False, "INVALID_ARGUMENT", False, problem)
        objects[(op.level, op.code)] = state
        self._log.append(Accepted(platform, account, op.level, op.code, state, self._monotonic(), self._wall()))
        return Outcome(True)


def _problem(level: Level, state: AdState) -> str | None:
    """Why ``state`` cannot be an object of ``level``; None when it can."""
    if level is Level.CAMPAIGN and state.bid is not None:
        return "a campaign has no bid"
    if level is not Level.CAMPAIGN and state.budget is not None:
        return f"an {level} has no budget"
    for name, value in (("bid", state.bid), ("budget", state.budget)):
        if value is not None and value < 0:
            return f"{name} must not be negative"
    return None
