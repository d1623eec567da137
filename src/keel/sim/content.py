"""The twin's catalogue as catalog documents: a family per top category, the category tree, one product per
SKU with the planted gaps kept, a marketplace profile that knows the twin's product types, and a target for
every channel. Pure: ``keel.sim.load`` writes them through ``keel.catalog`` (docs/twin.md, "The catalogue in
the catalog").

Planted gaps, as ``keel.sim.catalog`` draws them: a required attribute missing is a value left out (the brand
and the GTIN are the product's brand and the variant's GTIN: left out too); a regulated attribute missing
(fibre composition, CPNP number, CE marking) is left out and blocks the EU channels; a broken GTIN check
digit cannot enter the catalog (it refuses invalid GTINs), so it becomes a valid **restricted-circulation**
GTIN (GS1 prefix 20-29, an in-store number where the manufacturer's belongs), which the marketplace and
Google profiles' ``gtin_tradable`` rules block. On top, ``NO_IMAGE_SHARE`` of products have no image.
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from typing import Any

from keel.catalog import Category
from keel.sim.catalog import BRANDS, COLORS, REGULATED, REQUIRED, TREE, Product, generate_catalog, gtin13
from keel.sim.words import ADDRESSES, COUNTRY_LOCALE, DEFAULT_LOCALE, DESCRIPTION, LOCALES, NOUNS
from keel.sim.world import REGION_BLOCS, World

NO_IMAGE_SHARE = 0.02
# The twin's attribute names that the catalog spells otherwise: numbers carry their unit in the value, and the
# marketplace profile reads a shoe's size from ``size`` like a shirt's.
RENAMED = {"weight_g": "weight", "volume_ml": "volume", "size_eu": "size"}
MATERIALS = ("cotton", "wool", "polyester", "leather", "steel", "linen")
FIBRES = {
    "cotton": "100% cotton",
    "wool": "80% wool, 20% polyamide",
    "polyester": "65% polyester, 35% cotton",
    "linen": "100% linen",
    "leather": "100% polyester",  # the lining's: leather itself is no textile fibre
    "steel": "100% cotton",
}
REGULATED_CATEGORY = {"Apparel": "textile", "Beauty": "cosmetic", "Electronics": "electrical"}
# The marketplace product type of each leaf. The shipped marketplace-listings profile knows five types; the
# twin's marketplaces know these, each treated like the shipped type it resembles (LIKE).
PRODUCT_TYPE = {
    "T-shirts": "SHIRT",
    "Shirts": "SHIRT",
    "Knitwear": "SWEATER",
    "Jeans": "PANTS",
    "Trousers": "PANTS",
    "Shorts": "PANTS",
    "Jackets": "COAT",
    "Coats": "COAT",
    "Running": "SHOES",
    "Lifestyle": "SHOES",
    "Ankle boots": "BOOT",
    "Hiking boots": "BOOT",
    "Cookware": "COOKWARE",
    "Knives": "KITCHEN_KNIFE",
    "Bedding": "BEDDING",
    "Towels": "TOWEL",
    "Creams": "SKIN_MOISTURIZER",
    "Serums": "SKIN_SERUM",
    "Eau de parfum": "PERFUME",
    "Headphones": "HEADPHONES",
    "Speakers": "SPEAKERS",
    "Chargers": "CHARGER",
    "Cables": "CABLE",
}
LIKE = {"SWEATER": "SHIRT", "PANTS": "SHIRT", "COAT": "SHIRT", "BOOT": "SHOES", "SPEAKERS": "HEADPHONES"}
LIKE |= {"SKIN_SERUM": "SKIN_MOISTURIZER"}
MARKETPLACE_PROFILE = "twin-marketplace"
# The profile and mapping of each channel kind. Web stores and store tills list what a shop page needs; the
# marketplaces their JSON listings (bullet points cut from the description, fabric and outer material read
# from the material); social shops take Google's feed format; the wholesale channel's buyers, who sell on in
# the EU, ask for what EU product law requires.
TARGETS: dict[str, tuple[str, dict[str, Any]]] = {
    "web_store": ("web-store", {}),
    "pos": ("web-store", {}),
    "marketplace": (
        MARKETPLACE_PROFILE,
        {
            "bullet_point": {"source": "description", "truncate": 500},
            "fabric_type": "material",
            "outer_material": "material",
            "connectivity_technology": "connectivity",
        },
    ),
    "social": ("google-merchant", {"shipping_weight": {"source": "weight", "unit": "kg"}}),
    "b2b": ("eu-product-law", {"cpnp_notification": "cpnp_number", "ce_marking": "ce_mark"}),
}
EU = frozenset(REGION_BLOCS["EU"])


def slug(*names: str) -> str:
    return "-".join(re.sub(r"[^a-z0-9]+", "-", n.lower()).strip("-") for n in names)


def product_code(sku: str) -> str:
    return "P" + sku.removeprefix("SKU")


def categories() -> list[Category]:
    """The twin's category tree, parents before their children."""
    out: list[Category] = []
    for top, subs in TREE.items():
        out.append(Category(slug(top), top))
        for sub, leaves in subs.items():
            out.append(Category(slug(top, sub), sub, slug(top)))
            out += [Category(slug(top, sub, leaf), leaf, slug(top, sub)) for leaf in leaves]
    return out


