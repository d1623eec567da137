"""Product files: CSV (one row per variant) and NDJSON (one product document per line), read into product
documents and written back.

CSV columns: ``product``, ``family``, ``sku`` (required), ``brand``, ``categories`` and ``media`` (``|``
between items), ``gtin``, ``mpn``, then one column per value, named by its key: ``title@de`` (attribute
``title``, locale ``de``), ``title@de#google`` (the override for channel ``google``), ``size`` (a variant
attribute). A product's rows repeat its product-level cells; they must agree. Cells are written as people
type them: a number ``12.5 cm``, money ``19.99 EUR``, a boolean ``true``/``false``, a list ``a|b|c``; an
empty cell means no value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from keel.catalog.model.attributes import AttributeDef, AttributeType, Family
from keel.catalog.model.product import Value

FIXED = ("product", "family", "sku", "brand", "categories", "gtin", "mpn", "media")
MAX_CELL = 65_536  # characters of one CSV cell: far above any value a family allows (MAX_TEXT)
MAX_LINE = 4 * 1024 * 1024  # characters of one NDJSON line
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")

Row = tuple[int, dict[str, Any]]  # (the row or line it starts on, the product document)
Problem = tuple[int | None, str, str]  # (row, field, reason)


def read_ndjson(text: str) -> tuple[list[Row], list[Problem]]:
    """One product document per non-blank line."""
    docs: list[Row] = []
    errors: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            errors.append((number, "", f"line of {len(line)} characters; at most {MAX_LINE}"))
            continue
        try:
            doc = json.loads(line)
        except ValueError as exc:
            errors.append((number, "", f"not JSON: {exc}"))
            continue
        docs.append((number, doc))
    return docs, errors


def _split_key(column: str) -> tuple[str, str | None, str | None]:
    rest, _, channel = column.partition("#")
    attribute, _, locale = rest.partition("@")
    return attribute, locale or None, channel or None


def _cell(attr: AttributeDef, text: str) -> tuple[Any, str | None]:
    """A typed value from a cell, or the reason it cannot be one (the model then checks the value itself)."""
    t = attr.type
    if t is AttributeType.BOOLEAN:
        low = text.strip().lower()
        return (True, None) if low in TRUE else (False, None) if low in FALSE else (None, "true or false")
    if t in (AttributeType.NUMBER, AttributeType.MONEY):
        amount, _, unit = text.strip().partition(" ")
        if t is AttributeType.MONEY:
            return {"amount": amount, "currency": unit.strip()}, None
        return ({"amount": amount, "unit": unit.strip()} if unit.strip() else {"amount": amount}), None
    if t is AttributeType.LIST:
        return [item.strip() for item in text.split("|")], None
    return text, None


def read_csv(text: str, families: Mapping[str, Family]) -> tuple[list[Row], list[Problem]]:
    """Product documents from a CSV of one row per variant (see the module's docstring). Broken quoting,
    a cell over ``MAX_CELL`` characters, a missing required column, an unknown value column or product-level
    cells that differ between a product's rows are problems of their row."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    errors: list[Problem] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [(1, "", f"broken CSV: {exc}")]
    if header is None:
        return [], [(None, "", "the file is empty")]
    header = [h.strip() for h in header]
    missing = [c for c in ("product", "family", "sku") if c not in header]
    if missing:
        return [], [(1, c, "required column missing") for c in missing]
    if len(set(header)) != len(header):
        return [], [(1, "", "a column is named twice")]
    products: dict[str, tuple[int, dict[str, Any]]] = {}
    order: list[str] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # the csv module's own cell limit (131,072 characters) stops a giant cell before MAX_CELL can
            too_big = "field larger than field limit" in str(exc)
            errors.append(
                (reader.line_num, "", f"a cell over {MAX_CELL} characters" if too_big else f"broken CSV: {exc}")
            )
            break  # the reader cannot find the next row reliably after a quoting error
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append((line, "", f"{len(cells)} cells; the header has {len(header)}"))
            continue
        if (big := next((h for h, c in zip(header, cells, strict=True) if len(c) > MAX_CELL), None)) is not None:
            errors.append((line, big, f"a cell over {MAX_CELL} characters"))
            continue
        row = dict(zip(header, cells, strict=True))
        code, family = row["product"].strip(), families.get(row["family"].strip())
        if family is None:
            errors.append((line, "family", f"unknown family {row['family'].strip()!r}"))
            continue
        product_values, variant_values = _row_values(row, family, line, errors)
        if product_values is None or variant_values is None:
            continue
        variant: dict[str, Any] = {"sku": row["sku"].strip(), "values": variant_values}
        for name in ("gtin", "mpn"):
            if row.get(name, "").strip():
                variant[name] = row[name].strip()
        head: dict[str, Any] = {"code": code, "family": family.code}
        if row.get("brand", "").strip():
            head["brand"] = row["brand"].strip()
        head["categories"] = [c.strip() for c in row.get("categories", "").split("|") if c.strip()]
        head["values"] = product_values
        head["media"] = [{"url": u.strip()} for u in row.get("media", "").split("|") if u.strip()]
        if code not in products:
            products[code] = (line, head | {"variants": [variant]})
            order.append(code)
            continue
        first, doc = products[code]
        if {k: v for k, v in doc.items() if k != "variants"} != head:
            errors.append((line, "product", f"the product cells differ from row {first} of product {code}"))
            continue
        doc["variants"].append(variant)
    return [products[c] for c in order], errors


def _row_values(
    row: dict[str, str], family: Family, line: int, errors: list[Problem]
) -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    product: list[dict[str, Any]] = []
    variant: list[dict[str, Any]] = []
    ok = True
    for column, text in row.items():
        if column in FIXED or not text.strip():
            continue
        attribute, locale, channel = _split_key(column)
        attr = family.attribute(attribute)
        if attr is None:
            errors.append((line, column, f"not an attribute of family {family.code}"))
            ok = False
            continue
        value, reason = _cell(attr, text)
        if reason is not None:
            errors.append((line, column, f"{attr.code} ({attr.type.value}): {reason}"))
            ok = False
            continue
        item: dict[str, Any] = {"attribute": attribute, "value": value}
        if locale:
            item["locale"] = locale
        if channel:
            item["channel"] = channel
        (variant if attr.variant else product).append(item)
    return (product, variant) if ok else (None, None)


def _cell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(value)
    if isinstance(value, dict):
        unit = value.get("unit") or value.get("currency")
        return f"{value['amount']} {unit}" if unit else str(value["amount"])
    return str(value)


def _key(v: Mapping[str, Any]) -> str:
    return Value(v["attribute"], None, v.get("locale"), v.get("channel")).key


def write_csv(docs: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The CSV of ``docs``, one row per variant, header first (so the documents are read once into memory to
    know every value column)."""
    kept = list(docs)
    keys = sorted(
        {_key(v) for d in kept for v in d.get("values", [])}
        | {_key(v) for d in kept for variant in d.get("variants", []) for v in variant.get("values", [])}
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED, *keys])
    yield _take(out)
    for d in kept:
        common = {_key(v): _cell_text(v["value"]) for v in d.get("values", [])}
        for variant in d.get("variants", []):
            cells = common | {_key(v): _cell_text(v["value"]) for v in variant.get("values", [])}
            fixed = [
                d["code"],
                d["family"],
                variant["sku"],
                d.get("brand") or "",
                "|".join(d.get("categories", [])),
                variant.get("gtin") or "",
                variant.get("mpn") or "",
                "|".join(m["url"] for m in d.get("media", [])),
            ]
            writer.writerow([*fixed, *(cells.get(k, "") for k in keys)])
        yield _take(out)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def write_ndjson(docs: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One compact JSON document per line, streamed."""
    for d in docs:
        yield json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n"
