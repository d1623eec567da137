"""Contract of the channel registry store (``keel.channels.store``), run on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from keel.bootstrap import Keel
from keel.channels import CreateChannel, Sources, store
from keel.platform.vocabulary import AtpRules

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WEB = CreateChannel("web-de", "Web DE", "web_store", ("DE",), "EUR",
                    {"sources": {"DE": {"locations": ["WH-1"], "groups": []}}, "safety_buffer": 2})  # fmt: skip


def test_a_channel_reads_back_with_its_parsed_policy(keel: Keel) -> None:
    with keel.db.write() as conn:
        assert store.channel_exists(conn, "web-de") is False
        store.insert_channel(conn, WEB, NOW)
        assert store.channel_exists(conn, "web-de") is True
    with keel.db.read() as conn:
        found = store.get_channel(conn, "web-de")
        assert store.get_channel(conn, "ghost") is None
    assert found is not None
    assert (found.code, found.countries, found.active, found.created_at) == ("web-de", ("DE",), True, NOW)
    assert found.policy.sources == {"DE": Sources(("WH-1",), ())}
    assert found.policy.rules == AtpRules(safety_buffer=2)


def test_updates_lists_and_codes(keel: Keel) -> None:
    with keel.db.write() as conn:
        store.insert_channel(conn, WEB, NOW)
        store.insert_channel(conn, CreateChannel("pos-fr", "POS", "pos", ("FR",), "EUR"), NOW)
        store.update_channel(conn, CreateChannel("pos-fr", "Shops", "pos", ("FR",), "EUR"), False, NOW)
    with keel.db.read() as conn:
        assert [c.code for c in store.list_channels(conn)] == ["pos-fr", "web-de"]
        assert [c.code for c in store.list_channels(conn, active=False)] == ["pos-fr"]
        assert [c.code for c in store.list_channels(conn, kind="web_store")] == ["web-de"]
        assert [c.code for c in store.active_channels(conn)] == ["web-de"]
        assert sorted(store.codes_by_id(conn).values()) == ["pos-fr", "web-de"]
