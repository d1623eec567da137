"""HTTP API of channel feeds: a channel's ready listings as a Google Merchant Center feed (TSV or RSS 2.0), a
JSON listings file (one part of at most 25,000 items) or CSV, streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from keel.access import ScopeDep
from keel.catalog import MEDIA_TYPES, FeedFormat, json_part, write_csv, write_rss, write_tsv
from keel.catalog.schemas import FeedPartPublic
from keel.deps import KeelDep

router = APIRouter(tags=["catalog"])
TEXT = {"schema": {"type": "string"}}
FEED_CONTENT = {MEDIA_TYPES[f].split(";")[0]: TEXT for f in (FeedFormat.TSV, FeedFormat.XML, FeedFormat.CSV)}


@router.get(
    "/catalog/feeds/{channel}",
    operation_id="get_catalog_feed",
    summary="Stream a channel's feed",
    response_class=StreamingResponse,
    responses={200: {"model": FeedPartPublic, "content": FEED_CONTENT, "description": "the feed in its format"}},
)
def get_feed(
    channel: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    scope: ScopeDep,
    format: Annotated[FeedFormat, Query(description="tsv, xml (RSS 2.0, g: namespace), json or csv")] = FeedFormat.TSV,
    country: Annotated[str | None, Query(min_length=2, max_length=2, description="quantities in this country")] = None,
    part: Annotated[int, Query(ge=1, le=100_000, description="json only: which file of 25,000 items")] = 1,
) -> StreamingResponse:
    """The channel's ready listings by SKU, each with the quantity the channel lists (from channel
    availability, summed over its countries or in ``country``) and its availability (in_stock, backorder when
    the channel takes backorders, else out_of_stock), its price from the product, validated again against the
    channel's profile: a listing that fails is left out (``keel catalog feed`` counts them). ``tsv`` and
    ``xml`` are Google Merchant Center feeds; ``json`` is one file of a listings feed split at 25,000 items
    (``next_part`` names the next one, null on the last); ``csv`` carries the quantity too. Streamed: memory
    stays flat whatever the channel's size.

    Refuses a channel outside the caller's restrictions (403), a channel without a catalog target or unknown to
    the channel registry (404) and a bad format, country or part (422). Idempotent: a read, it changes nothing.
    """
    feed = keel.catalog.feed(channel, keel.availability, country=country, scope=scope)
    body: Iterator[str]
    if format is FeedFormat.TSV:
        body = write_tsv(feed.items)
    elif format is FeedFormat.XML:
        body = write_rss(channel, f"/catalog/feeds/{channel}?format=xml", feed.items)
    elif format is FeedFormat.JSON:
        body = json_part(channel, feed.items, part)
    else:
        body = write_csv(feed.items)
    suffix = f"-{part:04d}.json" if format is FeedFormat.JSON else f".{format.value}"
    headers = {"Content-Disposition": f'attachment; filename="{channel}{suffix}"'}
    return StreamingResponse(body, media_type=MEDIA_TYPES[format], headers=headers)
