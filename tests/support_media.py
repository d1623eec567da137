"""A small ad setup on the test world (``tests.support``): the catalog's tee (TEE-S/M/L, brand Acme,
category tops) and a cap in the same category, a Google-style account on ``web-de`` and its campaigns, and
the rules the tests use; ``sim_for`` seeds a local ad platforms simulator with the same objects."""

from __future__ import annotations

from typing import Any

from keel.bootstrap import Keel
from keel.media import AdState, Level, Platform, Status
from keel.sim.adplatform import AdPlatforms
from tests.support import WEB_DE, WH_DE, receive
from tests.support_catalog import seed, tee

ACCOUNT = "g-de"
TOKEN = "tok-g-de"
PAUSE_RULE = {
    "name": "pause when out",
    "when": [{"metric": "sellable", "op": "<=", "value": 0}],
    "then": {"action": "pause", "resume_when": [{"metric": "sellable", "op": ">=", "value": 5}]},
}


def setup_batch(url: str | None = None) -> dict[str, Any]:
    """Two campaigns in DE: one advertising TEE-S and TEE-M (an ad each), one advertising the cap."""
    account: dict[str, Any] = {"code": ACCOUNT, "platform": "google", "channel": WEB_DE, "currency": "EUR"}
    if url is not None:
        account |= {"url": url, "token": TOKEN}
    return {
        "accounts": [account | {"name": "Google DE"}],
        "campaigns": [
            {"code": "c-tee", "account": ACCOUNT, "name": "Tees DE", "country": "DE", "daily_budget": 5000},
            {"code": "c-cap", "account": ACCOUNT, "name": "Caps DE", "country": "DE", "daily_budget": 3000},
        ],
        "ad_groups": [
            {"code": "g-tee", "campaign": "c-tee", "name": "Tees", "default_bid": 40},
            {"code": "g-cap", "campaign": "c-cap", "name": "Caps", "default_bid": 30},
        ],
        "ads": [
            {"code": "a-tee-s", "ad_group": "g-tee", "skus": ["TEE-S"]},
            {"code": "a-tee-m", "ad_group": "g-tee", "skus": ["TEE-M"], "bid": 55},
            {"code": "a-cap", "ad_group": "g-cap", "skus": ["CAP-S"]},
        ],
    }


def media_world(keel: Keel, url: str | None = None, stock: int = 3) -> None:
    """Catalog, setup and ``stock`` units of each advertised SKU in the Berlin warehouse (listed on web-de).
    The watcher no longer wakes the sender: the tests send when they choose."""
    keel.media.watcher.wake = lambda: None
    seed(keel)
    keel.catalog.put_product(tee(), source="test")
    keel.catalog.put_product(tee("CAP", "Cap"), source="test")
    keel.media.setup.save(setup_batch(url))
    for sku in ("TEE-S", "TEE-M", "CAP-S"):
        receive(keel, sku, WH_DE, stock)
    keel.availability.catch_up()


def sim_for(keel: Keel, sim: AdPlatforms) -> None:
    """Seed the simulator with every object of the setup as Keel holds it (the platform's side)."""
    sim.add_account(Platform.GOOGLE, ACCOUNT, TOKEN)
    for level in Level:
        rows, _ = keel.media.states(ACCOUNT, None, 1000, 0)
        for row in rows:
            if row.level is level:
                sim.seed(Platform.GOOGLE, ACCOUNT, level, row.code, row.state)


def drain(keel: Keel) -> None:
    """Let availability and the media watcher answer every pending event."""
    keel.availability.catch_up()
    while keel.media.watcher.step():
        pass


def ad_state(keel: Keel, code: str) -> AdState:
    rows, _ = keel.media.states(None, None, 1000, 0)
    return next(r.state for r in rows if r.code == code)


PAUSED = Status.PAUSED
ENABLED = Status.ENABLED
