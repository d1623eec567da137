"""Channel feeds parse back: Google Merchant Center TSV and RSS 2.0 (``g:`` namespace), JSON listings split
at the limit, CSV; only listings ready once the channel's availability is filled in, the others left out and
counted; over HTTP on both databases and through ``keel catalog feed``."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from starlette.testclient import TestClient

from keel.access import Role
from keel.bootstrap import Keel
from keel.catalog import json_part, json_parts
from keel.catalog.schemas import FeedPartPublic
from tests.support import MARKET, POS_FR, WEB_DE, WH_FR, World, build_world, open_keel, receive, snapshot
from tests.support_catalog import shelf

G = "{http://base.google.com/ns/1.0}"
Run = Callable[..., Result]
Make = Callable[..., TestClient]


def _stock(keel: Keel) -> None:
    shelf(keel, WEB_DE, MARKET)
    receive(keel, "TEE-S", WH_FR, 20)  # market-eu lists (20 - buffer 2) x 50 % = 9 in DE and in FR
    keel.availability.catch_up()


def test_google_feeds_parse_back_with_availability(keel: Keel, world: World, client: TestClient) -> None:
    _stock(keel)
    tsv = client.get(f"/catalog/feeds/{MARKET}", params={"format": "tsv"})
    assert tsv.status_code == 200 and tsv.headers["content-type"].startswith("text/tab-separated-values")
    rows = list(csv.reader(io.StringIO(tsv.text), delimiter="\t"))
    assert rows[0] == [
        "id",
        "item_group_id",
        "title",
        "description",
        "link",
        "image_link",
        "availability",
        "availability_date",
        "price",
        "brand",
        "gtin",
        "mpn",
        "condition",
    ]
    table = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [(r["id"], r["availability"], r["price"], r["gtin"], r["mpn"]) for r in table] == [
        ("TEE-M", "out_of_stock", "19.90 EUR", "", "T-100-M"),
        ("TEE-S", "in_stock", "19.90 EUR", "4006381333931", ""),
    ]  # CAP (no description, no condition) is left out
    assert table[1]["title"] == "Bio-T-Shirt" and table[1]["condition"] == "new"
    xml = client.get(f"/catalog/feeds/{MARKET}", params={"format": "xml"})
    root = ET.fromstring(xml.content)
    assert (root.tag, root.get("version")) == ("rss", "2.0")
    items = root.findall("./channel/item")
    assert [i.findtext(f"{G}id") for i in items] == ["TEE-M", "TEE-S"]
    assert items[1].findtext(f"{G}availability") == "in_stock"
    assert items[1].findtext(f"{G}price") == "19.90 EUR"
    assert items[0].find(f"{G}gtin") is None  # an empty attribute is left out
    assert b'xmlns:g="http://base.google.com/ns/1.0"' in xml.content


def test_json_and_csv_feeds_carry_the_quantity(keel: Keel, world: World, client: TestClient) -> None:
    _stock(keel)
    doc = client.get(f"/catalog/feeds/{MARKET}", params={"format": "json"}).json()
    assert (doc["channel"], doc["part"], doc["next_part"]) == (MARKET, 1, None)
    FeedPartPublic.model_validate(doc)  # what the OpenAPI document promises
    assert [(i["sku"], i["quantity"], i["attributes"]["availability"]) for i in doc["items"]] == [
        ("TEE-M", 0, "out_of_stock"),
        ("TEE-S", 18, "in_stock"),  # summed over the channel's countries
    ]
    assert client.get(f"/catalog/feeds/{MARKET}", params={"format": "json", "part": 2}).json()["items"] == []
    rows = list(csv.DictReader(io.StringIO(client.get(f"/catalog/feeds/{WEB_DE}", params={"format": "csv"}).text)))
    assert [(r["sku"], r["quantity"], r["availability"], r["price"]) for r in rows] == [
        ("TEE-M", "0", "out_of_stock", "19.90 EUR"),
        ("TEE-S", "0", "out_of_stock", "19.90 EUR"),
    ]
    de = client.get(f"/catalog/feeds/{MARKET}", params={"format": "json", "country": "DE"}).json()
    assert [i["quantity"] for i in de["items"]] == [0, 9]


def test_refusals_come_before_anything_streams(keel: Keel, world: World, client: TestClient, make_client: Make) -> None:
    _stock(keel)
    assert client.get("/catalog/feeds/pos-fr").status_code == 404  # no target
    assert client.get(f"/catalog/feeds/{MARKET}", params={"format": "pdf"}).status_code == 422
    assert client.get(f"/catalog/feeds/{MARKET}", params={"part": 0}).status_code == 422
    keel.access.add_service("de-shop", Role.ANALYST)
    keel.access.set_scope("de-shop", [WEB_DE], None, set(world.channels))
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {keel.access.create_token('de-shop', 'feeds').secret}"
    refused = restricted.get(f"/catalog/feeds/{MARKET}")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert restricted.get(f"/catalog/feeds/{WEB_DE}").status_code == 200


def test_headers_say_before_streaming_what_is_left_out_and_the_summary_counts_to_the_end(
    keel: Keel, world: World, client: TestClient
) -> None:
    _stock(keel)
    # given market-eu, whose listings the catalog holds blocked for want of availability, and CAP for good
    feed = client.get(f"/catalog/feeds/{MARKET}", params={"format": "csv", "country": "DE"})
    assert feed.status_code == 200
    assert {k: v for k, v in feed.headers.items() if k.startswith("x-keel-") or k == "link"} == {
        "x-keel-listings": "3",
        "x-keel-blocked": "3",
        "x-keel-left-out": "1",  # CAP: no availability lets it out
        "x-keel-left-out-rules": "description-required=1, link-required=1, condition-required=1",
        "link": f'</catalog/feeds/{MARKET}/summary?country=DE>; rel="describedby"',
    }
    assert len(list(csv.DictReader(io.StringIO(feed.text)))) == 2
    summary = client.get(f"/catalog/feeds/{MARKET}/summary", params={"country": "DE"})
    assert summary.json() == {
        "channel": MARKET,
        "profile": "google-merchant",
        "locale": "de",
        "country": "DE",
        "listings": 3,
        "ready": 0,
        "items": 2,
        "left_out": 1,
        "left_out_by_rule": {"description-required": 1, "link-required": 1, "condition-required": 1},
    }
    # and one with nothing blocked for good
    web = client.get(f"/catalog/feeds/{WEB_DE}/summary").json()
    assert (web["listings"], web["ready"], web["items"], web["left_out_by_rule"]) == (
        3,
        2,
        2,
        {"description-required": 1},
    )


def test_the_summary_is_refused_like_the_feed(keel: Keel, world: World, client: TestClient, make_client: Make) -> None:
    _stock(keel)
    keel.access.add_service("de-shop", Role.ANALYST)
    keel.access.set_scope("de-shop", [WEB_DE], None, set(world.channels))
    restricted = make_client(keel, as_admin=False)
    restricted.headers["Authorization"] = f"Bearer {keel.access.create_token('de-shop', 'feeds').secret}"
    before = snapshot(keel)
    assert client.get(f"/catalog/feeds/{POS_FR}/summary").status_code == 404  # no target
    assert client.get("/catalog/feeds/nowhere/summary").status_code == 404
    assert client.get(f"/catalog/feeds/{MARKET}/summary", params={"country": "DEU"}).status_code == 422
    refused = restricted.get(f"/catalog/feeds/{MARKET}/summary")
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert restricted.get(f"/catalog/feeds/{WEB_DE}/summary").json()["items"] == 2
    assert snapshot(keel) == before


def test_json_feed_splits_at_the_limit_and_streams_lazily(keel: Keel, world: World) -> None:
    _stock(keel)
    feed = keel.catalog.feed(MARKET, keel.availability, page=1)
    assert (feed.listings, feed.stats.listings) == (3, 0)  # nothing read before the first item is asked for
    parts = [json.loads("".join(p)) for p in json_parts(MARKET, feed.items, 1)]
    assert [(p["part"], [i["sku"] for i in p["items"]], p["next_part"]) for p in parts] == [
        (1, ["TEE-M"], 2),
        (2, ["TEE-S"], None),
    ]
    assert (feed.stats.listings, feed.stats.included, feed.stats.left_out) == (3, 2, 1)
    assert set(feed.stats.reasons) == {"description-required", "condition-required", "link-required"}
    again = keel.catalog.feed(MARKET, keel.availability)
    second = json.loads("".join(json_part(MARKET, again.items, 2, 1)))
    assert ([i["sku"] for i in second["items"]], second["next_part"]) == (["TEE-S"], None)
    exact = keel.catalog.feed(WEB_DE, keel.availability)  # as many items as the limit: one file, no empty one
    files = [json.loads("".join(p)) for p in json_parts(WEB_DE, exact.items, 2)]
    assert [(len(f["items"]), f["next_part"]) for f in files] == [(2, None)]


def test_cli_writes_split_json_files_and_counts_the_left_out(run: Run, db_url: str, tmp_path: Path) -> None:
    keel = open_keel(db_url)
    build_world(keel)
    _stock(keel)
    keel.close()
    out = tmp_path / "feeds"
    report = run(
        "catalog", "feed", "--channel", MARKET, "--format", "json", "--out", str(out), "--split", "1", "--json"
    )
    assert report.exit_code == 0, report.output
    summary = json.loads(report.stdout)
    assert (summary["listings"], summary["included"], summary["left_out"]) == (3, 2, 1)
    assert summary["left_out_by_rule"] == {"condition-required": 1, "description-required": 1, "link-required": 1}
    assert [Path(f).name for f in summary["files"]] == [f"{MARKET}-0001.json", f"{MARKET}-0002.json"]
    assert json.loads((out / f"{MARKET}-0002.json").read_text())["items"][0]["sku"] == "TEE-S"
    tsv = run("catalog", "feed", "--channel", MARKET)
    assert tsv.exit_code == 0
    assert tsv.stdout.splitlines()[0].startswith("id\titem_group_id\ttitle")
    assert len(tsv.stdout.splitlines()) == 3
    assert "2 of 3 listings written; 1 left out" in tsv.stderr
    xml = run("catalog", "feed", "--channel", MARKET, "--format", "xml", "--out", str(out))
    assert ET.parse(out / f"{MARKET}.xml").getroot().find("channel/item") is not None, xml.output
    refused = run("catalog", "feed", "--channel", "pos-fr")
    assert refused.exit_code != 0 and "no catalog target" in refused.stderr
