"""``keel catalog feed``: a channel's feed to stdout or to files, with a progress bar on a terminal."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, TextIO

import typer
from pydantic import BaseModel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from keel.catalog import JSON_PART, FeedFormat, FeedItem, FeedStats, json_parts, write_csv, write_rss, write_tsv
from keel.catalog.cli.common import app, err
from keel.cli_support import DbOpt, JsonOpt, cli_scope, emit, fail, open_keel
from keel.platform.errors import FieldError, KeelError, ValidationFailed


class FeedRunPublic(BaseModel):
    """What a feed run wrote: listings read, items sent, listings left out and why, and the files."""

    channel: str
    format: str
    listings: int
    included: int
    left_out: int
    left_out_by_rule: dict[str, int]
    files: list[str]

    @classmethod
    def of(cls, stats: FeedStats, fmt: FeedFormat, files: list[str]) -> FeedRunPublic:
        reasons = dict(Counter(stats.reasons).most_common())
        return cls(
            channel=stats.channel,
            format=fmt.value,
            listings=stats.listings,
            included=stats.included,
            left_out=stats.left_out,
            left_out_by_rule=reasons,
            files=files,
        )


def _write(out: TextIO, chunks: Iterable[str]) -> None:
    for chunk in chunks:
        out.write(chunk)


@app.command("feed")
def feed(
    channel: Annotated[str, typer.Option("--channel", help="the channel whose ready listings to write")],
    fmt: Annotated[FeedFormat, typer.Option("--format", help="tsv, xml (RSS 2.0), json or csv")] = FeedFormat.TSV,
    out: Annotated[
        Path | None, typer.Option("--out", file_okay=False, help="write files into this directory, not stdout")
    ] = None,
    country: Annotated[str | None, typer.Option(help="quantities in this country (default: every country)")] = None,
    split: Annotated[int, typer.Option(min=1, help="json: items per file")] = JSON_PART,
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a channel's ready listings as a Google Merchant Center feed (tsv, xml), JSON listings files
    (split every 25,000 items) or CSV, with the quantity and availability the channel lists. Listings that
    fail the channel's profile are left out and counted (on stderr, or in --json)."""
    if json_out and out is None:
        raise fail(ValidationFailed("--json needs --out", [FieldError(None, "json", "the feed itself is stdout")]))
    keel = open_keel(database_url)
    try:
        run = keel.catalog.feed(channel, keel.availability, country=country, scope=cli_scope())
    except KeelError as exc:
        raise fail(exc) from exc
    columns = (TextColumn(f"[bold]{channel} feed"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    files: list[str] = []
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("feed", total=run.listings)

        def counted(items: Iterable[FeedItem]) -> Iterator[FeedItem]:
            for item in items:
                progress.update(task, completed=run.stats.listings)
                yield item
            progress.update(task, completed=run.stats.listings)

        items = counted(run.items)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
        if fmt is FeedFormat.JSON:
            for number, part in enumerate(json_parts(channel, items, split), start=1):
                if out is None:  # the parts follow one another, one JSON document each
                    _write(sys.stdout, part)
                    continue
                path = out / f"{channel}-{number:04d}.json"
                with path.open("w", encoding="utf-8") as f:
                    _write(f, part)
                files.append(str(path))
        else:
            if fmt is FeedFormat.TSV:
                chunks = write_tsv(items)
            elif fmt is FeedFormat.XML:
                chunks = write_rss(channel, f"/catalog/feeds/{channel}?format=xml", items)
            else:
                chunks = write_csv(items)
            if out is None:
                _write(sys.stdout, chunks)
            else:
                path = out / f"{channel}.{fmt.value}"
                with path.open("w", encoding="utf-8", newline="") as f:
                    _write(f, chunks)
                files.append(str(path))
    report = FeedRunPublic.of(run.stats, fmt, files)
    if json_out:
        emit(report)
        return
    reasons = ", ".join(f"{rule} {n}" for rule, n in report.left_out_by_rule.items())
    err.print(
        f"{channel}: {report.included} of {report.listings} listings written"
        + (f"; {report.left_out} left out ({reasons})" if report.left_out else "")
        + (f" to {', '.join(files)}" if files else "")
    )
