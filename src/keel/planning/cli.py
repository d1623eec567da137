"""``keel planning ...`` commands. ``forecast`` reads a demand history file and writes forecasts with their
quantiles, without a Keel database: anyone can score Keel's forecaster on their own data."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from keel.cli_support import fail, refuse
from keel.planning.cli_automation import app as automation_app
from keel.planning.cli_replenish import register
from keel.planning.quantiles import QUANTILES
from keel.platform.errors import FieldError, KeelError, ValidationFailed

if TYPE_CHECKING:
    from keel.planning.forecast.engine import FitEngine

app = typer.Typer(help="Planning: demand forecasts with quantiles, replenishment suggestions.", no_args_is_help=True)
_err = Console(stderr=True)


def _levels(text: str) -> tuple[float, ...]:
    try:
        levels = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        levels = ()
    if not levels or not all(0 < q < 1 for q in levels):
        raise ValidationFailed(
            "bad option", [FieldError(None, "quantiles", "levels between 0 and 1, e.g. 0.5,0.9,0.95")]
        )
    return levels


RESERVED = {
    "date",
    "sku",
    "location",
    "units",
    "stockout",
    "on_hand",
    "price",
    "promo",
    "level",
    "step",
    "mean",
    "base",
}


def _groups(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    taken = sorted(set(names) & RESERVED)
    if taken or len(set(names)) != len(names):
        raise refuse(
            f"--groups: distinct columns of the history file, none of {sorted(RESERVED)} ({taken or 'repeated'})"
        )
    return names


class EngineName(StrEnum):
    local = "local"
    dask = "dask"


def _engine(name: EngineName, scheduler: str | None, workers: int) -> AbstractContextManager[FitEngine | None]:
    """Where the fits run: here (``threads`` processes), or on a Dask cluster (a local one of ``workers``
    processes, or the scheduler at ``scheduler``)."""
    if name is EngineName.local:
        if scheduler is not None:
            raise refuse("--scheduler needs --engine dask")
        return nullcontext()
    try:
        from keel.planning import DaskEngine
    except ImportError as exc:  # an optional dependency
        raise refuse(f"--engine dask needs Dask: pip install 'keel[dask]' ({exc})") from exc
    return DaskEngine(scheduler, workers=workers)


@app.command("forecast")
def forecast(
    history: Annotated[Path, typer.Option(help="CSV or Parquet: date, sku, location, units [, stockout, ...]")],
    horizon: Annotated[int, typer.Option(min=1, max=1000, help="periods to forecast")],
    out: Annotated[Path, typer.Option(help="the forecasts, CSV (or Parquet when it ends in .parquet)")],
    calendar: Annotated[
        Path | None, typer.Option(help="CSV: date, open [, holiday]; closed days are not learned")
    ] = None,
    freq: Annotated[str, typer.Option(help="the history's period: D (days), W (weeks) or M (months)")] = "D",
    season_length: Annotated[
        int | None, typer.Option(min=1, max=366, help="periods in a season (D 7, W 52, M 12)")
    ] = None,
    quantiles: Annotated[str, typer.Option(help="quantile levels, comma separated")] = ",".join(map(str, QUANTILES)),
    threads: Annotated[int | None, typer.Option(min=1, max=256, help="processes fitting models (all cores)")] = None,
    engine: Annotated[EngineName, typer.Option(help="where the model fits run: here, or on a Dask cluster")] = (
        EngineName.local
    ),
    scheduler: Annotated[
        str | None, typer.Option(help="a Dask scheduler's address (tcp://host:8786); without it, a local cluster")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="worker processes of a local Dask cluster")] = 2,
    groups: Annotated[
        str,
        typer.Option(
            help="columns of the history file that group the series, top first (country,category): every group"
            " is forecast too, and all the forecasts made coherent (docs/planning.md, Coherent levels)"
        ),
    ] = "",
    json_out: Annotated[bool, typer.Option("--json", help="print a summary as one JSON object")] = False,
) -> None:
    """Forecast every (sku, location) series of a history file; each series' models chosen by backtest."""
    # Imported here: statsforecast and pandas take seconds to import, which every other command would pay.
    from keel.planning.forecast import Forecaster
    from keel.planning.panel import SEASONS, YEARS, forecast_table, read_history

    tree = _groups(groups)
    try:
        panel = read_history(history, freq=freq.upper(), calendar=calendar, groups=tree)
        levels = _levels(quantiles)
    except KeelError as exc:
        raise fail(exc) from exc
    season, year = season_length or SEASONS[panel.freq], YEARS.get(panel.freq)
    where = "" if engine is EngineName.local else f" on {scheduler or f'a local Dask cluster of {workers} workers'}"
    with (
        _engine(engine, scheduler, workers) as fits,
        _err.status(f"forecasting {panel.series:,} series, {horizon} periods ahead{where}"),
    ):
        forecaster = Forecaster(quantiles=levels, threads=threads, engine=fits)
        if tree:
            from keel.planning.forecast.hierarchy import forecast_hierarchy
            from keel.planning.panel import hierarchy_series, hierarchy_table

            found = forecast_hierarchy(
                forecaster, hierarchy_series(panel), (*tree, "sku", "location"), horizon, season, year_length=year
            )
        else:
            result = forecaster.forecast(panel.frame, horizon, season, year)
    if tree:
        table, seconds = hierarchy_table(panel, found.frame), found.seconds
        extra: dict[str, object] = {"method": found.method, "nodes": len(table) // horizon, "backtest": found.scores}
        best, yearly = {"reconciled by": found.method}, found.yearly
    else:
        table, seconds = forecast_table(panel, result.frame, result.combination), result.seconds
        best = {part: " + ".join(ranking[0][0]) for part, ranking in result.ranking.items() if ranking}
        extra, yearly = {}, result.yearly
    try:
        if out.suffix.lower() == ".parquet":
            table.to_parquet(out, index=False)
        else:
            table.to_csv(out, index=False, float_format="%.4f")
    except OSError as exc:
        raise refuse(f"{out}: {exc.strerror or exc}") from exc
    summary = {
        "series": panel.series,
        "rows": len(table),
        "horizon": horizon,
        "season_length": season,
        "seconds": round(seconds, 2),
        "engine": engine.value,
        "out": str(out),
        "best": best,
        "yearly": list(yearly),  # the parts (smooth, sparse) whose forecasts carry the yearly season
        **extra,
    }
    if json_out:
        print(json.dumps(summary))
    else:
        chosen = "; ".join(f"{part}: {models}" for part, models in best.items())
        chosen += f"; yearly season in {', '.join(yearly)}" if yearly else ""
        _err.print(f"{panel.series:,} series forecast {horizon} periods ahead in {seconds:.1f} s -> {out} ({chosen})")


register(app)
app.add_typer(automation_app, name="automation")
