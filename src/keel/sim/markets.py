"""The twin's marketplaces: in the demo, every marketplace channel of the twin is synced both ways through a
local marketplace simulator (``keel.sim.marketplace``) that enforces a rate limit of 120 requests a minute
per channel:

- stock out: the sync engine pushes each channel's quantities through the webhook connector;
- orders in: the twin's marketplace orders are sold on the simulator, which sends each to Keel's signed order
  webhook (``POST /sync/channels/{code}/orders`` of the demo's own server), so they reach order capture the
  way a real marketplace's do (``intake``);
- order updates out: the shipments and cancellations of those orders go back to the simulator's order book.

Every ``outage_every_s`` one of them (in turn) is down for ``outage_s``, so the sync page shows a channel
falling behind, backing off, and catching up on its own once it is back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from keel.bootstrap import Keel
from keel.sim.marketplace import Marketplace
from keel.sim.world import World

RATE_LIMIT, WINDOW_S = 120, 60.0
READY_S = 60.0
log = logging.getLogger("keel.sim.markets")


class TwinMarkets:
    def __init__(
        self,
        keel: Keel,
        world: World,
        seed: int,
        keel_url: str | None = None,  # where the demo serves Keel: the order webhook's base URL
        outage_every_s: float = 600.0,
        outage_s: float = 120.0,
    ):
        self.keel = keel
        self.codes = [c["code"] for c in world.channels if c["kind"] == "marketplace"]
        self.secrets = {code: f"twin-{seed}-{code}" for code in self.codes}
        self.keel_url = keel_url
        self.market = Marketplace(
            self.secrets, rate_limit=RATE_LIMIT, window_s=WINDOW_S, record=False, callback=keel_url
        )
        self._served = threading.Event()
        self.outage_every_s, self.outage_s = outage_every_s, outage_s
        self.stop = threading.Event()

    def start(self) -> list[str]:
        """Start the simulator, point every marketplace channel at it and owe it everything (a simulator
        starts empty, so a restarted demo resyncs); then start the outages. The channels configured."""
        self.market.start()
        for code in self.codes:
            settings: dict[str, Any] = {
                "url": self.market.url,
                "secret": self.secrets[code],
                "batch_size": 500,
                "rate_limit": RATE_LIMIT,
                "window_s": WINDOW_S,
            }
            self.keel.sync.configure(code, settings)
            self.keel.sync.resync(code)
        threading.Thread(target=self._outages, name="twin-outages", daemon=True).start()
        return self.codes

    def intake(self, document: dict[str, Any]) -> int | None:
        """Sell ``document`` on its marketplace, which sends it to Keel's order webhook; the id of the order
        Keel captured (None: refused, or the webhook could not be reached). The twin's stream starts before
        the demo's server listens: the first order waits for it (up to ``READY_S``)."""
        if not self._served.is_set() and self.keel_url is not None:
            deadline = time.monotonic() + READY_S
            while time.monotonic() < deadline and not self.stop.is_set():
                try:
                    if httpx.get(f"{self.keel_url}/healthz", timeout=2.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                self.stop.wait(0.25)
            self._served.set()
        delivered = self.market.orders.sell(document["channel"], document)
        if delivered.order_id is None:
            log.debug("marketplace order %s not captured: %s", delivered.external_id, delivered.error)
        return delivered.order_id

    def _outages(self) -> None:
        turn = 0
        while self.codes and not self.stop.wait(self.outage_every_s):
            code = self.codes[turn % len(self.codes)]
            turn += 1
            self.market.down.add(code)
            self.stop.wait(self.outage_s)
            self.market.down.discard(code)

    def close(self) -> None:
        self.stop.set()
        self.market.stop()