def eu_channels(world: World) -> list[str]:
    """The channels selling in an EU country: EU law's requirements hold there."""
    return [ch["code"] for ch in world.channels if EU & set(ch["countries"])]


def families(world: World) -> list[dict[str, Any]]:
    """A family per top category: its typed attributes, ``required`` everywhere as the twin's rules say
    (``COMMON_REQUIRED`` and ``REQUIRED``; the brand and GTIN are no attributes, the channels' profiles ask
    for them) and the regulated attributes on every EU channel."""
    eu = eu_channels(world)
    out = []
    for top, subs in TREE.items():
        types = sorted({PRODUCT_TYPE[leaf] for leaves in subs.values() for leaf in leaves})
        attrs: list[dict[str, Any]] = [
            {"code": "title", "type": "text", "label": "Title", "localised": True, "max_length": 150},
            {"code": "description", "type": "text", "label": "Description", "localised": True},
            {"code": "color", "type": "enum", "label": "Colour", "options": list(COLORS)},
            {"code": "weight", "type": "number", "label": "Weight", "units": ["g", "kg"]},
            {"code": "price", "type": "money", "label": "Price"},
            {"code": "link", "type": "url", "label": "Product page"},
            {"code": "availability", "type": "enum", "options": ["in_stock", "out_of_stock", "preorder", "backorder"]},
            {"code": "condition", "type": "enum", "options": ["new", "refurbished", "used"]},
            {"code": "product_type", "type": "enum", "label": "Marketplace product type", "options": types},
            {"code": "manufacturer", "type": "text", "label": "Manufacturer and address"},
        ]
        attrs += _family_attributes(top)
        required = ["title", "color", "weight", *(RENAMED.get(a, a) for a in REQUIRED[top])]
        regulated = [RENAMED.get(a, a) for a in REGULATED.get(top, ())]
        out.append(
            {
                "code": slug(top),
                "label": top,
                "attributes": attrs,
                "required": {"*": required} | {channel: regulated for channel in eu if regulated},
            }
        )
    return out


