"""How an event looks on the JetStream stream (``keel.platform.bus.codec``): its subject, and a body that
gives the event back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from keel.platform.bus import BusConfig, BusError
from keel.platform.bus.codec import decode, encode, event_seq
from keel.platform.events import Event


def test_each_event_type_gets_its_subject_under_the_prefix() -> None:
    bus = BusConfig(subjects="keel.events")
    assert bus.wildcard == "keel.events.>"
    assert bus.subject("stock.moved") == "keel.events.stock.moved"
    assert bus.subject("order.line_backordered") == "keel.events.order.line_backordered"
    # characters a subject cannot hold, and empty tokens, become "_"
    assert bus.subject("odd type*with>chars..x") == "keel.events.odd_type_with_chars._.x"


def test_a_relayed_body_gives_the_event_back_exactly() -> None:
    event = Event(
        seq=42,
        type="stock.moved",
        subject="movements/1-9",
        data={"first_seq": 1, "nested": [1, 2.5, None, {"k": "v"}], "text": "Grüße"},
        source="wms",
        idempotency_key="wms:77",
        occurred_at=datetime(2026, 5, 1, 12, 30, 15, 123457, tzinfo=UTC),
        recorded_at=datetime(2026, 5, 1, 14, 30, 15, 1, tzinfo=timezone(timedelta(hours=2))),
        actor="u-1",
        via="api",
        request_id="req-1",
    )
    relayed = decode(encode(event, prev=40))
    assert (relayed.event, relayed.prev) == (event, 40)


def test_a_body_keel_relay_did_not_write_is_refused() -> None:
    with pytest.raises(BusError, match="not a relayed Keel event"):
        decode(b'{"hello": 1}')
    with pytest.raises(BusError):
        decode(b"not json")


def test_the_event_sequence_is_read_from_the_message_id() -> None:
    assert event_seq({"Nats-Msg-Id": "17"}) == 17
    assert event_seq({"Nats-Msg-Id": "abc"}) is None
    assert event_seq(None) is None
