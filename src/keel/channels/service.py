"""Channel registry use cases: create, update, deactivate, list, and the policies ATP is computed by."""

from __future__ import annotations

import builtins
from typing import Protocol

from sqlalchemy.engine import Connection

from keel.channels import store
from keel.channels.model import Channel, ChannelChanges, ChannelKind, CreateChannel, parse_policy, policy_document
from keel.platform.clock import utcnow
from keel.platform.db import Database, Later
from keel.platform.errors import Conflict, FieldError, NotFound, ValidationFailed
from keel.platform.events import EventLog, NewEvent
from keel.platform.geo import COUNTRIES, CURRENCIES
from keel.platform.scope import Scope
from keel.platform.vocabulary import CODE_RE, CODE_RULE

CHANNEL_EVENTS = frozenset({"channel.created", "channel.updated"})


class LocationDirectory(Protocol):
    """Port: which location and group codes exist (implemented by the inventory context)."""

    def known_codes(self, conn: Connection) -> tuple[set[str], set[str]]:
        """(every location code, every location group code), read in the caller's transaction."""
        ...


class ChannelService:
    def __init__(self, db: Database, events: EventLog, directory: LocationDirectory) -> None:
        self.db = db
        self.events = events
        self.directory = directory

    def create(self, command: CreateChannel, scope: Scope = Scope.ALL) -> Channel:
        """Register a channel with its availability policy; emits ``channel.created``."""
        scope.check_channel(command.code)
        now = utcnow()
        with self.db.write() as conn:
            channel = self._validated(conn, command, creating=True)
            if store.channel_exists(conn, channel.code):
                raise Conflict(f"channel {channel.code!r} already exists")
            store.insert_channel(conn, channel, now)
            self.events.append(conn, [NewEvent("channel.created", channel.code, {"code": channel.code})])
            return self._get(conn, channel.code)

    def update(self, code: str, changes: ChannelChanges, scope: Scope = Scope.ALL) -> Channel:
        """Change fields (not the code); a new policy triggers a recompute of the channel's availability.
        A channel outside ``scope`` raises ``OutOfScope`` (403) and changes nothing."""
        with self.db.write() as conn:
            current = self._get(conn, code)
            scope.check_channel(code)
            merged = CreateChannel(
                code=code,
                name=changes.get("name", current.name),  # type: ignore[arg-type]
                kind=changes.get("kind", current.kind),  # type: ignore[arg-type]
                countries=tuple(changes.get("countries", current.countries) or ()),
                currency=changes.get("currency", current.currency),  # type: ignore[arg-type]
                policy=changes.get("policy", policy_document(current.policy)) or {},
            )
            channel = self._validated(conn, merged, creating=False)
            active = changes.get("active", current.active)
            if not isinstance(active, bool):
                raise ValidationFailed("invalid channel", [FieldError(None, "active", "must be true or false")])
            store.update_channel(conn, channel, active, utcnow())
            self.events.append(conn, [NewEvent("channel.updated", code, {"code": code, "fields": sorted(changes)})])
            return self._get(conn, code)

    def deactivate(self, code: str, scope: Scope = Scope.ALL) -> Channel:
        """Deactivate a channel: its listings drop to zero at the next projector step."""
        return self.update(code, {"active": False}, scope)

    def get(self, code: str, scope: Scope = Scope.ALL) -> Channel:
        """The channel with ``code``; ``NotFound`` when there is none or it is outside ``scope``."""
        if not scope.sees_channel(code):
            raise NotFound(f"channel {code!r} does not exist")
        with self.db.read() as conn:
            return self._get(conn, code)

    def exists(self, code: str) -> bool:
        """Whether a channel (active or not) has ``code``: what another context asks before it names a channel
        (the catalog's targets)."""
        with self.db.read() as conn:
            return store.channel_exists(conn, code)

    def find(self, conn: Connection, code: str) -> Later[Channel | None]:
        """The channel with ``code`` read in the caller's transaction, or None; sent now (order capture reads
        it with everything else it needs, in its own transaction; see ``Later``)."""
        return store.find_channel(conn, code)

    def list(
        self,
        *,
        kind: str | None = None,
        country: str | None = None,
        active: bool | None = None,
        limit: int = 100,
        offset: int = 0,
        scope: Scope = Scope.ALL,
    ) -> tuple[builtins.list[Channel], int]:
        """A page of channels by code and the total matching the filters (only ``scope``'s channels)."""
        with self.db.read() as conn:
            rows = store.list_channels(conn, kind=kind, active=active, codes=scope.channels)
        if country:  # countries is a JSON list; filtering in Python keeps one query for both databases
            rows = [r for r in rows if country.upper() in r.countries]
        return rows[offset : offset + limit], len(rows)

    def policies(self, conn: Connection) -> builtins.list[Channel]:
        """Active channels with their parsed policies (as stored: already validated)."""
        return store.active_channels(conn)

    def codes_by_id(self, conn: Connection) -> dict[int, str]:
        """id -> code of every channel (inactive ones too: their listings still name them)."""
        return store.codes_by_id(conn)

    def _get(self, conn: Connection, code: str) -> Channel:
        channel = store.get_channel(conn, code)
        if channel is None:
            raise NotFound(f"channel {code!r} does not exist")
        return channel

    def _validated(self, conn: Connection, command: CreateChannel, *, creating: bool) -> CreateChannel:
        """The command normalised (codes upper-cased, policy as its canonical document), or ValidationFailed."""
        # Fields are coerced as they are checked: ``update`` merges loosely typed changes into the command.
        errors: builtins.list[FieldError] = []
        code = str(command.code or "")
        if creating and not CODE_RE.fullmatch(code):
            errors.append(FieldError(None, "code", CODE_RULE))
        name = str(command.name or "").strip()
        if not name:
            errors.append(FieldError(None, "name", "must not be empty"))
        if command.kind not in {k.value for k in ChannelKind}:
            errors.append(FieldError(None, "kind", f"one of {', '.join(k.value for k in ChannelKind)}"))
        countries = [str(c).upper() for c in command.countries or []]
        if not countries:
            errors.append(FieldError(None, "countries", "name at least one country"))
        for c in countries:
            if c not in COUNTRIES:
                errors.append(FieldError(None, "countries", f"not an ISO 3166-1 alpha-2 code: {c!r}"))
        currency = str(command.currency or "").upper()
        if currency not in CURRENCIES:
            errors.append(FieldError(None, "currency", f"not an ISO 4217 code: {currency!r}"))
        policy, policy_errors = parse_policy(command.policy or {}, countries)
        errors.extend(policy_errors)
        known_locations, known_groups = self.directory.known_codes(conn)
        for country, src in policy.sources.items():
            for loc in sorted(set(src.locations) - known_locations):
                errors.append(FieldError(None, f"policy.sources.{country}.locations", f"unknown location {loc!r}"))
            for grp in sorted(set(src.groups) - known_groups):
                errors.append(FieldError(None, f"policy.sources.{country}.groups", f"unknown location group {grp!r}"))
        if errors:
            raise ValidationFailed("invalid channel", errors)
        return CreateChannel(
            code=code,
            name=name,
            kind=str(command.kind),
            countries=tuple(sorted(set(countries))),
            currency=currency,
            policy=policy_document(policy),
        )
