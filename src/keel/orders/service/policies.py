"""Sourcing policies as data: one document per channel (or the "*" default), read by every planning path.

Capture, re-routing after a rejection, backorder filling and waves all plan with ``sourcing_for``, so a
changed policy applies to the next order the moment it is saved, with no restart.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from keel.orders import store
from keel.orders.service.base import DEFAULT_POLICY, EVERY_LOCATION, SOURCE, OrdersBase, stored_sourcing
from keel.orders.sourcing.spec import default_sourcing, omitted_defaults, parse_sourcing, to_document
from keel.platform.clock import utcnow
from keel.platform.db import upsert_insert
from keel.platform.errors import FieldError, NotFound, ValidationFailed
from keel.platform.events import NewEvent


class PolicyOrders(OrdersBase):
    def set_sourcing_policy(self, channel: str, document: Any) -> dict[str, Any]:
        """Validate and save the channel's policy (``"*"``: every channel without its own)."""
        if channel != DEFAULT_POLICY:
            self.channels.get(channel)  # NotFound for an unknown channel
        _, problems = parse_sourcing(document)
        errors = [FieldError(None, e.field, e.reason) for e in problems] + self._unknown_nodes(document)
        if errors:
            raise ValidationFailed("invalid sourcing policy", errors)
        now = utcnow()
        with self.db.write() as conn:
            stmt = upsert_insert(conn, store.sourcing_policies).values(
                channel=channel, document=document, updated_at=now
            )
            conn.execute(
                stmt.on_conflict_do_update(index_elements=["channel"], set_={"document": document, "updated_at": now})
            )
            self.events.append(
                conn,
                [
                    NewEvent(
                        "sourcing.policy_set",
                        f"sourcing-policies/{channel}",
                        {"channel": channel, "policy": document},
                        SOURCE,
                    )
                ],
            )
        return {**self.get_sourcing_policy(channel), "warnings": omitted_defaults(document)}

    def _unknown_nodes(self, document: Any) -> list[FieldError]:
        """Excluded nodes must be real locations: a mistyped code would exclude nothing, silently."""
        listed = document.get("filters") if isinstance(document, dict) else None
        if not isinstance(listed, list):
            return []
        known = {loc["code"] for loc in self.locations.list(limit=EVERY_LOCATION)[0]}
        out = []
        for i, item in enumerate(listed, start=1):
            if isinstance(item, dict) and item.get("kind") == "excluded" and isinstance(item.get("nodes"), list):
                missing = sorted({n for n in item["nodes"] if isinstance(n, str) and n.strip() not in known})
                if missing:
                    out.append(FieldError(None, f"filters[{i}].nodes", f"unknown locations: {', '.join(missing)}"))
        return out

    def delete_sourcing_policy(self, channel: str) -> None:
        """Drop the channel's own policy: it falls back to the "*" default, then to the built-in one."""
        p = store.sourcing_policies
        with self.db.write() as conn:
            gone = conn.execute(p.delete().where(p.c.channel == channel)).rowcount
            if not gone:
                raise NotFound(f"channel {channel!r} has no sourcing policy of its own")
            self.events.append(
                conn,
                [NewEvent("sourcing.policy_removed", f"sourcing-policies/{channel}", {"channel": channel}, SOURCE)],
            )

    def get_sourcing_policy(self, channel: str) -> dict[str, Any]:
        """The policy in effect for ``channel``: its own, else the "*" default, else the built-in one; the
        stored document and the full effective one (every filter with its numbers)."""
        if channel != DEFAULT_POLICY:
            self.channels.get(channel)
        rows = self.policy_rows([channel])
        own = rows.get(channel) or rows.get(DEFAULT_POLICY)
        if channel == DEFAULT_POLICY:
            source = "default" if own else "built-in"
        else:
            source = "channel" if channel in rows else ("default" if DEFAULT_POLICY in rows else "built-in")
        sourcing = default_sourcing() if own is None else stored_sourcing(own["document"])
        return {
            "channel": channel,
            "source": source,
            "document": None if own is None else own["document"],
            "updated_at": None if own is None else own["updated_at"],
            "effective": to_document(sourcing),
        }

    def list_sourcing_policies(self) -> list[dict[str, Any]]:
        p = store.sourcing_policies
        with self.db.read() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(p).order_by(p.c.channel))]
