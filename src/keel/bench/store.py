"""The bench's own SQL: orders written the plainest way the schema allows, the baseline ``keel bench orders``
sets beside order capture.

Nothing here is a Keel code path: no validation, no sourcing, no locks beyond the transaction's own, no
idempotency check. Per order, one transaction: insert the order and its lines, update each position,
insert the ledger rows and one event, commit. Statements go straight to the driver's cursor, with the
connection settings Keel's own connections use (on SQLite: WAL, ``synchronous=FULL``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keel.inventory import KIND_CODES, Kind
from keel.platform.db import Database

COMMITTED = KIND_CODES[Kind.COMMITTED]


@dataclass(frozen=True)
class RawOrder:
    channel: str
    external_id: str
    customer_name: str
    country: str
    postal_code: str | None
    lines: tuple[tuple[int, str, int, str, int], ...]  # (line no, sku, quantity, unit price, location id)


def analyze(db: Database) -> None:
    """Give PostgreSQL's planner statistics of the freshly loaded twin, as autovacuum would within a minute
    of the load (without them it plans a join over every location). SQLite keeps none unless asked, and
    Keel never asks, so it is left as it runs."""
    if db.is_sqlite:
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def _one(cur: Any) -> Any:
    row = cur.fetchone()
    assert row is not None
    return row[0]


def write_raw_orders(db: Database, orders: Sequence[RawOrder]) -> float:
    """Write ``orders`` one transaction each; returns orders per second."""
    raw = db.engine.raw_connection()
    sqlite = db.is_sqlite
    p = "?" if sqlite else "%s"

    def marks(n: int) -> str:
        return ", ".join([p] * n)

    insert_order = (
        "INSERT INTO orders (channel, external_id, digest, status, fulfilment, customer_name, country, postal_code, "
        f"geocoded, excluded_nodes, routing, created_at, updated_at) VALUES ({marks(13)}) RETURNING id"
    )
    insert_line = (
        "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price, cancelled, backordered) "
        f"VALUES ({marks(7)})"
    )
    update_position = (
        f"UPDATE positions SET available = available - {p}, committed = committed + {p}, updated_at = {p} "
        f"WHERE sku = {p} AND location_id = {p}"
    )
    insert_movement = (
        "INSERT INTO movements (seq, id, kind, sku, location_id, quantity, occurred_at, recorded_at, reason, "
        f"reference) VALUES ({marks(10)})"
    )
    insert_event = f"INSERT INTO events (type, subject, data, source, occurred_at, recorded_at) VALUES ({marks(6)})"
    try:
        cur = raw.cursor()
        cur.execute("SELECT COALESCE(MAX(seq), 0) FROM movements")
        seq = int(_one(cur))
        if not sqlite:
            raw.commit()
        start = time.perf_counter()
        for order in orders:
            now = int(time.time() * 1_000_000)
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute(
                insert_order,
                (order.channel, order.external_id, "raw", "allocated", "ship_standard", order.customer_name,
                 order.country, order.postal_code, "postal_code", "[]", "[]", now, now),
            )  # fmt: skip
            order_id = int(_one(cur))
            cur.executemany(
                insert_line, [(order_id, no, sku, qty, price, 0, 0) for no, sku, qty, price, _ in order.lines]
            )
            movements: list[tuple[Any, ...]] = []
            for no, sku, qty, _, location_id in order.lines:
                cur.execute(update_position, (qty, qty, now, sku, location_id))
                seq += 1
                movements.append(
                    (seq, f"raw:{order_id}:{no}", COMMITTED, sku, location_id, qty, now, now, None, f"order {order_id}")
                )
            cur.executemany(insert_movement, movements)
            data = json.dumps({"order_id": order_id, "first_seq": movements[0][0], "last_seq": seq})
            cur.execute(insert_event, ("bench.raw_order", f"orders/{order_id}", data, "bench", now, now))
            if sqlite:
                cur.execute("COMMIT")
            else:
                raw.commit()
        elapsed = time.perf_counter() - start
        cur.close()
    finally:
        raw.close()
    return len(orders) / elapsed


def raw_insert_products(db: Database, rows: Sequence[tuple[str, str, int, str, int]], batch: int) -> float:
    """Plain executemany of product rows (code, family, revision, document JSON, updated_at) into a bare table
    of the same shape, one transaction per ``batch`` rows: the baseline ``keel bench catalog`` sets beside a
    catalog import. Returns rows per second; the table is dropped afterwards."""
    raw = db.engine.raw_connection()
    p = "?" if db.is_sqlite else "%s"
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TABLE bench_raw_products (code VARCHAR(64) PRIMARY KEY, family VARCHAR(64), revision INTEGER, "
            "document TEXT, updated_at BIGINT)"
        )
        raw.commit()
        start = time.perf_counter()
        for first in range(0, len(rows), batch):
            if db.is_sqlite:
                cur.execute("BEGIN IMMEDIATE")
            cur.executemany(
                f"INSERT INTO bench_raw_products VALUES ({p}, {p}, {p}, {p}, {p})", rows[first : first + batch]
            )
            raw.commit()
        per_s = len(rows) / (time.perf_counter() - start)
        cur.execute("DROP TABLE bench_raw_products")
        raw.commit()
        return per_s
    finally:
        raw.close()


def raw_insert_prices(db: Database, rows: int) -> float:
    """Plain executemany of ``rows`` price rows (channel, country, SKU, currency, amount, price list, steps JSON,
    changed_at) into a bare table, one transaction: the baseline ``keel bench pricing`` sets beside its
    computation. Returns rows per second; the table is dropped afterwards."""
    raw = db.engine.raw_connection()
    p = "?" if db.is_sqlite else "%s"
    steps = '[{"rule": "price_list", "before": 1999, "after": 1999, "note": "base price from list base-eur"}]'
    data = [(f"ch{i % 50:03d}", "DE", f"SKU-{i:07d}", "EUR", 1999, "base-eur", steps, 0) for i in range(rows)]
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TABLE bench_raw_prices (channel VARCHAR(64), country VARCHAR(2), sku VARCHAR(64), "
            "currency VARCHAR(3), amount BIGINT, price_list VARCHAR(64), steps TEXT, changed_at BIGINT, "
            "PRIMARY KEY (channel, country, sku))"
        )
        raw.commit()
        start = time.perf_counter()
        if db.is_sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.executemany(f"INSERT INTO bench_raw_prices VALUES ({', '.join([p] * 8)})", data)
        raw.commit()
        per_s = rows / max(time.perf_counter() - start, 1e-9)
        cur.execute("DROP TABLE bench_raw_prices")
        raw.commit()
        return per_s
    finally:
        raw.close()
