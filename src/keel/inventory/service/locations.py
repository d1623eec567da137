"""Locations and location groups."""

from __future__ import annotations

import builtins
from dataclasses import asdict
from typing import Any

from sqlalchemy.engine import Connection

from keel.inventory import store
from keel.inventory.model import CreateLocation, Location, LocationChanges, LocationGroup, validate_location_fields
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES
from keel.platform.scope import Scope

_REQUIRED = frozenset({"name", "kind", "country", "capabilities", "active"})
_CHANGEABLE = frozenset(LocationChanges.__annotations__)


class LocationService:
    def __init__(self, db: Database, events: EventLog) -> None:
        self.db = db
        self.events = events

    def create(self, command: CreateLocation, scope: Scope = Scope.ALL) -> Location:
        """Create a location; ``code`` must be new. Emits ``location.created``. A country outside ``scope``
        raises ``OutOfScope`` (403)."""
        values: dict[str, Any] = asdict(command)
        values["capabilities"] = sorted(set(values["capabilities"] or []))
        values["country"] = str(values["country"] or "").upper()
        errors = validate_location_fields(values, COUNTRIES)
        if errors:
            raise ValidationFailed("invalid location", errors)
        scope.check_country(values["country"])
        now = utcnow()
        with self.db.write() as conn:
            if store.get_location(conn, command.code) is not None:
                raise Conflict(f"location {command.code!r} already exists")
            store.insert_location(conn, values, now)
            self.events.append(conn, [NewEvent("location.created", command.code, {"code": command.code})])
            return self._get(conn, command.code)

    def update(self, code: str, changes: LocationChanges, scope: Scope = Scope.ALL) -> Location:
        """Change any field but the code; ``active`` false deactivates (movements are then refused)."""
        values: dict[str, Any] = {k: v for k, v in changes.items() if k in _CHANGEABLE}
        # null means "not changing" for the fields a location must always have
        values = {k: v for k, v in values.items() if v is not None or k not in _REQUIRED}
        if "country" in values:
            values["country"] = str(values["country"] or "").upper()
        if "capabilities" in values:
            values["capabilities"] = sorted(set(values["capabilities"] or []))
        errors = validate_location_fields(values, COUNTRIES)
        if errors:
            raise ValidationFailed("invalid location", errors)
        with self.db.write() as conn:
            scope.check_country(self._get(conn, code).country, f"the country of location {code!r}")
            if "country" in values:
                scope.check_country(values["country"])
            if values:
                store.update_location(conn, code, values, utcnow())
                self.events.append(conn, [NewEvent("location.updated", code, {"code": code, "fields": sorted(values)})])
            return self._get(conn, code)

    def deactivate(self, code: str, scope: Scope = Scope.ALL) -> Location:
        """Deactivate a location: movements naming it are refused from now on."""
        return self.update(code, {"active": False}, scope)

    def get(self, code: str, scope: Scope = Scope.ALL) -> Location:
        """The location with ``code``; ``NotFound`` when there is none or its country is outside ``scope``."""
        with self.db.read() as conn:
            found = self._get(conn, code)
        if not scope.sees_country(found.country):
            raise NotFound(f"location {code!r} does not exist")
        return found

    def check_in_scope(self, conn: Connection, codes: builtins.list[str], scope: Scope) -> None:
        """``OutOfScope`` (403) naming the first of ``codes`` whose location is in a country outside ``scope``
        (unknown codes are left to the caller's own validation)."""
        if scope.countries is None:
            return
        countries = store.countries_of(conn, sorted(set(codes)))
        for code in codes:
            if code in countries:
                scope.check_country(countries[code], f"the country of location {code!r}")

    def _get(self, conn: Connection, code: str) -> Location:
        found = store.get_location(conn, code)
        if found is None:
            raise NotFound(f"location {code!r} does not exist")
        return found

    def list(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[builtins.list[Location], int]:
        """A page of locations and the total matching the filters (only in ``scope``'s countries)."""
        with self.db.read() as conn:
            return store.list_locations(
                conn,
                kind=kind,
                country=country.upper() if country else None,
                active=active,
                limit=limit,
                offset=offset,
                countries=scope.countries,
            )

    def active_ids(self, conn: Connection) -> dict[str, int]:
        """code -> id of active locations: the set a movement may name."""
        return store.active_ids(conn)

    def active_ids_of(self, conn: Connection, codes: builtins.list[str]) -> dict[str, int]:
        """code -> id of the active locations among ``codes`` (a batch's locations, not all of them)."""
        return store.active_ids_of(conn, codes)

    def codes_by_id(self, conn: Connection) -> dict[int, str]:
        """id -> code of every location, active or not."""
        return store.codes_by_id(conn)

    def known_codes(self, conn: Connection) -> tuple[set[str], set[str]]:
        """Every location code and every group code: the channels context's location directory port."""
        return set(store.ids_by_code(conn)), store.group_codes(conn)

    # -- groups -------------------------------------------------------------------------------------------
    def create_group(
        self, code: str, name: str, members: builtins.list[str], scope: Scope = Scope.ALL
    ) -> LocationGroup:
        """Create a named group of locations (used by channel availability policies); every member must be in
        ``scope``'s countries."""
        with self.db.write() as conn:
            if store.get_group_name(conn, code) is not None:
                raise Conflict(f"location group {code!r} already exists")
            ids = self._resolve(conn, members)
            self.check_in_scope(conn, members, scope)
            store.insert_group(conn, code, name, ids)
            self.events.append(conn, [NewEvent("location_group.created", code, {"code": code, "members": members})])
        return LocationGroup(code, name, tuple(sorted(members)))

    def set_group_members(self, code: str, members: builtins.list[str], scope: Scope = Scope.ALL) -> LocationGroup:
        """Replace a group's members; channels listing from the group are recomputed. A restricted identity
        may only change a group whose current and new members are all in its countries."""
        with self.db.write() as conn:
            name = store.get_group_name(conn, code)
            if name is None:
                raise NotFound(f"location group {code!r} does not exist")
            current = store.group_members(conn).get(code, [])
            if current and not self._visible(conn, current, scope):
                raise NotFound(f"location group {code!r} does not exist")
            self.check_in_scope(conn, current, scope)
            ids = self._resolve(conn, members)
            self.check_in_scope(conn, members, scope)
            store.replace_group_members(conn, code, ids)
            self.events.append(conn, [NewEvent("location_group.updated", code, {"code": code, "members": members})])
        return LocationGroup(code, name, tuple(sorted(members)))

    def groups(self, scope: Scope = Scope.ALL) -> builtins.list[LocationGroup]:
        """Every group by code, with its members. Under a country restriction: only the members in those
        countries, and only groups with at least one of them."""
        with self.db.read() as conn:
            found = store.list_groups(conn)
            if scope.countries is None:
                return found
            out = []
            for group in found:
                members = self._visible(conn, list(group.members), scope)
                if members:
                    out.append(LocationGroup(group.code, group.name, tuple(members)))
            return out

    def _visible(self, conn: Connection, codes: builtins.list[str], scope: Scope) -> builtins.list[str]:
        """The ``codes`` whose locations are in ``scope``'s countries, in order."""
        if scope.countries is None:
            return codes
        countries = store.countries_of(conn, sorted(set(codes)))
        return [c for c in codes if scope.sees_country(countries.get(c))]

    def group_members(self, conn: Connection) -> dict[str, builtins.list[str]]:
        """group code -> member location codes."""
        return store.group_members(conn)

    def _resolve(self, conn: Connection, codes: builtins.list[str]) -> builtins.list[int]:
        known = store.ids_by_code(conn)
        missing = sorted(set(codes) - set(known))
        if missing:
            raise ValidationFailed(
                "unknown locations", [FieldError(None, "members", f"unknown location {c!r}") for c in missing]
            )
        return sorted({known[c] for c in codes})
