"""``keel bench catalog``: a catalog import with every channel's listing built, and single-product edits.

In one process on one fresh database (SQLite by default): ``channels`` channels are registered and their
targets set (the four shipped compliance profiles in turn, each in a locale, so channels share profiles and
payloads as real ones do); then ``products`` generated products (``variants`` SKUs each, with planted gaps: a
missing description, a missing image, a GTIN-less variant without MPN) are imported through
``CatalogService.save_batch`` in batches of ``batch``: validation, revisions, events and every channel's listing
state, committed per batch.
``seconds`` is that import; ``raw_insert_per_s`` a plain executemany of the same product rows into a bare table
of the same shape in the same database (``keel.bench.store.raw_insert_products``). Then ``edits`` single
products are edited through the service (a title change), each until its revision and every channel's
listing states are committed: ``edit_p50_ms``/``edit_p99_ms``.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from typing import Any

from rich.console import Console

from keel.bench.inventory import bench_database
from keel.bench.store import raw_insert_products
from keel.bootstrap import bootstrap
from keel.catalog import Category, check_gtin
from keel.channels import CreateChannel
from keel.platform import migrate
from keel.platform.clock import utcnow
from keel.platform.db import to_micros

console = Console(stderr=True)
PROFILES = ("google-merchant", "marketplace-listings", "eu-product-law", "web-store")
LOCALES = ("de", "fr", "es", "it", "nl", "sv", "pl", "ja", "en")
FAMILY: dict[str, Any] = {
    "code": "apparel",
    "label": "Apparel",
    "attributes": [
        {"code": "title", "type": "text", "localised": True, "max_length": 150},
        {"code": "description", "type": "text", "localised": True},
        {"code": "bullet_point", "type": "text", "localised": True},
        {"code": "link", "type": "url"},
        {"code": "price", "type": "money"},
        {"code": "availability", "type": "enum", "options": ["in_stock", "out_of_stock", "preorder", "backorder"]},
        {"code": "condition", "type": "enum", "options": ["new", "used", "refurbished"]},
        {"code": "product_type", "type": "enum", "options": ["SHIRT", "SHOES"]},
        {"code": "regulated_category", "type": "enum", "options": ["textile"]},
        {"code": "fibre_composition", "type": "text"},
        {"code": "manufacturer", "type": "text"},
        {"code": "department", "type": "enum", "options": ["women", "men", "unisex"]},
        {"code": "color", "type": "text"},
        {"code": "fabric_type", "type": "text"},
        {"code": "weight", "type": "number", "units": ["g", "kg"]},
        {"code": "size", "type": "enum", "options": ["XS", "S", "M", "L", "XL", "XXL"], "variant": True},
    ],
    "required": {"*": ["title"]},
}
SIZES = ("XS", "S", "M", "L", "XL", "XXL")


def _gtin(rng: random.Random) -> str:
    body = "40" + "".join(rng.choice("0123456789") for _ in range(10))
    for digit in "0123456789":
        if check_gtin(body + digit).valid:
            return body + digit
    raise AssertionError("a check digit always exists")


def product(i: int, rng: random.Random, variants: int, title: str | None = None) -> dict[str, Any]:
    code = f"P{i:07d}"
    values: list[dict[str, Any]] = [
        {"attribute": "title", "locale": loc, "value": title or f"Shirt {i} ({loc})"} for loc in LOCALES[:3]
    ]
    if rng.random() > 0.1:  # a planted gap: no description
        values += [
            {"attribute": "description", "locale": loc, "value": f"A soft shirt, model {i}."} for loc in LOCALES[:3]
        ]
    values += [
        {"attribute": "bullet_point", "locale": "de", "value": "Baumwolle"},
        {"attribute": "link", "value": f"https://shop.example/p/{code}"},
        {"attribute": "price", "value": {"amount": f"{rng.randint(5, 90)}.90", "currency": "EUR"}},
        {"attribute": "availability", "value": "in_stock"},
        {"attribute": "condition", "value": "new"},
        {"attribute": "product_type", "value": "SHIRT"},
        {"attribute": "regulated_category", "value": "textile"},
        {"attribute": "fibre_composition", "value": "95% cotton, 5% elastane"},
        {"attribute": "manufacturer", "value": "Acme GmbH, Hauptstr. 1, 10115 Berlin"},
        {"attribute": "department", "value": "unisex"},
        {"attribute": "color", "value": rng.choice(("red", "blue", "black"))},
        {"attribute": "fabric_type", "value": "jersey"},
        {"attribute": "weight", "value": {"amount": str(rng.randint(120, 300)), "unit": "g"}},
    ]
    items = []
    for v in range(variants):
        item: dict[str, Any] = {"sku": f"{code}-{v}", "values": [{"attribute": "size", "value": SIZES[v % len(SIZES)]}]}
        if rng.random() > 0.05:  # a planted gap: neither GTIN nor MPN
            item["gtin"] = _gtin(rng)
        items.append(item)
    media = [{"url": f"https://cdn.example/{code}.jpg"}] if rng.random() > 0.1 else []  # a planted gap: no image
    return {
        "code": code,
        "family": "apparel",
        "brand": "Acme",
        "categories": ["tops"],
        "values": values,
        "variants": items,
        "media": media,
    }


def run(
    database_url: str | None,
    *,
    json_out: bool,
    products: int,
    variants: int,
    channels: int,
    edits: int,
    batch: int,
    seed: int,
) -> dict[str, Any]:
    rng = random.Random(seed)
    docs = [product(i, rng, variants) for i in range(products)]
    with bench_database(database_url) as url:
        keel = bootstrap(database_url=url)
        migrate.upgrade(keel.db)
        try:
            keel.catalog.put_family(FAMILY, source="bench")
            keel.catalog.put_category(Category("tops", "Tops"), source="bench")
            for c in range(channels):
                # a target names a registered channel: a bare one (no stock sources) is enough here
                code = f"ch{c:02d}"
                keel.channels.create(CreateChannel(code, f"Bench channel {c}", "marketplace", ("DE",), "EUR"))
                target = {"profile": PROFILES[c % len(PROFILES)], "locale": LOCALES[(c // len(PROFILES)) % 3]}
                keel.catalog.put_target(code, target, source="bench")
            keel.catalog.max_batch = max(keel.catalog.max_batch, batch)
            with console.status(f"importing {products} products x {channels} channels"):
                start = time.perf_counter()
                for first in range(0, products, batch):
                    keel.catalog.save_batch(docs[first : first + batch], source="bench")
                seconds = time.perf_counter() - start
            listed = keel.catalog.listings(limit=1)[1]
            if listed != products * variants * channels:
                raise RuntimeError(f"{listed} listings; expected {products * variants * channels}")
            now = to_micros(utcnow())
            rows = [(f"R{d['code']}", d["family"], 1, json.dumps(d), now) for d in docs]
            with console.status("raw executemany of the same rows"):
                raw_per_s = raw_insert_products(keel.db, rows, batch)
            latencies = []
            for e in range(edits):
                i = rng.randrange(products)
                doc = product(i, random.Random(seed * 1_000_003 + i), variants, title=f"Shirt {i}, edit {e}")
                started = time.perf_counter()
                saved = keel.catalog.put_product(doc, source="bench")
                latencies.append(1000 * (time.perf_counter() - started))
                if not saved.changed:
                    raise RuntimeError(f"edit {e} of {doc['code']} changed nothing")
            board = keel.catalog.readiness()
        finally:
            keel.close()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    figures = {
        "database": url.split(":", 1)[0],
        "products": products,
        "variants": products * variants,
        "channels": channels,
        "listings": products * variants * channels,
        "seconds": round(seconds, 2),
        "products_per_s": round(products / seconds),
        "raw_insert_per_s": round(raw_per_s),
        "ratio": round(products / seconds / raw_per_s, 4),
        "ready": sum(r.ready for r in board),
        "blocked": sum(r.blocked for r in board),
        "edits": edits,
        "edit_p50_ms": round(cuts[49], 2),
        "edit_p99_ms": round(cuts[98], 2),
    }
    console.print(
        f"{products} products ({figures['variants']} SKUs) x {channels} channels imported, validated and listed in "
        f"{seconds:.1f} s ({figures['products_per_s']}/s; plain executemany {figures['raw_insert_per_s']}/s); "
        f"{figures['ready']} listings ready, {figures['blocked']} blocked; an edit p50 {figures['edit_p50_ms']} ms, "
        f"p99 {figures['edit_p99_ms']} ms"
    )
    if json_out:
        print(json.dumps(figures))
    return figures
