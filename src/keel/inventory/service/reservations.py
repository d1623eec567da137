"""Reservations: cart holds with an expiry, taken atomically so they never oversell."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import EFFECTS, Kind, Movement, Reservation, empty_position
from keel.inventory.service.ledger import CLIENT_ID_MAX, CLIENT_ID_RE, Ledger
from keel.platform.clock import utcnow
from keel.platform.db import to_micros
from keel.platform.errors import Conflict, InsufficientStock, KeelError, NotFound, single_field
from keel.platform.scope import Scope
from keel.platform.vocabulary import MAX_QUANTITY, SKU_RE, SKU_RULE

logger = logging.getLogger("keel.inventory")


class Reservations(Ledger):
    # -- reservations -------------------------------------------------------------------------------------
    def reserve(
        self,
        sku: str,
        location: str,
        quantity: int,
        ttl_seconds: float,
        reservation_id: str | None = None,
        reference: str | None = None,
    ) -> Reservation:
        """Hold ``quantity`` units for ``ttl_seconds``; atomic, so it never takes more than is available."""
        return self.reserve_once(sku, location, quantity, ttl_seconds, reservation_id, reference)[0]

    def reserve_once(
        self,
        sku: str,
        location: str,
        quantity: int,
        ttl_seconds: float,
        reservation_id: str | None = None,
        reference: str | None = None,
        scope: Scope = Scope.ALL,
    ) -> tuple[Reservation, bool]:
        """``reserve``, also saying whether the reservation was created now (False: an identical repeat of
        ``reservation_id``, answered with the original; other content under it raises ``Conflict``)."""
        if not SKU_RE.fullmatch(sku):
            raise single_field("sku", SKU_RULE)
        if quantity <= 0:
            raise single_field("quantity", f"must be > 0, got {quantity}")
        if quantity > MAX_QUANTITY:
            raise single_field("quantity", f"must be at most {MAX_QUANTITY}, got {quantity}")
        if not 0 < ttl_seconds <= 7 * 86400:
            raise single_field("ttl_seconds", "must be > 0 and at most 7 days")
        rid = reservation_id or uuid.uuid4().hex
        if not CLIENT_ID_RE.fullmatch(rid):
            raise single_field("id", f"1-{CLIENT_ID_MAX} letters, digits or ._:- starting alphanumeric")
        now = utcnow()
        with self._transaction() as conn:
            location_id = self._location_id(conn, location)
            self.locations.check_in_scope(conn, [location], scope)
            store.lock_client_id(conn, "reservation", rid)
            prior = store.get_reservation(conn, rid)
            if prior is not None:
                if (prior.sku, prior.location, prior.quantity) != (sku, location, quantity):
                    raise Conflict(f"reservation {rid!r} exists with other content")
                return prior, False
            now_us = to_micros(now)
            if not store.conditional_move(conn, sku, location_id, EFFECTS[Kind.RESERVED], quantity, now_us):
                have = store.load_positions(conn, [(sku, location_id)]).get((sku, location_id), empty_position())
                raise InsufficientStock(
                    f"cannot reserve {quantity} of {sku} at {location}: {max(0, have[1])} available",
                    available=max(0, have[1]),
                )
            expires_at = now + timedelta(seconds=ttl_seconds)
            store.insert_reservation(conn, rid, sku, location_id, quantity, reference, expires_at, now)
            self._record(
                conn,
                [Movement(f"rsv:{rid}", Kind.RESERVED, sku, location_id, quantity, now, None, reference)],
                "reservations",
                now_us,
            )
            return self._reservation(conn, rid), True

    def release(self, reservation_id: str, scope: Scope = Scope.ALL) -> Reservation:
        """Give a held quantity back to available (a cart abandoned or an order cancelled)."""
        return self._close(reservation_id, Kind.RELEASED, "released", scope)

    def commit_reservation(self, reservation_id: str, scope: Scope = Scope.ALL) -> Reservation:
        """Turn a hold into committed stock (checkout completed)."""
        return self._close(reservation_id, Kind.RESERVATION_COMMITTED, "committed", scope)

    def expire_due(self, now: datetime | None = None, limit: int = 1000) -> int:
        """Release every active reservation whose expiry has passed; returns how many were released."""
        now = now or utcnow()
        with self._transaction() as conn:
            due = store.due_reservations(conn, now, limit)
            released = 0
            for rid in due:
                # One savepoint each: a hold that cannot be closed (its stock was moved by hand) is logged
                # and skipped instead of rolling back, and so blocking, every other expiry.
                try:
                    with conn.begin_nested():
                        self._close_in(conn, rid, Kind.RELEASED, "expired")
                    released += 1
                except KeelError as exc:
                    logger.warning("reservation %s not expired: %s", rid, exc.detail)
            return released

    def _close(self, rid: str, kind: Kind, status: str, scope: Scope = Scope.ALL) -> Reservation:
        with self._transaction() as conn:
            self.locations.check_in_scope(conn, [self._reservation(conn, rid).location], scope)
            return self._close_in(conn, rid, kind, status)

    def _close_in(self, conn: Connection, rid: str, kind: Kind, status: str) -> Reservation:
        res = self._reservation(conn, rid, lock=True)
        if res.status != "active":
            if res.status == status:
                return res  # repeated release/commit: idempotent
            raise Conflict(f"reservation {rid!r} is {res.status}, not active")
        now = utcnow()
        now_us = to_micros(now)
        if not store.conditional_move(conn, res.sku, res.location_id, EFFECTS[kind], res.quantity, now_us):
            raise Conflict(f"reservation {rid!r} no longer matches the position")  # ledger corruption guard
        store.close_reservation(conn, rid, status, now)
        movement = Movement(f"rsv:{rid}:{status}", kind, res.sku, res.location_id, res.quantity, now)
        self._record(conn, [movement], "reservations", now_us)
        return self._reservation(conn, rid)

    def reservation(self, rid: str, scope: Scope = Scope.ALL) -> Reservation:
        """The hold ``rid``; ``NotFound`` when there is none or its location's country is outside ``scope``."""
        with self.db.read() as conn:
            found = self._reservation(conn, rid)
            if scope.countries is not None:
                country = store.countries_of(conn, [found.location]).get(found.location)
                if not scope.sees_country(country):
                    raise NotFound(f"reservation {rid!r} does not exist")
            return found

    def _reservation(self, conn: Connection, rid: str, *, lock: bool = False) -> Reservation:
        found = store.get_reservation(conn, rid, lock=lock)
        if found is None:
            raise NotFound(f"reservation {rid!r} does not exist")
        return found
