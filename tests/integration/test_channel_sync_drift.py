"""Drift on both databases: the webhook connector reads the simulator's values back, a value changed behind
Keel's back is found, recorded and pushed again; a field the channel owns is adopted instead; the periodic
job is registered and checks the channels its worker holds."""

from __future__ import annotations

import time

from keel.bootstrap import Keel
from keel.channels import DRIFT, SyncService
from keel.channels.sync.drift import ADOPTED, CORRECTED, DEFERRED, DriftChecker
from keel.channels.sync.pump import default_connector
from keel.channels.sync.webhook import WebhookConnector
from keel.sim.marketplace import Marketplace
from tests.integration.test_channel_sync_market import SECRETS, churn, desired, held, settings
from tests.support import MARKET, WEB_DE, World


def drained(sync: SyncService) -> None:
    deadline = time.monotonic() + 30
    while any(s.pending for s in sync.status()) and time.monotonic() < deadline:
        sync.run_pass()


def test_webhook_reads_back_what_the_marketplace_holds() -> None:
    with Marketplace(SECRETS) as market:
        connector = WebhookConnector(market.url, SECRETS[WEB_DE])
        assert connector.capabilities.read_back
        assert connector.read(WEB_DE, [("A", "DE")]).values == {}
        wrong = WebhookConnector(market.url, "not-the-secret")
        assert (
            wrong.read(WEB_DE, [("A", "DE")]).error
            == 'HTTP 401: {"error":"bad or missing signature, or a stale timestamp"}'
        )
        connector.close()
        wrong.close()


def test_drift_is_found_recorded_and_corrected(keel: Keel, world: World) -> None:
    with Marketplace(SECRETS, rate_limit=1000, window_s=1.0) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w")
        sync.configure(WEB_DE, settings(market, WEB_DE, rate_limit=1000))
        churn(keel, 2)
        drained(sync)
        assert held(market, WEB_DE) == desired(keel, WEB_DE)
        # a clean channel: every synced value read back, no difference
        clean = sync.check_drift(WEB_DE)
        assert clean.checked == len(desired(keel, WEB_DE)) and clean.checked > 3  # more than one page of 3
        assert (clean.differences, clean.corrected, clean.error) == (0, 0, None)
        # when the marketplace's values change behind Keel's back (one edited, one removed)
        (sku1, c1), (sku2, c2) = sorted(desired(keel, WEB_DE))[:2]
        want1, want2 = desired(keel, WEB_DE)[(sku1, c1)], desired(keel, WEB_DE)[(sku2, c2)]
        market.edit(WEB_DE, sku1, c1, want1 + 7)
        market.edit(WEB_DE, sku2, c2, None)
        found = sync.check_drift(WEB_DE)
        # then both are found and owed again, and recorded with what was done
        assert (found.differences, found.corrected, found.adopted) == (2, 2, 0)
        drift = sync.drift_found(WEB_DE)
        assert {(d.sku, d.country, d.keel_quantity, d.channel_quantity, d.action) for d in drift} == {
            (sku1, c1, want1, want1 + 7, CORRECTED),
            (sku2, c2, want2, None, CORRECTED),
        }
        assert sync.channel(WEB_DE).pending == 2
        assert sync.channel(WEB_DE).drift == found
        assert sync.channel(WEB_DE).drift_found_24h == 2
        # and the pump puts Keel's values back
        drained(sync)
        assert held(market, WEB_DE) == desired(keel, WEB_DE)
        assert sync.check_drift(WEB_DE).differences == 0
        assert [d.id for d in sync.drift_found(WEB_DE, before=drift[0].id)] == [drift[1].id]
        sync.close()


def test_a_field_the_channel_owns_is_adopted(keel: Keel, world: World) -> None:
    with Marketplace(SECRETS, rate_limit=1000, window_s=1.0) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w")
        sync.configure(MARKET, settings(market, MARKET, rate_limit=1000))
        churn(keel, 1)
        drained(sync)
        (sku, country) = sorted(held(market, MARKET))[0]
        market.edit(MARKET, sku, country, 999)
        owns_quantity = DriftChecker(keel.db, default_connector, owned={"webhook": frozenset({"quantity"})})
        done = owns_quantity.check(MARKET)
        assert done is not None and (done.differences, done.adopted, done.corrected) == (1, 1, 0)
        row = next(i for i in sync.items(MARKET, limit=1000) if (i.sku, i.country) == (sku, country))
        assert (row.quantity, row.pushed_quantity, row.state) == (999, 999, "synced")
        assert sync.drift_found(MARKET)[0].action == ADOPTED.format(field="quantity")
        sync.close()


def test_the_drift_job_checks_the_channels_its_worker_holds(keel: Keel, world: World) -> None:
    assert DRIFT in {job.name for job in keel.consumers.jobs}
    with Marketplace(SECRETS, rate_limit=1000, window_s=1.0) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w")
        sync.configure(WEB_DE, settings(market, WEB_DE, rate_limit=1000))
        assert sync.check_drift_owned() == 0  # no pass yet: the worker holds nothing
        churn(keel, 1)
        drained(sync)
        (sku, country) = sorted(held(market, WEB_DE))[0]
        market.edit(WEB_DE, sku, country, 12345)
        assert sync.check_drift_owned() == 1
        sync.drift.wait()
        assert sync.channel(WEB_DE).drift is not None
        assert sync.channel(WEB_DE).pending == 1
        sync.close()


def test_the_job_reads_within_the_channels_request_budget(keel: Keel, world: World) -> None:
    with Marketplace(SECRETS, rate_limit=1000, window_s=60.0) as market:
        sync = SyncService(keel.db, keel.channels.exists, keel.availability.listed_of, worker="w")
        sync.configure(WEB_DE, settings(market, WEB_DE, rate_limit=1000, window_s=60.0))
        churn(keel, 1)
        drained(sync)
        sent = sync.channel(WEB_DE).requests
        # when the channel's limit is just what the pushes used in the window
        sync.configure(WEB_DE, settings(market, WEB_DE, rate_limit=sent, window_s=60.0))
        requests = market.stats.requests
        assert sync.check_drift_owned() == 1
        sync.drift.wait()
        # then the check sends nothing and says why
        done = sync.channel(WEB_DE).drift
        assert done is not None and (done.checked, done.error) == (0, DEFERRED)
        assert market.stats.requests == requests
        sync.close()
