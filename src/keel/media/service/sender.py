"""The action outbox's sender: moves each account's owed states to its platform, confirms them by reading
them back, and finds drift.

One sender at a time per account (a lease in ``media_leases``), which sends the newest version of each owed
object in batches no bigger than the platform's, so an older state never reaches a platform after a newer
one. The network call runs outside any transaction; its outcome is recorded by version (``outbox.accepted``
only raises ``sent_version``), so a late answer cannot mark an older state as current and a sender killed
mid-request leaves the rows owed: the next one sends them again (the same state: harmless).

A refused item is retried with backoff and jitter up to ``max_attempts`` times, then is a dead letter; one
refused for good is dead at once. A throttled request (Retry-After) or an exhausted daily quota postpones
the batch without counting an attempt. An accepted change is read back: a platform that says it took a
change but does not hold it has not taken it.

A drift check reads back objects the platform should hold as they are; one that differs was changed by a
person on the platform: it is reported (an action of mode ``drift``) and left alone, neither overwritten nor
acted on by rules, until an operator keeps the platform's state or Keel's (``resolve``).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from keel.media.model import Account, AdConnector, AdState, Change, Level, Remote, Sent, Status
from keel.media.store import log, objects, outbox
from keel.platform.backoff import backoff_s
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, NotFound

logger = logging.getLogger("keel.media")
Connect = Callable[[Account, str | None], AdConnector | None]


@dataclass
class Report:
    requests: int = 0
    accepted: int = 0
    refused: int = 0
    dead: int = 0
    throttled: int = 0
    drift: int = 0


def state_doc(state: AdState) -> dict[str, object]:
    return {k: (v.value if k == "status" else v) for k, v in asdict(state).items()}


class Sender:
    def __init__(
        self,
        db: Database,
        connect: Connect,
        owner: str,
        *,
        backoff_base_s: float = 1.0,
        max_attempts: int = 8,
        lease_s: float = 60.0,
        threads: int = 8,
    ) -> None:
        self.db, self.connect, self.owner = db, connect, owner
        self.backoff_base_s, self.max_attempts, self.lease_s = backoff_base_s, max_attempts, lease_s
        self.rng = random.Random()
        self._connectors: dict[str, tuple[tuple[str, str, str], AdConnector | None]] = {}
        self._busy: set[str] = set()
        self._checking: set[str] = set()  # accounts whose drift check runs
        self._sending: dict[str, threading.Lock] = {}  # one sender per account in this process (the lease: across)
        # operations sent per (account, UTC day), against a platform's daily quota: one sender per account
        # (the lease), so the count is this process's; a new owner starts from the platform's own refusal
        self._ops: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="keel-media-send")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def forget(self) -> None:
        """Drop the cached connectors (an account's URL or token changed)."""
        with self._lock:
            self._connectors.clear()

    def _connector(self, code: str) -> tuple[Account, AdConnector | None]:
        """The account as stored now, and its connector: kept while the platform, URL and token stay the same
        (its pacing carries over), made anew when another process changed them."""
        with self.db.read() as conn:
            account = objects.account(conn, code)
            token = objects.token(conn, code)
        if account is None:
            raise NotFound(f"ad account {code!r} does not exist")
        key = (account.platform.value, account.url or "", token or "")
        with self._lock:
            held = self._connectors.get(code)
            if held is not None and held[0] == key:
                return account, held[1]
        connector = self.connect(account, token)
        with self._lock:
            self._connectors[code] = (key, connector)
        return account, connector

    # -- sending ---------------------------------------------------------------------------------------------
    def run_pass(self, wait: bool = False) -> int:
        """Start sending every account that owes its platform something (one thread per account, never two
        for the same account); returns how many it started. ``wait``: until they finish."""
        with self.db.read() as conn:
            owed = outbox.owed_accounts(conn, utcnow())
        started = []
        for code in owed:
            with self._lock:
                if code in self._busy:
                    continue
                self._busy.add(code)
            started.append(self._pool.submit(self._guarded, code))
        if wait:
            for future in started:
                future.result()
        return len(started)

    def _guarded(self, code: str) -> None:
        try:
            self.send(code)
        except Exception:  # a bug must not stop the other accounts' sending; it is logged with its trace
            logger.exception("sending the owed changes of ad account %s failed", code)
        finally:
            with self._lock:
                self._busy.discard(code)

    def send(self, code: str) -> Report:
        """Send the account's owed changes until none is due or the platform asks to wait."""
        report = Report()
        _, connector = self._connector(code)
        with self._sending_lock(code):
            if not self._lease(code):
                return report
            return self._send(code, connector, report)

    def _sending_lock(self, code: str) -> threading.Lock:
        with self._lock:
            return self._sending.setdefault(code, threading.Lock())

    def _send(self, code: str, connector: AdConnector | None, report: Report) -> Report:
        try:
            while True:
                now = utcnow()
                size = connector.limits.batch_size if connector is not None else 1000
                room = self._room(code, connector, now)
                with self.db.read() as conn:
                    due = outbox.due(conn, code, now, max(1, min(size, room)))
                if not due:
                    return report
                if room <= 0:  # the day's quota is spent: wait for the next day without counting an attempt
                    self._postpone(due, _next_day(now))
                    report.throttled += 1
                    return report
                if connector is None:  # no platform API configured: the state is recorded, nothing is sent
                    with self.db.write() as conn:
                        outbox.accepted(conn, [(c.level, c.code, c.version) for c, _ in due], now)
                    report.accepted += len(due)
                    continue
                sent = connector.send(code, [c for c, _ in due])
                report.requests += 1
                if sent.retry_after_s is None and sent.quota_reset_at is None:
                    day = (code, now.date().isoformat())
                    self._ops[day] = self._ops.get(day, 0) + max(sent.operations, len(due))
                if not self._outcome(code, connector, due, sent, report):
                    return report
                if not self._lease(code):  # another worker took the account over: it sends from here on
                    return report
        finally:
            with self.db.write() as conn:
                outbox.release(conn, code, self.owner)

    def _room(self, code: str, connector: AdConnector | None, now: datetime) -> int:
        quota = None if connector is None else connector.limits.daily_operations
        if quota is None:
            return 1 << 30
        return quota - self._ops.get((code, now.date().isoformat()), 0)

    def _postpone(self, due: Sequence[tuple[Change, int]], until: datetime) -> None:
        with self.db.write() as conn:
            outbox.refused(
                conn, [(c.level, c.code, c.version, n, until, "waiting for the daily quota", False) for c, n in due]
            )

    def _lease(self, code: str) -> bool:
        now = utcnow()
        with self.db.write() as conn:
            return outbox.lease(conn, code, self.owner, now, now + timedelta(seconds=self.lease_s))

    def _outcome(
        self, code: str, connector: AdConnector, due: Sequence[tuple[Change, int]], sent: Sent, report: Report
    ) -> bool:
        """Record a request's outcome; False: stop sending this account for now."""
        done = utcnow()
        wait_until: datetime | None = None
        if sent.retry_after_s is not None:
            wait_until = done + timedelta(seconds=sent.retry_after_s)
            report.throttled += 1
        elif sent.quota_reset_at is not None:
            wait_until = sent.quota_reset_at
            report.throttled += 1
        answered = {(i.level, i.code): i for i in sent.items}
        ok = [c for c, _ in due if (i := answered.get((c.level, c.code))) is not None and i.ok]
        confirmed = self._confirm(code, connector, ok)
        refused: list[tuple[Level, str, int, int, datetime, str, bool]] = []
        for change, attempts in due:
            key = (change.level, change.code)
            if key in confirmed:
                continue
            item = answered.get(key)
            if item is None and wait_until is not None:  # the platform asked to wait: not this item's failure
                refused.append((change.level, change.code, change.version, attempts, wait_until, "waiting", False))
                continue
            tries = attempts + 1
            error = (item.error if item is not None else None) or sent.error or "not applied (read back differs)"
            # a dead letter is the platform's refusal of this item; a failed request or read-back (an outage)
            # backs off longer and longer (capped at 5 minutes) but never gives the change up
            dead = item is not None and not item.ok and (not item.retry or tries >= self.max_attempts)
            at = done + timedelta(seconds=backoff_s(tries, self.rng, self.backoff_base_s))
            refused.append((change.level, change.code, change.version, tries, at, error, dead))
            report.refused += 1
            report.dead += dead
        with self.db.write() as conn:
            outbox.accepted(
                conn, [(c.level, c.code, c.version) for c, _ in due if (c.level, c.code) in confirmed], done
            )
            outbox.refused(conn, refused)
        report.accepted += len(confirmed)
        return wait_until is None and not (sent.error and not sent.items)

    def _confirm(self, code: str, connector: AdConnector, accepted: Sequence[Change]) -> set[tuple[Level, str]]:
        """Which accepted changes the platform holds when read back."""
        held: dict[tuple[Level, str], AdState] = {}
        for level in Level:
            codes = [c.code for c in accepted if c.level is level]
            for start in range(0, len(codes), connector.limits.batch_size):
                for remote in connector.read(code, level, codes[start : start + connector.limits.batch_size]):
                    held[(remote.level, remote.code)] = remote.state
        return {(c.level, c.code) for c in accepted if held.get((c.level, c.code)) == c.state}

    # -- drift ------------------------------------------------------------------------------------------------
    def drift_pass(self, accounts: Sequence[str], wait: bool = False) -> int:
        """Start a drift check of each account on the sender's threads (never two at once for one account),
        so a long check never holds up the worker; returns how many it started."""
        started = []
        for code in accounts:
            with self._lock:
                if code in self._checking:
                    continue
                self._checking.add(code)
            started.append(self._pool.submit(self._checked, code))
        if wait:
            for future in started:
                future.result()
        return len(started)

    def _checked(self, code: str) -> None:
        try:
            self.check_drift(code)
        except Exception:  # a bug must not stop the other accounts' checks; it is logged with its trace
            logger.exception("the drift check of ad account %s failed", code)
        finally:
            with self._lock:
                self._checking.discard(code)

    def check_drift(self, code: str) -> int:
        """Read back every object of the account the platform should hold as Keel last sent it; report each
        that differs (or is gone) as drift. Returns how many drifted. Each page is read back under the
        account's send lock, so a change in flight is never taken for a person's, and a send waits for one
        page at most."""
        account, connector = self._connector(code)
        if connector is None:
            return 0
        after, found = ("", ""), 0
        while True:
            with self._sending_lock(code):
                with self.db.read() as conn:
                    rows = outbox.in_sync(conn, code, after, connector.limits.batch_size)
                if not rows:
                    return found
                after = (rows[-1].level.value, rows[-1].code)
                drifted = self._compare(code, connector, rows)
                if drifted:
                    now = utcnow()
                    with self.db.write() as conn:
                        drifted = [
                            (row, there)
                            for row, there in drifted
                            if outbox.set_drift(conn, row.level, row.code, _remote_doc(there), row.version)
                        ]
                        log.record(conn, [_drift_action(account.code, row, there, now) for row, there in drifted])
                found += len(drifted)

    def _compare(
        self, code: str, connector: AdConnector, rows: Sequence[outbox.StateRow]
    ) -> list[tuple[outbox.StateRow, Remote | None]]:
        remote: dict[tuple[Level, str], Remote] = {}
        failed = connector.stats.failed
        for level in Level:
            codes = [r.code for r in rows if r.level is level]
            if codes:
                remote |= {(x.level, x.code): x for x in connector.read(code, level, codes)}
        if connector.stats.failed != failed:  # a read failed: what it left out is unknown, not gone
            return []
        out: list[tuple[outbox.StateRow, Remote | None]] = []
        for row in rows:
            there = remote.get((row.level, row.code))
            if there is None or there.state != row.state:
                out.append((row, there))
        return out

    def resolve(self, level: Level, code: str, keep: str) -> None:
        """End a drift: ``keep="keel"`` sends Keel's state again; ``keep="platform"`` adopts the platform's
        (as a person's own setting)."""
        with self.db.write() as conn:
            row = outbox.get(conn, level, [code]).get(code)
            if row is None:
                raise NotFound(f"{level.value} {code!r} does not exist")
            if row.drift is None:
                raise Conflict(f"{level.value} {code!r} has no drift to resolve")
            outbox.set_drift(conn, level, code, None)
            now = utcnow()
            if keep == "keel" or row.drift.get("missing"):
                outbox.force(conn, level, code, now)
            else:
                there = AdState(Status(row.drift["status"]), row.drift.get("bid"), row.drift.get("budget"))
                outbox.adopt(conn, level, code, there, now)
                objects.adopt(conn, level, code, there, now)
                if level is Level.AD:
                    log.close_intervals(conn, [(code, log.PAUSED)], now)
            log.record(conn, [{
                "at": now, "rule": None, "level": level.value, "code": code, "account": row.account,
                "mode": "manual", "before": state_doc(row.state), "after": row.drift, "version": None,
                "reason": f"drift resolved: {keep}'s state kept", "numbers": {}, "caused_by": None, "decided_by": None,
            }])  # fmt: skip


def _remote_doc(there: Remote | None) -> dict[str, Any]:
    return {"missing": True} if there is None else state_doc(there.state)


def _drift_action(account: str, row: outbox.StateRow, there: Remote | None, now: datetime) -> dict[str, object]:
    after = _remote_doc(there)
    what = "is gone from the platform" if there is None else "was changed on the platform"
    return {
        "at": now, "rule": None, "level": row.level.value, "code": row.code, "account": account, "mode": "drift",
        "before": state_doc(row.state), "after": after, "reason": f"{row.level.value} {row.code} {what}; "
        "left as it is there until an operator keeps one state", "numbers": {}, "version": row.version,
        "caused_by": None, "decided_by": None,
    }  # fmt: skip


def _next_day(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
