"""``price.changed``: how pricing announces a channel's new prices to the channel sync engine.

``{"currency", "changes": [{"country", "sku", "amount", "compare_at"}]}``, amounts as decimal strings of the
channel's currency (``amount`` null: no longer priced), at most ``EVENT_CHUNK`` changes per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keel.platform.events import NewEvent
from keel.platform.money import plain
from keel.pricing import store

PRICE_CHANGED = "price.changed"
SOURCE = "pricing"
EVENT_CHUNK = 1000  # changes per event


def announce(
    channel: str, currency: str, changed: Sequence[store.PriceWrite], dropped: Sequence[tuple[str, str, str]]
) -> list[NewEvent]:
    """The ``price.changed`` events of one channel's changed and dropped prices, 1,000 changes per event."""
    c = currency
    texts: dict[int, str] = {}  # amounts repeat: each is written out once

    def text(minor: int) -> str:
        if minor not in texts:
            texts[minor] = plain(minor, c)
        return texts[minor]

    changes: list[dict[str, Any]] = [
        {"country": r[1], "sku": r[2], "amount": text(r[4]), "compare_at": None if r[5] is None else text(r[5])}
        for r in changed
    ]
    changes += [{"country": k, "sku": s, "amount": None, "compare_at": None} for _, k, s in dropped]
    return [
        NewEvent(PRICE_CHANGED, channel, {"currency": c, "changes": changes[i : i + EVENT_CHUNK]}, SOURCE)
        for i in range(0, len(changes), EVENT_CHUNK)
    ]
