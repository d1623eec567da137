"""The twin's catalogue: a category tree with attribute rules and one product per SKU.

A share of products is planted incomplete (a required attribute missing) or non-compliant (a regulated
attribute missing or a bad GTIN check digit), so content-quality and compliance features have something to
find; ``issues()`` finds them from the rules, not from the planted labels. ``keel.sim.content`` turns these
products into the catalog's documents (and says how each gap is planted there).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# top category -> sub category -> leaf categories
TREE: dict[str, dict[str, list[str]]] = {
    "Apparel": {
        "Tops": ["T-shirts", "Shirts", "Knitwear"],
        "Bottoms": ["Jeans", "Trousers", "Shorts"],
        "Outerwear": ["Jackets", "Coats"],
    },
    "Footwear": {"Sneakers": ["Running", "Lifestyle"], "Boots": ["Ankle boots", "Hiking boots"]},
    "Home": {"Kitchen": ["Cookware", "Knives"], "Textiles": ["Bedding", "Towels"]},
    "Beauty": {"Skincare": ["Creams", "Serums"], "Fragrance": ["Eau de parfum"]},
    "Electronics": {"Audio": ["Headphones", "Speakers"], "Accessories": ["Chargers", "Cables"]},
}
COMMON_REQUIRED = ("title", "brand", "gtin", "color", "weight_g")
REQUIRED: dict[str, tuple[str, ...]] = {
    "Apparel": ("size", "material", "care"),
    "Footwear": ("size_eu", "material"),
    "Home": ("material", "dimensions_cm"),
    "Beauty": ("volume_ml", "ingredients"),
    "Electronics": ("voltage", "warranty_months"),
}
# Attributes a market's law requires (EU cosmetics notification, CE marking, textile fibre labelling).
REGULATED: dict[str, tuple[str, ...]] = {
    "Apparel": ("fibre_composition",),
    "Beauty": ("cpnp_number",),
    "Electronics": ("ce_mark",),
}
BRANDS = ("Northwind", "Alder & Co", "Kestrel", "Morrow", "Halden", "Vireo", "Juniper Lane", "Osprey Works")
COLORS = ("black", "white", "navy", "grey", "green", "red", "beige", "blue")
BASE_PRICE = {"Apparel": 35.0, "Footwear": 80.0, "Home": 30.0, "Beauty": 25.0, "Electronics": 60.0}
INCOMPLETE_SHARE = 0.08
NON_COMPLIANT_SHARE = 0.04


@dataclass
class Product:
    sku: str
    category: tuple[str, str, str]
    price: Decimal
    attributes: dict[str, Any] = field(default_factory=dict)
    planted: str | None = None  # "incomplete", "non_compliant" or None


def leaves() -> list[tuple[str, str, str]]:
    return [(top, sub, leaf) for top, subs in TREE.items() for sub, names in subs.items() for leaf in names]


def gtin13(body: str) -> str:
    """Append the GS1 check digit to 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _attributes(rng: random.Random, top: str, leaf: str, sku: str, number: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "title": f"{rng.choice(BRANDS)} {leaf.rstrip('s')} {number}",
        "brand": rng.choice(BRANDS),
        "gtin": gtin13(f"40{number:010d}"),
        "color": rng.choice(COLORS),
        "weight_g": rng.randint(50, 3000),
    }
    extra: dict[str, Any] = {
        "size": rng.choice(["XS", "S", "M", "L", "XL"]),
        "size_eu": rng.randint(36, 46),
        "material": rng.choice(["cotton", "wool", "polyester", "leather", "steel", "linen"]),
        "care": "machine wash 30C",
        "dimensions_cm": f"{rng.randint(10, 80)}x{rng.randint(10, 80)}x{rng.randint(2, 30)}",
        "volume_ml": rng.choice([30, 50, 100, 200]),
        "ingredients": "aqua, glycerin, parfum",
        "voltage": rng.choice(["5V", "12V", "230V"]),
        "warranty_months": rng.choice([12, 24, 36]),
        "fibre_composition": "100% cotton",
        "cpnp_number": f"CPNP-{rng.randint(1_000_000, 9_999_999)}",
        "ce_mark": True,
    }
    for name in (*REQUIRED[top], *REGULATED.get(top, ())):
        attrs[name] = extra[name]
    return attrs


def generate_catalog(skus: list[str], seed: int = 42) -> list[Product]:
    """One product per SKU; deterministic for the same SKUs and seed."""
    rng = random.Random(seed * 7919 + 1)
    tree = leaves()
    out: list[Product] = []
    for number, sku in enumerate(skus, start=1):
        top, sub, leaf = tree[rng.randrange(len(tree))]
        price = Decimal(str(round(BASE_PRICE[top] * rng.lognormvariate(0, 0.5), 2))).quantize(Decimal("0.01"))
        product = Product(sku, (top, sub, leaf), max(price, Decimal("1.00")), _attributes(rng, top, leaf, sku, number))
        roll = rng.random()
        if roll < INCOMPLETE_SHARE:
            missing = rng.choice([*COMMON_REQUIRED[1:], *REQUIRED[top]])
            del product.attributes[missing]
            product.planted = "incomplete"
        elif roll < INCOMPLETE_SHARE + NON_COMPLIANT_SHARE:
            regulated = REGULATED.get(top)
            if regulated:
                del product.attributes[rng.choice(regulated)]
            else:  # break the GTIN check digit
                gtin = product.attributes["gtin"]
                product.attributes["gtin"] = gtin[:-1] + str((int(gtin[-1]) + 1) % 10)
            product.planted = "non_compliant"
        out.append(product)
    return out


def issues(product: Product) -> list[str]:
    """What is wrong with a product, from the rules: ``missing:<attr>``, ``regulated:<attr>``, ``gtin``."""
    top = product.category[0]
    found = [f"missing:{a}" for a in (*COMMON_REQUIRED, *REQUIRED[top]) if a not in product.attributes]
    found += [f"regulated:{a}" for a in REGULATED.get(top, ()) if a not in product.attributes]
    gtin = str(product.attributes.get("gtin", ""))
    if gtin and (len(gtin) != 13 or not gtin.isdigit() or gtin13(gtin[:12]) != gtin):
        found.append("gtin")
    return found
