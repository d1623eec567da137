"""Channel registry use cases: create, update, deactivate, list, and the policies ATP is computed by."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.channels import store
from keel.channels.model import CODE_RE, ChannelKind, Policy, parse_policy, policy_document
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES, CURRENCIES

CHANNEL_EVENTS = frozenset({"channel.created", "channel.updated"})
_FIELDS = ("code", "name", "kind", "countries", "currency", "policy")


class LocationDirectory(Protocol):
    """Port: which location and group codes exist (implemented by the inventory context)."""

    def known_codes(self, conn: Connection) -> tuple[set[str], set[str]]: ...


@dataclass(frozen=True)
class ChannelPolicy:
    id: int
    code: str
    countries: tuple[str, ...]
    policy: Policy


class ChannelService:
    def __init__(self, db: Database, events: EventLog, directory: LocationDirectory) -> None:
        self.db = db
        self.events = events
        self.directory = directory

    def create(self, values: dict[str, Any]) -> dict[str, Any]:
        """Register a channel with its availability policy; emits ``channel.created``."""
        values = {k: values.get(k) for k in _FIELDS}
        values["policy"] = values["policy"] or {}
        now = utcnow()
        with self.db.write() as conn:
            row = self._validated(conn, values, creating=True)
            if conn.execute(sa.select(store.channels.c.id).where(store.channels.c.code == row["code"])).first():
                raise Conflict(f"channel {row['code']!r} already exists")
            conn.execute(store.channels.insert().values(**row, active=True, created_at=now, updated_at=now))
            self.events.append(conn, [NewEvent("channel.created", row["code"], {"code": row["code"]})])
            return self._get(conn, row["code"])

    def update(self, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields (not the code); a new policy triggers a recompute of the channel's availability."""
        with self.db.write() as conn:
            current = self._get(conn, code)
            merged = {k: changes.get(k, current[k]) for k in _FIELDS if k != "code"} | {"code": code}
            row = self._validated(conn, merged, creating=False)
            row.pop("code")
            active = changes.get("active", current["active"])
            if not isinstance(active, bool):
                raise ValidationFailed("invalid channel", [FieldError(None, "active", "must be true or false")])
            conn.execute(
                store.channels.update()
                .where(store.channels.c.code == code)
                .values(**row, active=active, updated_at=utcnow())
            )
            self.events.append(conn, [NewEvent("channel.updated", code, {"code": code, "fields": sorted(changes)})])
            return self._get(conn, code)

    def deactivate(self, code: str) -> dict[str, Any]:
        return self.update(code, {"active": False})

    def get(self, code: str) -> dict[str, Any]:
        with self.db.read() as conn:
            return self._get(conn, code)

    def list(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[builtins.list[dict[str, Any]], int]:
        t = store.channels
        with self.db.read() as conn:
            query = sa.select(t).order_by(t.c.code)
            if kind:
                query = query.where(t.c.kind == kind)
            if active is not None:
                query = query.where(t.c.active.is_(active))
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if country:  # countries is a JSON list; filtering in Python keeps one query for both databases
            rows = [r for r in rows if country.upper() in r["countries"]]
        return rows[offset : offset + limit], len(rows)

    def policies(self, conn: Connection) -> builtins.list[ChannelPolicy]:
        """Active channels with their parsed policies (as stored: already validated)."""
        t = store.channels
        out = []
        for r in conn.execute(sa.select(t).where(t.c.active.is_(True)).order_by(t.c.id)):
            policy, _ = parse_policy(r.policy, list(r.countries))
            out.append(ChannelPolicy(r.id, r.code, tuple(r.countries), policy))
        return out

    def codes_by_id(self, conn: Connection) -> dict[int, str]:
        return dict(conn.execute(sa.select(store.channels.c.id, store.channels.c.code)).tuples().all())

    def _get(self, conn: Connection, code: str) -> dict[str, Any]:
        row = conn.execute(sa.select(store.channels).where(store.channels.c.code == code)).first()
        if row is None:
            raise NotFound(f"channel {code!r} does not exist")
        return dict(row._mapping)

    def _validated(self, conn: Connection, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        errors: builtins.list[FieldError] = []
        code = str(values.get("code") or "")
        if creating and not CODE_RE.fullmatch(code):
            errors.append(FieldError(None, "code", "1-64 letters, digits or ._- starting alphanumeric"))
        if not str(values.get("name") or "").strip():
            errors.append(FieldError(None, "name", "must not be empty"))
        if values.get("kind") not in {k.value for k in ChannelKind}:
            errors.append(FieldError(None, "kind", f"one of {', '.join(k.value for k in ChannelKind)}"))
        countries = [str(c).upper() for c in values.get("countries") or []]
        if not countries:
            errors.append(FieldError(None, "countries", "name at least one country"))
        for c in countries:
            if c not in COUNTRIES:
                errors.append(FieldError(None, "countries", f"not an ISO 3166-1 alpha-2 code: {c!r}"))
        currency = str(values.get("currency") or "").upper()
        if currency not in CURRENCIES:
            errors.append(FieldError(None, "currency", f"not an ISO 4217 code: {currency!r}"))
        policy, policy_errors = parse_policy(values.get("policy") or {}, countries)
        errors.extend(policy_errors)
        known_locations, known_groups = self.directory.known_codes(conn)
        for country, src in policy.sources.items():
            for loc in sorted(set(src.locations) - known_locations):
                errors.append(FieldError(None, f"policy.sources.{country}.locations", f"unknown location {loc!r}"))
            for grp in sorted(set(src.groups) - known_groups):
                errors.append(FieldError(None, f"policy.sources.{country}.groups", f"unknown location group {grp!r}"))
        if errors:
            raise ValidationFailed("invalid channel", errors)
        return {
            "code": code,
            "name": str(values["name"]).strip(),
            "kind": values["kind"],
            "countries": sorted(set(countries)),
            "currency": currency,
            "policy": policy_document(policy),
        }
