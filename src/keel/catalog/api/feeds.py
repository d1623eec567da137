"""HTTP API of channel feeds: a channel's ready listings as a Google Merchant Center feed (TSV or RSS 2.0), a
JSON listings file (one part of at most 25,000 items) or CSV, streamed, with what is known before streaming
in ``X-Keel-*`` headers; and the feed's summary, counted to its end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from keel.access import ScopeDep
from keel.catalog import MEDIA_TYPES, Feed, FeedFormat, json_part, write_csv, write_rss, write_tsv
from keel.catalog.schemas import FeedPartPublic, FeedSummaryPublic
from keel.deps import KeelDep

router = APIRouter(tags=["catalog"])
TEXT = {"schema": {"type": "string"}}
FEED_CONTENT = {MEDIA_TYPES[f].split(";")[0]: TEXT for f in (FeedFormat.TSV, FeedFormat.XML, FeedFormat.CSV)}
COUNT = {"schema": {"type": "integer", "minimum": 0}}
FEED_HEADERS: dict[str, dict[str, Any]] = {
    "X-Keel-Listings": {"description": "listings the channel has (the feed reads every one)", **COUNT},
    "X-Keel-Blocked": {"description": "of those, listings the catalog holds blocked", **COUNT},
    "X-Keel-Left-Out": {
        "description": "listings left out whatever availability the feed fills in: blocked by the family's "
        "requirements or a profile rule on another field (at least this many; the summary has the exact count)",
        **COUNT,
    },
    "X-Keel-Left-Out-Rules": {
        "description": "the rules behind X-Keel-Left-Out, at most five, most first: rule=listings, comma-separated",
        "schema": {"type": "string"},
    },
    "Link": {"description": 'the feed\'s summary: </catalog/feeds/{channel}/summary>; rel="describedby"', **TEXT},
}
TOP_RULES = 5
CountryQuery = Annotated[
    str | None, Query(min_length=2, max_length=2, description="quantities in this country (default: every one)")
]


def feed_headers(feed: Feed, country: str | None) -> dict[str, str]:
    """What a consumer can know before the body streams (the body's own counts come only at its end)."""
    rules = ", ".join(f"{rule}={n}" for rule, n in feed.left_out_by_rule.most_common(TOP_RULES))
    query = f"?{urlencode({'country': country})}" if country else ""
    return {
        "X-Keel-Listings": str(feed.listings),
        "X-Keel-Blocked": str(feed.blocked),
        "X-Keel-Left-Out": str(feed.left_out),
        "X-Keel-Left-Out-Rules": rules,
        "Link": f'</catalog/feeds/{feed.target.channel}/summary{query}>; rel="describedby"',
    }


@router.get(
    "/catalog/feeds/{channel}",
    operation_id="get_catalog_feed",
    summary="Stream a channel's feed",
    response_class=StreamingResponse,
    responses={
        200: {
            "model": FeedPartPublic,
            "content": FEED_CONTENT,
            "description": "the feed in its format",
            "headers": FEED_HEADERS,
        }
    },
)
def get_feed(
    channel: Annotated[str, Path(max_length=64)],
    keel: KeelDep,
    scope: ScopeDep,
    format: Annotated[FeedFormat, Query(description="tsv, xml (RSS 2.0, g: namespace), json or csv")] = FeedFormat.TSV,
    country: CountryQuery = None,
    part: Annotated[int, Query(ge=1, le=100_000, description="json only: which file of 25,000 items")] = 1,
) -> StreamingResponse:
    """The channel's ready listings by SKU, each with the quantity the channel lists (from channel
    availability, summed over its countries or in ``country``) and its availability (in_stock, backorder when
    the channel takes backorders, else out_of_stock), its price from the product, validated again against the
    channel's profile: a listing that fails is left out. ``tsv`` and
    ``xml`` are Google Merchant Center feeds; ``json`` is one file of a listings feed split at 25,000 items
    (``next_part`` names the next one, null on the last); ``csv`` carries the quantity too. Streamed: memory
    stays flat whatever the channel's size, and the counts known before streaming come as headers:
    ``X-Keel-Listings`` (the channel's listings), ``X-Keel-Blocked`` (held blocked), ``X-Keel-Left-Out`` and
    ``X-Keel-Left-Out-Rules`` (left out whatever availability is filled in: at least that many); ``Link``
    names the summary, which counts the feed to its end.

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
    headers = {"Content-Disposition": f'attachment; filename="{channel}{suffix}"'} | feed_headers(feed, country)
    return StreamingResponse(body, media_type=MEDIA_TYPES[format], headers=headers)


@router.get(
    "/catalog/feeds/{channel}/summary",
    response_model=FeedSummaryPublic,
    operation_id="get_catalog_feed_summary",
    summary="Count a channel's feed",
)
def get_feed_summary(
    channel: Annotated[str, Path(max_length=64)], keel: KeelDep, scope: ScopeDep, country: CountryQuery = None
) -> FeedSummaryPublic:
    """The channel's feed run to its end without being sent: the listings it reads, how many the catalog holds
    ready, the items it would send (ready once the channel's availability is filled in) and the listings it
    leaves out, by rule; what ``keel catalog feed`` reports after writing. It reads the whole channel, so it
    costs what a feed costs.

    Refuses a channel outside the caller's restrictions (403), a channel without a catalog target or unknown to
    the channel registry (404) and a bad country (422). Idempotent: a read, it changes nothing.
    """
    run = keel.catalog.feed_summary(channel, keel.availability, country=country, scope=scope)
    return FeedSummaryPublic.of(run.target, run.stats, country)
