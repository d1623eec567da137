"""Valid, realistic movement streams for benchmarks: a shadow copy of stock keeps every row acceptable."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from keel.sim.world import World

# (kind, weight, reason): the mix of a busy omnichannel day.
MIX = [
    ("sold", 30, None),
    ("received", 22, None),
    ("committed", 14, None),
    ("shipped", 10, None),
    ("returned", 6, None),
    ("transfer_out", 5, None),
    ("transfer_in", 5, None),
    ("adjusted_out", 3, "shrink"),
    ("damaged", 2, "broken in handling"),
    ("adjusted_in", 3, "found"),
]
_TAKES_AVAILABLE = {"sold", "committed", "transfer_out", "adjusted_out", "damaged"}


class MovementStream:
    """Endless valid movements over the world's positions; ids are unique per stream prefix."""

    def __init__(self, world: World, seed: int = 7, prefix: str = "bench") -> None:
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.counter = 0
        self.available: dict[tuple[str, str], int] = {}
        self.committed: dict[tuple[str, str], int] = {}
        for row in world.opening_stock:
            key = (row["sku"], row["location"])
            self.available[key] = self.available.get(key, 0) + row["quantity"]
        self.keys = sorted(self.available)
        self.kinds = [k for k, _, _ in MIX]
        self.weights = [w for _, w, _ in MIX]
        self.reasons = {k: r for k, _, r in MIX}
        self._iterator = self._iterate()

    def rows(self, n: int) -> list[dict[str, Any]]:
        return [next(self._iterator) for _ in range(n)]

    def _iterate(self) -> Iterator[dict[str, Any]]:
        rng, keys = self.rng, self.keys
        while True:
            kind = rng.choices(self.kinds, self.weights)[0]
            key = keys[rng.randrange(len(keys))]
            qty = rng.randint(1, 4)
            if kind in _TAKES_AVAILABLE:
                if self.available[key] < qty:
                    kind = "received"
                else:
                    self.available[key] -= qty
                    if kind == "committed":
                        self.committed[key] = self.committed.get(key, 0) + qty
            elif kind == "shipped":
                if self.committed.get(key, 0) < qty:
                    continue
                self.committed[key] -= qty
            if kind in ("received", "returned", "transfer_in", "adjusted_in"):
                self.available[key] += qty
            self.counter += 1
            row: dict[str, Any] = {
                "id": f"{self.prefix}-{self.counter}",
                "kind": kind,
                "sku": key[0],
                "location": key[1],
                "quantity": qty,
            }
            if self.reasons[kind]:
                row["reason"] = self.reasons[kind]
            yield row
