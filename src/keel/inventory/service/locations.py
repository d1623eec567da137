"""Locations and location groups."""

from __future__ import annotations

import builtins
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import validate_location_fields
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES

_REQUIRED = frozenset({"name", "kind", "country", "capabilities", "active"})
_FIELDS = (
    "code",
    "name",
    "kind",
    "country",
    "region",
    "city",
    "latitude",
    "longitude",
    "capabilities",
    "daily_capacity",
)


def _public(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["capabilities"] = sorted(data["capabilities"] or [])
    return data


class LocationService:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def create(self, values: dict[str, Any]) -> dict[str, Any]:
        """Create a location; ``code`` must be new."""
        values = {k: values.get(k) for k in _FIELDS}
        values["capabilities"] = sorted(set(values["capabilities"] or []))
        values["country"] = str(values["country"] or "").upper()
        errors = validate_location_fields(values, COUNTRIES)
        if errors:
            raise ValidationFailed("invalid location", errors)
        now = utcnow()
        with self.db.write() as conn:
            if conn.execute(sa.select(store.locations.c.id).where(store.locations.c.code == values["code"])).first():
                raise Conflict(f"location {values['code']!r} already exists")
            conn.execute(store.locations.insert().values(**values, active=True, created_at=now, updated_at=now))
            self.events.append(conn, [NewEvent("location.created", values["code"], {"code": values["code"]})])
            return self._get(conn, values["code"])

    def update(self, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change any field but the code; ``active`` false deactivates (movements are then refused)."""
        changes = {k: v for k, v in changes.items() if k in (*_FIELDS, "active") and k != "code"}
        # null means "not changing" for the fields a location must always have
        changes = {k: v for k, v in changes.items() if v is not None or k not in _REQUIRED}
        if "country" in changes:
            changes["country"] = str(changes["country"] or "").upper()
        if "capabilities" in changes:
            changes["capabilities"] = sorted(set(changes["capabilities"] or []))
        errors = validate_location_fields(changes, COUNTRIES)
        if errors:
            raise ValidationFailed("invalid location", errors)
        with self.db.write() as conn:
            self._get(conn, code)
            if changes:
                conn.execute(
                    store.locations.update()
                    .where(store.locations.c.code == code)
                    .values(**changes, updated_at=utcnow())
                )
                self.events.append(
                    conn, [NewEvent("location.updated", code, {"code": code, "fields": sorted(changes)})]
                )
            return self._get(conn, code)

    def deactivate(self, code: str) -> dict[str, Any]:
        return self.update(code, {"active": False})

    def get(self, code: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return self._get(conn, code)

    def _get(self, conn: Connection, code: str) -> dict[str, Any]:
        row = conn.execute(sa.select(store.locations).where(store.locations.c.code == code)).first()
        if row is None:
            raise NotFound(f"location {code!r} does not exist")
        return _public(row)

    def list(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[builtins.list[dict[str, Any]], int]:
        """A page of locations and the total matching the filters."""
        t = store.locations
        query = sa.select(t)
        for column, value in (
            (t.c.kind, kind),
            (t.c.country, country.upper() if country else None),
            (t.c.active, active),
        ):
            if value is not None:
                query = query.where(column == value)
        with self.db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
            rows = conn.execute(query.order_by(t.c.code).limit(limit).offset(offset))
            return [_public(r) for r in rows], int(total)

    def active_ids(self, conn: Connection) -> dict[str, int]:
        """code -> id of active locations: the set a movement may name."""
        t = store.locations
        return dict(conn.execute(sa.select(t.c.code, t.c.id).where(t.c.active.is_(True))).tuples().all())

    def codes_by_id(self, conn: Connection) -> dict[int, str]:
        t = store.locations
        return dict(conn.execute(sa.select(t.c.id, t.c.code)).tuples().all())

    # -- groups -------------------------------------------------------------------------------------------
    def create_group(self, code: str, name: str, members: builtins.list[str]) -> dict[str, Any]:
        """Create a named group of locations (used by channel availability policies)."""
        with self.db.write() as conn:
            if conn.execute(sa.select(store.location_groups.c.id).where(store.location_groups.c.code == code)).first():
                raise Conflict(f"location group {code!r} already exists")
            ids = self._resolve(conn, members)
            inserted = conn.execute(store.location_groups.insert().values(code=code, name=name)).inserted_primary_key
            assert inserted is not None
            group_id = inserted[0]
            if ids:
                conn.execute(
                    store.location_group_members.insert(),
                    [{"group_id": group_id, "location_id": i} for i in ids],
                )
            self.events.append(conn, [NewEvent("location_group.created", code, {"code": code, "members": members})])
        return {"code": code, "name": name, "members": sorted(members)}

    def set_group_members(self, code: str, members: builtins.list[str]) -> dict[str, Any]:
        with self.db.write() as conn:
            group = conn.execute(sa.select(store.location_groups).where(store.location_groups.c.code == code)).first()
            if group is None:
                raise NotFound(f"location group {code!r} does not exist")
            ids = self._resolve(conn, members)
            m = store.location_group_members
            conn.execute(m.delete().where(m.c.group_id == group.id))
            if ids:
                conn.execute(m.insert(), [{"group_id": group.id, "location_id": i} for i in ids])
            self.events.append(conn, [NewEvent("location_group.updated", code, {"code": code, "members": members})])
        return {"code": code, "name": group.name, "members": sorted(members)}

    def groups(self) -> builtins.list[dict[str, Any]]:
        with self.db.read() as conn:
            members = self.group_members(conn)
            rows = conn.execute(sa.select(store.location_groups).order_by(store.location_groups.c.code))
            return [{"code": r.code, "name": r.name, "members": sorted(members.get(r.code, []))} for r in rows]

    def group_members(self, conn: Connection) -> dict[str, builtins.list[str]]:
        g, m, loc = store.location_groups, store.location_group_members, store.locations
        query = sa.select(g.c.code, loc.c.code).join(m, m.c.group_id == g.c.id).join(loc, loc.c.id == m.c.location_id)
        out: dict[str, builtins.list[str]] = {}
        for group_code, loc_code in conn.execute(query):
            out.setdefault(group_code, []).append(loc_code)
        return out

    def _resolve(self, conn: Connection, codes: builtins.list[str]) -> builtins.list[int]:
        known = dict(conn.execute(sa.select(store.locations.c.code, store.locations.c.id)).tuples().all())
        missing = sorted(set(codes) - set(known))
        if missing:
            raise ValidationFailed(
                "unknown locations", [FieldError(None, "members", f"unknown location {c!r}") for c in missing]
            )
        return sorted({known[c] for c in codes})