def _family_attributes(top: str) -> list[dict[str, Any]]:
    material = {"code": "material", "type": "enum", "label": "Material", "options": list(MATERIALS)}
    department = {"code": "department", "type": "enum", "options": ["women", "men", "unisex"]}
    regulated = {"code": "regulated_category", "type": "enum", "options": [REGULATED_CATEGORY.get(top, "none")]}
    if top == "Apparel":
        size = {
            "code": "size",
            "type": "enum",
            "label": "Size",
            "options": ["XS", "S", "M", "L", "XL"],
            "variant": True,
        }
        care = {"code": "care", "type": "text", "label": "Care instructions"}
        fibre = {"code": "fibre_composition", "type": "text", "label": "Fibre composition"}
        return [size, material, care, department, fibre, regulated]
    if top == "Footwear":
        sizes = [str(s) for s in range(36, 47)]
        return [
            {"code": "size", "type": "enum", "label": "EU size", "options": sizes, "variant": True},
            material,
            department,
        ]
    if top == "Home":
        return [material, {"code": "dimensions_cm", "type": "text", "label": "Dimensions (cm)"}]
    if top == "Beauty":
        return [
            {"code": "volume", "type": "number", "label": "Volume", "units": ["ml", "l"]},
            {"code": "ingredients", "type": "text", "label": "Ingredients (INCI)"},
            {"code": "cpnp_number", "type": "text", "label": "CPNP notification number"},
            {"code": "responsible_person", "type": "text", "label": "Responsible person in the EU"},
            regulated,
        ]
    return [  # Electronics
        {"code": "voltage", "type": "enum", "options": ["5V", "12V", "230V"]},
        {"code": "warranty_months", "type": "number", "label": "Warranty (months)"},
        {"code": "ce_mark", "type": "boolean", "label": "CE marking"},
        {"code": "connectivity", "type": "enum", "options": ["wired", "bluetooth", "usb-c"]},
        {"code": "batteries_included", "type": "boolean"},
        regulated,
    ]


def marketplace_profile(shipped: dict[str, Any]) -> dict[str, Any]:
    """The twin's marketplaces' profile: the shipped ``marketplace-listings`` document with the twin's product
    types added; a rule for some types holds for the types ``LIKE`` them too."""
    types = sorted(set(PRODUCT_TYPE.values()))
    rules = []
    for rule in shipped["rules"]:
        rule = dict(rule)
        if rule["id"] == "product_type-values":
            rule["values"] = types
            rule["message"] = "The product type must be one the twin's marketplaces know: " + ", ".join(types) + "."
        when = rule.get("when")
        if when and when["field"] == "product_type":
            rule["when"] = {
                "field": "product_type",
                "in": [*when["in"], *(t for t, like in LIKE.items() if like in when["in"])],
            }
        rules.append(rule)
    description = "The shipped marketplace-listings profile with the product types of the retail twin's catalogue."
    return shipped | {
        "code": MARKETPLACE_PROFILE,
        "label": "Twin marketplaces",
        "description": description,
        "rules": rules,
    }


def locale_of(channel: dict[str, Any]) -> str:
    countries = channel["countries"]
    return COUNTRY_LOCALE.get(countries[0], DEFAULT_LOCALE) if len(countries) == 1 else DEFAULT_LOCALE


def targets(world: World) -> dict[str, dict[str, Any]]:
    """Each channel's target: the profile and mapping of its kind (``TARGETS``), the locale of its country."""
    out = {}
    for ch in world.channels:
        profile, mapping = TARGETS.get(ch["kind"], TARGETS["web_store"])
        out[ch["code"]] = {"profile": profile, "locale": locale_of(ch), "mapping": mapping}
    return out


def twin_products(world: World) -> list[Product]:
    return generate_catalog(world.skus, world.seed)


def images(world: World) -> list[bool]:
    """Which of the world's products have an image (all but ``NO_IMAGE_SHARE``), in SKU order."""
    rng = random.Random(world.seed * 104_729 + 7)
    return [rng.random() >= NO_IMAGE_SHARE for _ in world.skus]


def products(world: World, twin: list[Product] | None = None) -> list[dict[str, Any]]:
    """One product document per SKU, the planted gaps kept (the module's docstring says how)."""
    items = twin if twin is not None else twin_products(world)
    return [document(p, n, image=image) for n, (p, image) in enumerate(zip(items, images(world), strict=True), 1)]


