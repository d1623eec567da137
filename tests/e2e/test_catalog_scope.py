"""Product writes of a merchandiser restricted to one channel, over HTTP (both databases) and through
``keel catalog`` under ``KEEL_TOKEN``: their channel's overrides go in; a common value, a new product, an
import or a revert that touches what every channel shows is refused (403) and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from tests.support import open_keel, snapshot
from tests.support_catalog import channels, seed, tee

Run = Callable[..., Result]


def with_override(override: str, channel: str = "shop", **changes: object) -> dict[str, object]:
    """TEE with its German title overridden for ``channel``."""
    doc = tee(**changes)
    doc["values"].append({"attribute": "title", "locale": "de", "channel": channel, "value": override})
    return doc


def shop_token(keel: Keel) -> str:
    """A merchandiser's token restricted to the channel shop (google exists too)."""
    seed(keel)
    channels(keel, "shop", "google")
    keel.access.add_service("merch-shop", Role.MERCHANDISER)
    keel.access.set_scope("merch-shop", ["shop"], None, {"shop", "google"})
    return keel.access.create_token("merch-shop", "t").secret


def test_a_restricted_merchandiser_edits_only_their_channels_overrides_over_http(
    keel: Keel, client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    auth = {"Authorization": f"Bearer {shop_token(keel)}"}
    assert client.put("/catalog/products/TEE", json=with_override("Shop-Shirt")).status_code == 200
    restricted = make_client(keel, as_admin=False)
    before = snapshot(keel)
    common = restricted.put("/catalog/products/TEE", json=with_override("Shop-Shirt", title="Shirt"), headers=auth)
    assert common.status_code == 403 and common.json()["type"].endswith("/out-of-scope"), common.text
    assert common.json()["errors"] == [
        {"row": None, "field": "values.title@de", "reason": "TEE: shows on every channel"}
    ]
    assert "values.title@de" in common.json()["detail"]
    other = restricted.put("/catalog/products/TEE", json=with_override("G", channel="google"), headers=auth)
    assert other.status_code == 403
    # removing the shop override is theirs to do; adding one for google is not
    assert [e["field"] for e in other.json()["errors"]] == ["values.title@de#google"]
    new = restricted.put("/catalog/products/HAT", json=tee("HAT"), headers=auth)
    assert new.status_code == 403 and new.json()["errors"][0]["field"] == "code"
    imported = restricted.post(
        "/catalog/imports", content=json.dumps(tee("HAT")), headers=auth | {"content-type": "application/x-ndjson"}
    )
    assert imported.status_code == 403 and imported.json()["errors"][0]["row"] == 1, imported.text
    assert snapshot(keel) == before
    # their own channel's override goes in, and a revert of it too
    mine = restricted.put("/catalog/products/TEE", json=with_override("Neu"), headers=auth)
    assert mine.status_code == 200 and [c["path"] for c in mine.json()["changes"]] == ["values.title@de#shop"]
    reverted = restricted.post("/catalog/products/TEE/revert", json={"revision": 1}, headers=auth)
    assert (reverted.status_code, reverted.json()["revision"]) == (200, 3)
    assert client.put("/catalog/products/TEE", json=with_override("Shop-Shirt", brand="Other")).status_code == 200
    before = snapshot(keel)
    touching = restricted.post("/catalog/products/TEE/revert", json={"revision": 1}, headers=auth)
    assert touching.status_code == 403 and touching.json()["errors"][0]["field"] == "brand"
    assert snapshot(keel) == before


def test_the_cli_under_a_restricted_token_is_refused_like_http(run: Run, db_url: str, tmp_path: Path) -> None:
    keel = open_keel(db_url)
    try:
        env = {"KEEL_TOKEN": shop_token(keel)}
        keel.catalog.put_product(with_override("Shop-Shirt"), source="test")
        before = snapshot(keel)
        doc = tmp_path / "tee.json"
        doc.write_text(json.dumps(with_override("Shop-Shirt", brand="Other")))
        refused = run("catalog", "put", str(doc), env=env)
        assert refused.exit_code == 2 and refused.stdout == "", refused.output
        assert "brand (TEE: shows on every channel)" in refused.stderr
        file = tmp_path / "new.ndjson"
        file.write_text(json.dumps(tee("HAT")) + "\n")
        assert run("catalog", "import", str(file), env=env).exit_code == 2
        assert snapshot(keel) == before
        doc.write_text(json.dumps(with_override("Neu")))
        saved = json.loads(run("catalog", "put", str(doc), "--json", env=env).stdout)
        assert [c["path"] for c in saved["changes"]] == ["values.title@de#shop"]
        assert run("catalog", "revert", "TEE", "1", env=env).exit_code == 0
    finally:
        keel.close()
