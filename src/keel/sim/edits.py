"""The twin's content edits: now and then a merchandiser edits a product through ``CatalogService.put_product``
(source ``sim``), so the catalog pages show revisions coming in and listings turning ready or blocked.

An edit is one of (``EDIT_MIX``): **fix** a product with a gap (every missing value filled in, the
manufacturer's GTIN for an in-store one, an image: its listings turn ready); open a **gap** (the description
removed in one locale: the listings of the channels showing that locale turn blocked); a new **title** in one
locale; a new **price** (5-20 % up or down, in the catalogue and in every currency's price list of the pricing
engine, ``keel.sim.pricing``). Each is counted in the step's counts (``EDIT_KINDS``).

The edits draw from their own ``random.Random``, never the stream's, so adding them left the rest of the
twin's traffic as it was; the same seed and steps give the same edits. The rate is ``EDITS_PER_SKU_HOUR``.
"""

from __future__ import annotations

import copy
import random
from collections import Counter
from decimal import Decimal
from typing import Any

from keel.bootstrap import Keel
from keel.platform.errors import NotFound, ValidationFailed
from keel.sim import content
from keel.sim.catalog import Product
from keel.sim.pricing import reprice_sku
from keel.sim.words import LOCALES
from keel.sim.world import World

# One edit per simulated hour per 5,000 SKUs (two an hour at the reference 10,000 SKUs, ~50 a simulated
# day): each edit rebuilds the product's listing on every channel (50 at reference scale), which is tens of
# milliseconds while the catalog builds listings one by one, and the demo plays an hour a second.
EDITS_PER_SKU_HOUR = 0.0002
# As many gaps opened as fixed, so the share of blocked listings wanders around the planted one instead of
# draining away in a long demo.
EDIT_MIX = (("fix", 0.25), ("gap", 0.25), ("title", 0.25), ("price", 0.25))
EDIT_KINDS = {"fix": "content_fixed", "gap": "content_gap", "title": "content_title", "price": "content_price"}
TITLE_TAGS = ("Classic", "Essential", "Plus", "Pro", "2026 edition")
PRICE_FACTORS = ("0.80", "0.90", "0.95", "1.05", "1.10", "1.20")


class ContentEdits:
    """A mixin of ``keel.sim.stream.Stream``: ``_content_edits(hours, counts)`` plays one slice's edits."""

    keel: Keel
    world: World
    seed: int

    def _init_edits(self, twin: list[Product]) -> None:
        self._edit_rng = random.Random(self.seed * 15_485_863 + 11)
        self._twin = twin
        self.edit_rate = EDITS_PER_SKU_HOUR * len(twin)
        self._numbers = {content.product_code(p.sku): i for i, p in enumerate(twin, 1)}
        # The products with a gap: planted ones, and those an edit opened since (a fix takes them out).
        self._gaps = {
            content.product_code(p.sku)
            for p, image in zip(twin, content.images(self.world), strict=True)
            if p.planted or not image
        }
        self._edits_on: bool | None = None  # known once the first edit is due: is the catalogue loaded?

    def _content_edits(self, hours: float, counts: Counter[str]) -> None:
        expected = self.edit_rate * hours
        n = int(expected) + (1 if self._edit_rng.random() < expected - int(expected) else 0)
        if n == 0:
            return
        if self._edits_on is None:
            self._edits_on = self.keel.catalog.products(limit=1)[1] > 0
        for _ in range(n if self._edits_on else 0):
            kind = self._edit_rng.choices([k for k, _ in EDIT_MIX], [w for _, w in EDIT_MIX])[0]
            if kind == "fix" and not self._gaps:
                kind = "title"
            if kind == "fix":
                code = self._edit_rng.choice(sorted(self._gaps))
                number = self._numbers[code]
            else:
                number = self._edit_rng.randrange(len(self._twin)) + 1
                code = content.product_code(self._twin[number - 1].sku)
            locale = self._edit_rng.choice(LOCALES)
            tag = self._edit_rng.choice(TITLE_TAGS)
            factor = Decimal(self._edit_rng.choice(PRICE_FACTORS))
            try:
                doc = copy.deepcopy(self.keel.catalog.product(code).document)
                if kind == "fix":
                    _fill(doc, content.complete(self._twin[number - 1], number))
                    self._gaps.discard(code)
                elif kind == "gap":
                    doc["values"] = [v for v in doc["values"] if _key(v) != ("description", locale, None)]
                    self._gaps.add(code)
                elif kind == "title":
                    _retitle(doc, locale, tag)
                else:
                    _reprice(doc, factor)
                    # the pricing engine's lists follow the catalogue's price (keel.sim.pricing)
                    counts["price_changed"] += reprice_sku(self.keel, self._twin[number - 1].sku, factor)
                saved = self.keel.catalog.put_product(doc, source="sim")
            except (NotFound, ValidationFailed):  # someone removed it, or changed its family meanwhile
                counts["content_refused"] += 1
                continue
            if saved.changed:
                counts[EDIT_KINDS[kind]] += 1


def _key(value: dict[str, Any]) -> tuple[Any, ...]:
    return value["attribute"], value.get("locale"), value.get("channel")


def _fill(doc: dict[str, Any], full: dict[str, Any]) -> None:
    """Fill in what ``doc`` lacks from ``full`` and give its variant the manufacturer's GTIN; the values it has
    (an edited title, a new price) stay."""
    have = {_key(v) for v in doc["values"]}
    doc["values"] += [v for v in full["values"] if _key(v) not in have]
    for name in ("brand", "media"):
        if not doc.get(name) and full.get(name):
            doc[name] = full[name]
    variant, model = doc["variants"][0], full["variants"][0]
    variant["gtin"] = model["gtin"]
    if "mpn" in model:
        variant.setdefault("mpn", model["mpn"])
    if not variant.get("values") and model.get("values"):
        variant["values"] = model["values"]


def _retitle(doc: dict[str, Any], locale: str, tag: str) -> None:
    for v in doc["values"]:
        if _key(v) == ("title", locale, None):
            base = str(v["value"])
            for old in TITLE_TAGS:
                base = base.removesuffix(f" {old}")
            v["value"] = f"{base} {tag}"


def _reprice(doc: dict[str, Any], factor: Decimal) -> None:
    for v in doc["values"]:
        if _key(v) == ("price", None, None):
            amount = max(Decimal("1.00"), Decimal(v["value"]["amount"]) * factor).quantize(Decimal("0.01"))
            v["value"] = {**v["value"], "amount": str(amount)}
