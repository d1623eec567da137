"""Sourcing policies as data: one document per channel (or the "*" default), read by every planning path.

Capture, re-routing after a rejection, backorder filling and waves all plan with ``PolicyBook``, so a
changed policy applies to the next order the moment it is saved, with no restart.
"""

from __future__ import annotations

from typing import Any

from keel.orders.service.common import DEFAULT_POLICY, SOURCE, PolicyBook, stored_sourcing
from keel.orders.service.inputs import SourcingInputs
from keel.orders.sourcing.spec import default_sourcing, omitted_defaults, parse_sourcing, to_document
from keel.orders.store import policies
from keel.orders.views import SourcingPolicyView, StoredPolicy
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import FieldError, NotFound, ValidationFailed
from keel.platform.events import NewEvent, SqlEventLog
from keel.platform.scope import OutOfScope, Scope


class PolicyOrders:
    """Operators' sourcing policy documents."""

    def __init__(self, db: Database, events: SqlEventLog, inputs: SourcingInputs, book: PolicyBook) -> None:
        self.db = db
        self.events = events
        self.inputs = inputs
        self.book = book

    def set(self, channel: str, document: Any, scope: Scope = Scope.ALL) -> SourcingPolicyView:
        """Validate and save the channel's policy (``"*"``: every channel without its own)."""
        self._check_write(channel, scope)
        _, problems = parse_sourcing(document)
        errors = [FieldError(None, e.field, e.reason) for e in problems] + self._unknown_nodes(document)
        if errors:
            raise ValidationFailed("invalid sourcing policy", errors)
        with self.db.write() as conn:
            policies.put(conn, channel, document, utcnow())
            event = NewEvent(
                "sourcing.policy_set", f"sourcing-policies/{channel}", {"channel": channel, "policy": document}, SOURCE
            )
            self.events.append(conn, [event])
        return self._view(channel, tuple(omitted_defaults(document)))

    def _unknown_nodes(self, document: Any) -> list[FieldError]:
        """Excluded nodes must be real locations: a mistyped code would exclude nothing, silently."""
        listed = document.get("filters") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            return []
        known = self.inputs.location_codes()
        out = []
        for i, item in enumerate(listed, start=1):
            if isinstance(item, dict) and item.get("kind") == "excluded" and isinstance(item.get("nodes"), list):
                missing = sorted({n for n in item["nodes"] if isinstance(n, str) and n.strip() not in known})
                if missing:
                    out.append(FieldError(None, f"filters[{i}].nodes", f"unknown locations: {', '.join(missing)}"))
        return out

    def delete(self, channel: str, scope: Scope = Scope.ALL) -> None:
        """Drop the channel's own policy: it falls back to the "*" default, then to the built-in one."""
        self._check_write(channel, scope)
        with self.db.write() as conn:
            if not policies.delete(conn, channel):
                raise NotFound(f"channel {channel!r} has no sourcing policy of its own")
            event = NewEvent("sourcing.policy_removed", f"sourcing-policies/{channel}", {"channel": channel}, SOURCE)
            self.events.append(conn, [event])

    def get(self, channel: str, scope: Scope = Scope.ALL) -> SourcingPolicyView:
        """The policy in effect for ``channel``: its own, else the "*" default, else the built-in one; the
        stored document and the full effective one (every filter with its numbers). A channel outside
        ``scope`` is not found; the "*" default is readable by all (it may be what their channels use)."""
        if channel != DEFAULT_POLICY:
            if not scope.sees_channel(channel):
                raise NotFound(f"channel {channel!r} does not exist")
            self.inputs.channel(channel)
        return self._view(channel, ())

    def list(self, scope: Scope = Scope.ALL) -> list[StoredPolicy]:
        """The stored documents: one per channel that has its own (in ``scope``), and ``*``."""
        with self.db.read() as conn:
            found = policies.every(conn)
        return [p for p in found if p.channel == DEFAULT_POLICY or scope.sees_channel(p.channel)]

    def _check_write(self, channel: str, scope: Scope) -> None:
        """A policy is the channel's in every country it sells to, and "*" is every channel's: a restricted
        identity may change only its own channels' policies, and only without a country restriction."""
        if channel == DEFAULT_POLICY:
            if scope.channels is not None:
                raise OutOfScope("the '*' sourcing policy applies to every channel; your restrictions allow only some")
        else:
            if not scope.sees_channel(channel):
                raise NotFound(f"channel {channel!r} does not exist")
            self.inputs.channel(channel)  # NotFound for an unknown channel
        scope.check_every_country(f"the sourcing policy of {channel!r}")

    def _view(self, channel: str, warnings: tuple[str, ...]) -> SourcingPolicyView:
        rows = self.book.stored([channel])
        own = rows.get(channel) or rows.get(DEFAULT_POLICY)
        if channel == DEFAULT_POLICY:
            source = "default" if own else "built-in"
        else:
            source = "channel" if channel in rows else ("default" if DEFAULT_POLICY in rows else "built-in")
        sourcing = default_sourcing() if own is None else stored_sourcing(own.document)
        return SourcingPolicyView(
            channel=channel,
            source=source,
            document=None if own is None else own.document,
            updated_at=None if own is None else own.updated_at,
            effective=to_document(sourcing),
            warnings=warnings,
        )
