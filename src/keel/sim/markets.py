"""The twin's marketplaces: in the demo, every marketplace channel of the twin is pushed to by the sync
engine, through the webhook connector, into a local marketplace simulator (``keel.sim.marketplace``) that
enforces a rate limit of 120 requests a minute per channel; and every ``outage_every_s`` one of them (in
turn) is down for ``outage_s``, so the sync page shows a channel falling behind, backing off, and catching
up on its own once it is back.
"""

from __future__ import annotations

import threading
from typing import Any

from keel.bootstrap import Keel
from keel.sim.marketplace import Marketplace
from keel.sim.world import World

RATE_LIMIT, WINDOW_S = 120, 60.0


class TwinMarkets:
    def __init__(self, keel: Keel, world: World, seed: int, outage_every_s: float = 600.0, outage_s: float = 120.0):
        self.keel = keel
        self.codes = [c["code"] for c in world.channels if c["kind"] == "marketplace"]
        self.secrets = {code: f"twin-{seed}-{code}" for code in self.codes}
        self.market = Marketplace(self.secrets, rate_limit=RATE_LIMIT, window_s=WINDOW_S, record=False)
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
