"""The twin's marketplaces as the demo runs them, through real HTTP both ways: the twin's marketplace orders
are sold on the marketplace simulator, which sends each to Keel's signed order webhook (a uvicorn server on
127.0.0.1), so they reach order capture as a real marketplace's do; their shipments go back to the
simulator's order book through the sync engine; the stock goes out to it too."""

from __future__ import annotations

import time
from pathlib import Path

from keel.api import create_app
from keel.channels import FEEDER
from keel.channels.sync import updates_store
from keel.sim.load import load_world
from keel.sim.markets import TwinMarkets
from keel.sim.stream import HOUR, Stream
from keel.sim.world import Scale, generate
from keel.worker import run_once
from tests.support import open_keel, serve_app

WORLD = generate(3, Scale(skus=150, locations=90, channels=30))


def test_marketplace_orders_come_in_by_webhook_and_their_shipments_go_back(tmp_path: Path) -> None:
    keel = open_keel(f"sqlite:///{tmp_path / 'twin.db'}")
    load_world(keel, WORLD)
    with serve_app(create_app(keel), as_admin=False) as url:
        markets = TwinMarkets(keel, WORLD, 3, keel_url=url, outage_every_s=3600)
        codes = markets.start()
        try:
            stream = Stream(keel, WORLD, seed=4, capture_every=3, marketplace=markets.intake)
            for _ in range(3):
                stream.step(8 * HOUR)
                run_once(keel)
            # the server's own worker shares the channels with this process's: wait for both to send it all
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                keel.consumers.get(FEEDER).step(10_000)
                keel.sync.run_pass()
                with keel.db.read() as conn:
                    owed = sum(c.get("pending", 0) for c in updates_store.counts(conn).values())
                if not owed:
                    break
                time.sleep(0.5)
        finally:
            markets.close()
    # then every marketplace order Keel holds came through the webhook: the marketplace sold it
    captured = [o for code in codes for o in keel.orders.reads.list(channel=code, limit=1000).items]
    assert len(captured) > 10
    assert all(markets.market.orders.order(o.channel, o.external_id) is not None for o in captured)
    assert markets.market.orders.undelivered == 0
    # and what Keel shipped went back to the marketplace once, with its carrier and tracking
    shipped = [o for o in captured if o.status in ("shipped", "delivered")]
    assert shipped
    for o in shipped:
        sold = markets.market.orders.order(o.channel, o.external_id)
        assert sold is not None and sold.status == "shipped", o.external_id
        ((carrier, tracking, lines),) = sold.shipments
        assert carrier and tracking and lines
    # and the stock went out: every marketplace holds values
    assert all(markets.market.state(code) for code in codes)
    keel.close()
