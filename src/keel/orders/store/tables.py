"""Order tables: orders, their lines, shipments (one per node and routing), the timeline and returns.

Locations are referenced by code, not id: the orders context never joins inventory tables, and a code
is what people and carriers see.
"""

from __future__ import annotations

import sqlalchemy as sa

from keel.platform.db import BigId, JsonType, Timestamp, metadata

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(100), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # of the normalised capture: same content, same order
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("fulfilment", sa.String(16), nullable=False),
    sa.Column("customer_name", sa.String(200), nullable=False),
    sa.Column("customer_email", sa.String(200), nullable=True),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("city", sa.String(100), nullable=True),
    sa.Column("postal_code", sa.String(20), nullable=True),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("geocoded", sa.String(16), nullable=False),  # given, city, capital, pickup
    sa.Column("pickup_location", sa.String(64), nullable=True),
    sa.Column("promise_at", Timestamp, nullable=True),
    sa.Column("excluded_nodes", JsonType, nullable=False),  # nodes that rejected a line of this order
    sa.Column("routing", JsonType, nullable=False),  # the sourcing explanation of every plan made
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.UniqueConstraint("channel", "external_id"),
    sa.Index(None, "created_at"),
    sa.Index(None, "status", "created_at"),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price", sa.String(20), nullable=False),
    sa.Column("cancelled", sa.Integer, nullable=False),
    sa.Column("backordered", sa.Integer, nullable=False),
    sa.Index(None, "backordered"),  # the backorder filler looks for the few lines above 0
)

shipments = sa.Table(
    "order_shipments",
    metadata,
    sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("location", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("carrier", sa.String(64), nullable=True),
    sa.Column("tracking_number", sa.String(100), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("shipped_at", Timestamp, nullable=True),
    sa.Column("delivered_at", Timestamp, nullable=True),
    sa.Index(None, "location", "created_at"),
)

shipment_lines = sa.Table(
    "order_shipment_lines",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),  # still committed (or shipped) here
    sa.Column("cancelled", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("moved", sa.Integer, nullable=False, server_default="0"),  # re-planned to another shipment by a wave
    sa.ForeignKeyConstraint(["order_id", "number"], ["order_shipments.order_id", "order_shipments.number"]),
)

timeline = sa.Table(
    "order_timeline",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("message", sa.String(500), nullable=False),
    sa.Column("data", JsonType, nullable=False),
    sa.Index(None, "order_id", "id"),
)

returns = sa.Table(
    "order_returns",
    metadata,
    sa.Column("rma", sa.String(40), primary_key=True),
    sa.Column("order_id", sa.BigInteger, sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, received
    sa.Column("refund_status", sa.String(16), nullable=False),  # pending, refunded
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("location", sa.String(64), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("received_at", Timestamp, nullable=True),
    sa.Column("refunded_at", Timestamp, nullable=True),
    sa.Index(None, "order_id"),
)

return_lines = sa.Table(
    "order_return_lines",
    metadata,
    sa.Column("rma", sa.String(40), sa.ForeignKey("order_returns.rma"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(20), nullable=True),
)

sourcing_policies = sa.Table(
    "sourcing_policies",
    metadata,
    sa.Column("channel", sa.String(64), primary_key=True),  # a channel code, or "*" for every other channel
    sa.Column("document", JsonType, nullable=False),  # as the operator wrote it, validated before saving
    sa.Column("updated_at", Timestamp, nullable=False),
)
