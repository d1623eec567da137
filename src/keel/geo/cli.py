"""``keel geo ...`` commands: load postal-code centroids from a file the operator downloaded, look one up."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from keel.cli_support import DbOpt, JsonOpt, emit, fail, open_keel
from keel.geo.model import PostalCodeReader, problems
from keel.platform.errors import KeelError, ValidationFailed

app = typer.Typer(help="Reference geography: postal-code centroids for ship-to addresses.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@contextmanager
def open_source(path: Path) -> Iterator[tuple[IO[bytes], int]]:
    """The file's bytes and their size; a GeoNames ``.zip`` is read in place (its data member, not the readme)."""
    if path.suffix.lower() != ".zip":
        with path.open("rb") as handle:
            yield handle, path.stat().st_size
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise typer.BadParameter(f"{path} is not a zip archive") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and m.filename.lower() != "readme.txt"]
        if len(members) != 1:
            names = ", ".join(m.filename for m in members) or "nothing"
            raise typer.BadParameter(f"{path} should hold one data file besides readme.txt; it holds {names}")
        with archive.open(members[0]) as handle:
            yield handle, members[0].file_size


def read_file(path: Path, reader: PostalCodeReader) -> None:
    """Feed every line of ``path`` to ``reader`` under a progress bar of the bytes read."""
    columns = (TextColumn("[bold]reading  "), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with (
        open_source(path) as (handle, size),
        Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress,
    ):
        task = progress.add_task("read", total=size)
        unreported = 0
        for number, line in enumerate(handle, start=1):
            reader.feed(number, line)
            unreported += len(line)
            if unreported >= 1 << 20:  # a bar update per MiB, not per line
                progress.advance(task, unreported)
                unreported = 0
        progress.advance(task, unreported)


@app.command("import-postcodes")
def import_postcodes(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoNames dump (.txt or .zip) or CSV")],
    country: Annotated[str | None, typer.Option(help="import only this ISO country's rows, e.g. DE")] = None,
    database_url: DbOpt = None,
) -> None:
    """Load postal-code centroids from a GeoNames postal-code dump (.txt, or the .zip as downloaded) or a CSV
    with the header country,postal_code,place,latitude,longitude.

    Every row is validated first; any problem refuses the file and nothing is written. Rows sharing a
    postal code are averaged into one centroid. A stored code is replaced, so a re-import is idempotent.
    """
    keel = open_keel(database_url)
    try:
        reader = keel.postcodes.reader(country)
    except KeelError as exc:
        raise fail(exc) from exc
    read_file(path, reader)
    errors = reader.finish()
    if errors:
        raise fail(ValidationFailed(f"{path}: {problems(reader.error_count)}; nothing was imported", errors))
    columns = (TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, disable=not err.is_terminal) as progress:
        task = progress.add_task("write", total=len(reader))
        try:
            result = keel.postcodes.write(reader, source=path.name, progress=lambda n: progress.advance(task, n))
        except KeelError as exc:
            raise fail(exc) from exc
    notes = [f"{result.averaged} averaged from several rows"] if result.averaged else []
    notes += [f"{reader.skipped} rows of other countries skipped"] if reader.skipped else []
    where = ", ".join(result.countries) if len(result.countries) <= 10 else f"{len(result.countries)} countries"
    console.print(
        f"imported {result.codes} postal codes ({where}) from {result.rows} rows of {path}: "
        f"{result.changed} new or changed, {result.codes - result.changed} unchanged"
        + "".join(f"; {note}" for note in notes)
    )


@app.command("postcode")
def show_postcode(
    country: Annotated[str, typer.Argument(help="ISO country code, e.g. DE")],
    code: Annotated[str, typer.Argument(help="the postal code, e.g. 10115")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Look up the centroid a ship-to address with this postal code gets (the code, else its outward part)."""
    keel = open_keel(database_url)
    try:
        found = keel.postcodes.get(country, code)
    except KeelError as exc:
        raise fail(exc) from exc
    if json_out:
        emit(found)
        return
    place = f" {found.place}" if found.place else ""
    area = "" if found.exact else " (outward part only)"
    rows = f" (the average of {found.source_rows} rows)" if found.source_rows > 1 else ""
    console.print(f"{found.country} {found.display}{place}: {found.latitude:.5f}, {found.longitude:.5f}{rows}{area}")
