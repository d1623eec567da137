"""Channel feeds: a listing's payload with the channel's availability, written as a Google Merchant Center
feed (TSV, or RSS 2.0 with the ``g:`` namespace), a JSON listings file, or CSV. Every writer takes items one at
a time and yields text, so a feed of any size streams in constant memory."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import islice
from typing import Any
from xml.sax.saxutils import escape

from keel.catalog.model.overview import show
from keel.catalog.model.profiles import Profile

GOOGLE_NS = "http://base.google.com/ns/1.0"
JSON_PART = 25_000  # items per file of a JSON listings feed
# The Google Merchant Center attributes a feed carries, in column order.
GOOGLE_FIELDS = (
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
)
CSV_FIELDS = ("channel", "sku", "product", "quantity", *GOOGLE_FIELDS[2:])
FILLED = ("availability", "quantity")  # what the feed writes over the payload: the channel's availability


class FeedFormat(StrEnum):
    TSV = "tsv"
    XML = "xml"
    JSON = "json"
    CSV = "csv"


MEDIA_TYPES = {
    FeedFormat.TSV: "text/tab-separated-values; charset=utf-8",
    FeedFormat.XML: "application/rss+xml; charset=utf-8",
    FeedFormat.JSON: "application/json",
    FeedFormat.CSV: "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class FeedItem:
    """One ready listing as the feed sends it: its payload with availability and quantity filled in."""

    channel: str
    sku: str
    product: str
    quantity: int
    payload: dict[str, Any]


@dataclass
class FeedStats:
    """What a feed run read: listings of the channel (``ready`` of them as the catalog holds them), those sent,
    and those left out (blocked) by reason."""

    channel: str
    listings: int = 0
    ready: int = 0
    included: int = 0
    left_out: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


FEED_FILLED = frozenset({"availability", "quantity"})  # the payload fields a feed fills in (``with_availability``)


def lasting_rules(reasons: Iterable[Sequence[str]], profile: Profile) -> list[str]:
    """The rules among a stored listing's reasons that fail again in the feed, whatever availability it fills
    in: the family's requirements, and the profile's rules that neither read a field the feed fills nor apply
    only on one (a rule of ``profile`` no longer there is not counted: it may have changed since)."""
    rules = {r.id: r for r in profile.rules}
    lasting = []
    for rule_id, *_ in reasons:
        rule = rules.get(rule_id)
        if rule_id.startswith("family:") or (rule is not None and not ({*rule.names, rule.when_field} & FEED_FILLED)):
            lasting.append(rule_id)
    return lasting


def availability(quantity: int, backorder: bool) -> str:
    """The Google availability value of a listed quantity: in stock when there is any; else backorder when the
    channel takes backorders; else out of stock."""
    if quantity > 0:
        return "in_stock"
    return "backorder" if backorder else "out_of_stock"


def with_availability(payload: dict[str, Any], quantity: int, backorder: bool) -> dict[str, Any]:
    return {**payload, "availability": availability(quantity, backorder), "quantity": quantity}


def _cell(value: Any) -> str:
    """A payload value as feed text: money as ``19.90 EUR`` (Google's form), lists joined; no tabs or line
    breaks, which a TSV cell cannot quote."""
    if value is None:
        return ""
    text = show(value)
    return " ".join(text.split()) if any(c in text for c in "\t\r\n") else text


def google_row(item: FeedItem) -> list[str]:
    """The Google attributes of an item; ``id`` and ``item_group_id`` are its SKU and product when the
    channel's payload does not name them."""
    fields = {"id": item.sku, "item_group_id": item.product, **item.payload}
    return [_cell(fields.get(name)) for name in GOOGLE_FIELDS]


def write_tsv(items: Iterable[FeedItem]) -> Iterator[str]:
    yield "\t".join(GOOGLE_FIELDS) + "\n"
    for item in items:
        yield "\t".join(google_row(item)) + "\n"


def write_rss(channel: str, link: str, items: Iterable[FeedItem]) -> Iterator[str]:
    """RSS 2.0 with Google's ``g:`` namespace: one ``<item>`` per listing, empty attributes left out."""
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="{GOOGLE_NS}">\n<channel>\n'
        f"<title>{escape(channel)}</title>\n<link>{escape(link)}</link>\n"
        f"<description>Products listed on {escape(channel)}</description>\n"
    )
    for item in items:
        cells = zip(GOOGLE_FIELDS, google_row(item), strict=True)
        yield "<item>" + "".join(f"<g:{n}>{escape(v)}</g:{n}>" for n, v in cells if v) + "</item>\n"
    yield "</channel>\n</rss>\n"


def json_item(item: FeedItem) -> dict[str, Any]:
    return {"sku": item.sku, "product": item.product, "quantity": item.quantity, "attributes": item.payload}


def write_json_part(channel: str, part: int, items: Iterable[FeedItem], more: Iterator[bool]) -> Iterator[str]:
    """One file of a JSON listings feed: ``{"channel", "part", "items": [...], "next_part"}``; ``more`` tells,
    once the items are written, whether another part follows."""
    yield json.dumps({"channel": channel, "part": part})[:-1] + ', "items": [\n'
    for i, item in enumerate(items):
        yield ("" if i == 0 else ",\n") + json.dumps(json_item(item), ensure_ascii=False, sort_keys=True)
    yield '\n], "next_part": ' + (str(part + 1) if next(more) else "null") + "}\n"


def write_csv(items: Iterable[FeedItem]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for item in items:
        head = [item.channel, item.sku, item.product, str(item.quantity)]
        writer.writerow(head + [_cell(item.payload.get(name)) for name in GOOGLE_FIELDS[2:]])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


class Peekable:
    """An iterator of feed items that can tell whether another item follows without losing it."""

    def __init__(self, items: Iterable[FeedItem]) -> None:
        self._items = iter(items)
        self._held: list[FeedItem] = []

    def __iter__(self) -> Iterator[FeedItem]:
        return self

    def __next__(self) -> FeedItem:
        return self._held.pop() if self._held else next(self._items)

    def has_more(self) -> Iterator[bool]:
        """Yields once: whether an item follows (read ahead and kept for the next call)."""
        if not self._held:
            following = next(self._items, None)
            if following is not None:
                self._held.append(following)
        yield bool(self._held)


def json_parts(channel: str, items: Iterable[FeedItem], limit: int = JSON_PART) -> Iterator[Iterator[str]]:
    """The files of a JSON listings feed, ``limit`` items each, one after the other (each file's text must be
    read before the next file is asked for); always at least one file."""
    source = Peekable(items)
    part = 1
    while True:
        yield write_json_part(channel, part, islice(source, limit), source.has_more())
        if not next(source.has_more()):
            return
        part += 1


def json_part(channel: str, items: Iterable[FeedItem], part: int, limit: int = JSON_PART) -> Iterator[str]:
    """File ``part`` (1-based) of a JSON listings feed; the items before it are read and skipped."""
    source = Peekable(items)
    for _ in islice(source, (part - 1) * limit):
        pass
    return write_json_part(channel, part, islice(source, limit), source.has_more())