def document(p: Product, number: int, *, image: bool = True) -> dict[str, Any]:
    """The catalog document of twin product ``p`` (the ``number``-th SKU)."""
    top, _, leaf = p.category
    attrs = {RENAMED.get(k, k): v for k, v in p.attributes.items()}
    brand = attrs.get("brand")
    maker = brand or BRANDS[number % len(BRANDS)]  # the title names the maker even where the brand is missing
    code = product_code(p.sku)
    values: list[dict[str, Any]] = []
    for i, locale in enumerate(LOCALES):
        noun = NOUNS[leaf][i]
        values.append({"attribute": "title", "locale": locale, "value": f"{maker} {noun} {number}"})
        values.append(
            {
                "attribute": "description",
                "locale": locale,
                "value": DESCRIPTION[locale].format(noun=noun, brand=maker, n=number),
            }
        )
    common: dict[str, Any] = {
        "price": {"amount": str(p.price), "currency": "EUR"},
        "link": f"https://shop.twin.example/p/{code}",
        "availability": "in_stock",  # what the product page says; a feed writes the channel's own availability
        "condition": "new",
        "product_type": PRODUCT_TYPE[leaf],
        "manufacturer": ADDRESSES[maker],
    }
    if top in REGULATED_CATEGORY:
        common["regulated_category"] = REGULATED_CATEGORY[top]
    if top in ("Apparel", "Footwear"):
        common["department"] = ("women", "men", "unisex")[number % 3]
    if top == "Beauty":
        common["responsible_person"] = f"{maker} Cosmetics Europe B.V., Herengracht 180, 1016 BR Amsterdam, Netherlands"
    if top == "Electronics":
        common["connectivity"] = ("wired", "bluetooth", "usb-c")[number % 3]
        common["batteries_included"] = leaf in ("Headphones", "Speakers") and number % 2 == 0
    for name, value in attrs.items():
        if name in ("title", "brand", "gtin", "size"):
            continue
        if name == "weight":
            value = {"amount": str(value), "unit": "g"}
        elif name == "volume":
            value = {"amount": str(value), "unit": "ml"}
        elif name == "warranty_months":
            value = {"amount": str(value)}
        elif name == "cpnp_number":
            value = str(value).removeprefix("CPNP-")  # the notification number itself: digits
        elif name == "fibre_composition":
            value = FIBRES.get(str(attrs.get("material")), str(value))
        common[name] = value
    values += [{"attribute": k, "value": v} for k, v in common.items()]
    variant: dict[str, Any] = {"sku": p.sku}
    if "size" in attrs:
        variant["values"] = [{"attribute": "size", "value": str(attrs["size"])}]
    gtin = attrs.get("gtin")
    if gtin is not None:
        variant["gtin"] = gtin if gtin13(gtin[:12]) == gtin else gtin13("2" + gtin[1:12])
    if top == "Electronics":
        variant["mpn"] = f"{slug(maker)[:3].upper()}-{number:06d}"
    doc: dict[str, Any] = {"code": code, "family": slug(top), "categories": [slug(*p.category)], "values": values}
    doc["variants"] = [variant]
    if brand:
        doc["brand"] = brand
    if image:
        alt = f"{maker} {NOUNS[leaf][0]} {number}"
        doc["media"] = [{"url": f"https://img.twin.example/{code}.jpg", "kind": "image", "alt": alt}]
    return doc


def complete(p: Product, number: int) -> dict[str, Any]:
    """The document of ``p`` with nothing missing: what a merchandiser fixing its gaps makes of it (the missing
    values filled in with plausible ones, the manufacturer's GTIN, an image)."""
    top = p.category[0]
    filled = {
        "brand": BRANDS[number % len(BRANDS)],
        "gtin": gtin13(f"40{number:010d}"),
        "color": COLORS[number % len(COLORS)],
        "weight_g": 250 + number % 700,
        "size": "M",
        "size_eu": 41,
        "material": MATERIALS[number % 3],
        "care": "machine wash 30C",
        "dimensions_cm": "40x30x10",
        "volume_ml": 50,
        "ingredients": "aqua, glycerin, parfum",
        "voltage": "5V",
        "warranty_months": 24,
        "fibre_composition": "100% cotton",
        "cpnp_number": f"CPNP-{1_000_000 + number}",
        "ce_mark": True,
    }
    names = ("brand", "gtin", "color", "weight_g", *REQUIRED[top], *REGULATED.get(top, ()))
    attrs = {n: filled[n] for n in names} | p.attributes
    attrs["gtin"] = filled["gtin"]
    return document(replace(p, attributes=attrs), number)
