"""Contract of the postal-code store (``keel.geo.store``), run on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from keel.bootstrap import Keel
from keel.geo import PostalCode, store

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HAMBURG = PostalCode("DE", "20095", "20095", "Hamburg", 53.5503, 10.0006)


def test_upsert_counts_only_new_or_changed_rows(keel: Keel) -> None:
    # given one stored code / when the same and a changed row are upserted / then only changes count
    with keel.db.write() as conn:
        assert store.upsert_postal_codes(conn, [HAMBURG], "a.txt", NOW) == {"DE": 1}
        assert store.upsert_postal_codes(conn, [HAMBURG], "b.txt", NOW) == {}
        moved = PostalCode("DE", "20095", "20095", "Hamburg", 53.55, 10.0006)
        assert store.upsert_postal_codes(conn, [moved], "c.txt", NOW) == {"DE": 1}
        assert store.upsert_postal_codes(conn, [], "d.txt", NOW) == {}
    with keel.db.read() as conn:
        assert store.find_postal_codes(conn, "DE", ["20095", "99999"])() == {"20095": moved}
        assert store.find_postal_codes(conn, "FR", ["20095"])() == {}
        assert (store.count_postal_codes(conn), store.count_postal_codes(conn, "FR")) == (1, 0)
