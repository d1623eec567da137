"""The sync engine end to end through the file feed and Shopify-style connectors, on both databases: stock
movements through the availability projector and the feeder, pushed by the pump to a feed directory and to the
shop simulator (which fails at random and sells stock on its own, so compare-and-set goes stale), until each
channel holds exactly Keel's values."""

from __future__ import annotations

import time
from pathlib import Path

from keel.bootstrap import Keel
from keel.channels import SyncService
from keel.channels.sync.filefeed import parse
from keel.sim.shopify import Shopify
from tests.integration.test_channel_sync_market import churn, desired
from tests.support import MARKET, WEB_DE, World

TOKEN = "shpat_sync_token"


def drain(sync: SyncService) -> None:
    deadline = time.monotonic() + 60
    while any(s.pending for s in sync.status()) and time.monotonic() < deadline:
        sync.run_pass()
        time.sleep(0.02)


def test_a_feed_directory_and_a_shop_converge_to_keel(keel: Keel, world: World, tmp_path: Path) -> None:
    with Shopify({WEB_DE: TOKEN}, fault_rate=0.1, seed=5, stall_s=0.3) as shop:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w", backoff_base_s=0.01)
        sync.configure(
            WEB_DE, {"connector": "shopify", "url": shop.url, "secret": TOKEN, "timeout_s": 0.2, "max_attempts": 100}
        )
        sync.configure(MARKET, {"connector": "file", "url": tmp_path.as_uri(), "batch_size": 5})
        # when the stock moves while the pump runs, and the shop sells some of what it shows on its own (every
        # round changes every SKU, so each value sold on the shop is pushed again, with a stale previous value)
        for r in range(4):
            churn(keel, 1, first=r)
            drain(sync)
            for sku, country in list(shop.levels(WEB_DE))[r : r + 2]:
                shop.sell(WEB_DE, sku, country, 1)
        churn(keel, 1, first=4)
        drain(sync)
        sync.close()
        stats = shop.stats
    # then the shop holds Keel's values (its own sales overwritten after a read), and so does the feed's snapshot
    assert desired(keel, WEB_DE) and shop.levels(WEB_DE) == desired(keel, WEB_DE)
    assert stats.stale > 0 and sum(stats.faults_injected.values()) > 0
    snapshot = parse((tmp_path / f"{MARKET}-full.csv").read_text())
    assert desired(keel, MARKET) and {(r[0], r[1]): r[2] for r in snapshot} == desired(keel, MARKET)
    assert len(list(tmp_path.glob(f"{MARKET}-*.csv"))) > 2  # batch files besides the snapshot
    assert [s.dead for s in sync.status()] == [0, 0]
