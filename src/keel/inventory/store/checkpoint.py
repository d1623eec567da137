"""The ledger checkpoint port: the positions as of a ledger sequence number, and deleting folded movements."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.store.tables import CHECKPOINT_COLUMNS, QTY_COLUMNS, ledger_head, movements
from keel.platform.bulk import bulk_insert, staged
from keel.platform.db import dbapi_cursor

PAIR_DDL = "sku TEXT, location_id INTEGER"
__all__ = ["checkpoint_head", "checkpoint_rows", "delete_folded", "last_movement_seq", "save_checkpoint"]


def checkpoint_head(conn: Connection) -> tuple[int, int]:
    """(the ledger seq the checkpoint covers, movements deleted so far); (0, 0) before any fold."""
    row = conn.execute(sa.select(ledger_head.c.through_seq, ledger_head.c.folded).where(ledger_head.c.id == 1)).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def checkpoint_rows(
    conn: Connection, keys: Collection[tuple[str, int]] | None = None
) -> dict[tuple[str, int], list[int]]:
    """The checkpointed quantities (``QTY_COLUMNS`` order) of every position, or of ``keys`` only."""
    cur = dbapi_cursor(conn)
    cols = ", ".join(f"c.{c}" for c in QTY_COLUMNS)
    if keys is None:
        cur.execute(f"SELECT c.sku, c.location_id, {cols} FROM ledger_checkpoint c")
        return {(row[0], row[1]): list(row[2:]) for row in cur.fetchall()}
    with staged(conn, "wanted_checkpoint", PAIR_DDL, ("sku", "location_id"), list(keys)) as wanted:
        cur.execute(
            f"SELECT c.sku, c.location_id, {cols} FROM {wanted} w "
            "JOIN ledger_checkpoint c ON c.sku = w.sku AND c.location_id = w.location_id"
        )
        return {(row[0], row[1]): list(row[2:]) for row in cur.fetchall()}


def last_movement_seq(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM movements").scalar_one())


def save_checkpoint(
    conn: Connection,
    changed: dict[tuple[str, int], list[int]],
    expected_seq: int,
    through_seq: int,
    folded: int,
    now: datetime,
) -> bool:
    """Write the changed checkpoint rows and move the head from ``expected_seq`` to ``through_seq`` (adding
    ``folded``), by compare-and-set; False (nothing written) when another fold moved it first."""
    h = ledger_head
    if expected_seq == 0:
        if conn.execute(sa.select(h.c.id).where(h.c.id == 1)).first() is not None:
            return False
        conn.execute(h.insert().values(id=1, through_seq=through_seq, folded=folded, updated_at=now))
    else:
        moved = conn.execute(
            h.update()
            .where(h.c.id == 1, h.c.through_seq == expected_seq)
            .values(through_seq=through_seq, folded=h.c.folded + folded, updated_at=now)
        )
        if moved.rowcount != 1:
            return False
    updates = ", ".join(f"{c} = excluded.{c}" for c in QTY_COLUMNS)
    rows = [(sku, loc, *qty) for (sku, loc), qty in changed.items()]
    bulk_insert(
        conn, "ledger_checkpoint", CHECKPOINT_COLUMNS, rows, f"ON CONFLICT (sku, location_id) DO UPDATE SET {updates}"
    )
    return True


def delete_folded(conn: Connection, after_seq: int, through_seq: int, id_prefixes: Sequence[str]) -> int:
    """Delete the movements numbered ``after_seq`` < seq <= ``through_seq`` whose id starts with one of
    ``id_prefixes``; returns how many."""
    if not id_prefixes:
        return 0
    m = movements
    named = sa.or_(*(m.c.id.startswith(prefix, autoescape=True) for prefix in id_prefixes))
    result = conn.execute(m.delete().where(m.c.seq > after_seq, m.c.seq <= through_seq, named))
    return int(result.rowcount)
