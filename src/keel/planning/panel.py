"""Demand history files (CSV or Parquet) read into a forecastable panel, every bad row named.

A history file has the columns ``date, sku, location, units`` and optionally ``stockout`` (true on a day the
series had no sellable stock: what sold is not what was wanted), ``on_hand``, ``price`` and ``promo`` (read and
checked, kept for the planning context; the forecaster does not use them yet). A calendar file has ``date,
open`` and optionally ``holiday``: a closed day is censored in every series' history and forecast as 0.
Dates are ISO (YYYY-MM-DD). Each (sku, location) series must have one row per period from its first to its
last, at the frequency given (D, W or M): a missing period is an error, not a zero, because a missing day in
an export is more often a gap in the export than a day without sales.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from keel.platform.errors import FieldError, ValidationFailed

REQUIRED = ("date", "sku", "location", "units")
OPTIONAL = ("stockout", "on_hand", "price", "promo")
SEASONS = {"D": 7, "W": 52, "M": 12}  # the season length each frequency forecasts with unless told
# Days also carry a yearly season (52 weeks: a weekday stays a weekday); for weeks and months it is the season.
YEARS = {"D": 364}
MAX_UNITS = 1e12  # more in one period is a unit mistake (cents for euros, grams for tonnes), not demand
MAX_ERRORS = 100  # the first hundred problems are enough to fix a file; more would bury them
TRUE, FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f", ""}


@dataclass(frozen=True)
class Panel:
    """``frame``: unique_id (an index into ``keys``), ds, y, censored; one row per series and period."""

    frame: pd.DataFrame
    keys: list[tuple[str, str]]  # (sku, location) of each unique_id
    freq: str
    series: int
    closed: frozenset[pd.Timestamp]  # the calendar's closed periods (forecast as 0)
    first_rows: tuple[int, ...] = ()  # per series, the file row (1 = the first after the header) it starts at
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per grouping column, each series' value


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ValidationFailed("bad file", [FieldError(None, "file", f"{path} is not a readable file")])
    if path.suffix.lower() != ".parquet" and _holds_nul(path):
        raise ValidationFailed("bad file", [FieldError(None, "file", "a text file: it holds NUL bytes")])
    try:
        if path.suffix.lower() == ".parquet":
            frame = pd.read_parquet(path)
            return frame.astype({c: str for c in frame.columns if c in ("date", "sku", "location")})
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (ValueError, UnicodeDecodeError, OSError, pd.errors.ParserError) as exc:
        raise ValidationFailed("bad file", [FieldError(None, "file", f"not a CSV or Parquet file: {exc}")]) from exc


def _holds_nul(path: Path) -> bool:
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            if b"\x00" in chunk:
                return True
    return False


def _errors_for(mask: np.ndarray, field: str, reason: str) -> list[FieldError]:
    return [FieldError(int(i) + 1, field, reason) for i in np.flatnonzero(mask)[:MAX_ERRORS]]


def _flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text = values.astype(str).str.strip().str.lower()
    return text.isin(TRUE).to_numpy(), ~text.isin(TRUE | FALSE).to_numpy()


def _periods(dates: pd.Series, freq: str) -> pd.Series:
    return dates.dt.to_period({"D": "D", "W": "W", "M": "M"}[freq])


def read_calendar(path: Path, freq: str) -> frozenset[pd.Timestamp]:
    frame = _read(path)
    missing = [c for c in ("date", "open") if c not in frame.columns]
    if missing:
        raise ValidationFailed("bad calendar", [FieldError(None, c, "a column of the calendar file") for c in missing])
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    is_open, bad_open = _flags(frame["open"])
    errors = _errors_for(dates.isna().to_numpy(), "date", "a date as YYYY-MM-DD")
    errors += _errors_for(bad_open, "open", "true or false")
    if errors:
        raise ValidationFailed("bad calendar", errors[:MAX_ERRORS])
    closed = _periods(dates[~is_open], freq).dt.start_time
    return frozenset(closed)


def read_history(path: Path, *, freq: str = "D", calendar: Path | None = None, groups: tuple[str, ...] = ()) -> Panel:
    """The history file at ``path`` as a ``Panel``; ``ValidationFailed`` with every problem by row otherwise.
    ``groups`` names further columns that group the series (country, category...): each series keeps one value."""
    if freq not in SEASONS:
        raise ValidationFailed("bad option", [FieldError(None, "freq", f"one of {', '.join(SEASONS)}")])
    frame = _read(path)
    missing = [c for c in (*REQUIRED, *groups) if c not in frame.columns]
    if missing:
        raise ValidationFailed("bad file", [FieldError(None, c, "a column of the history file") for c in missing])
    if frame.empty:
        raise ValidationFailed("bad file", [FieldError(None, "file", "at least one row after the header")])
    closed = read_calendar(calendar, freq) if calendar else frozenset()
    dates = pd.to_datetime(frame["date"].astype(str), format="%Y-%m-%d", errors="coerce")
    units = pd.to_numeric(frame["units"], errors="coerce")
    errors = _errors_for(dates.isna().to_numpy(), "date", "a date as YYYY-MM-DD")
    errors += _errors_for(~np.isfinite(units.to_numpy(dtype=float)), "units", "a number")
    errors += _errors_for((units < 0).to_numpy(), "units", "not negative (returns are not demand)")
    errors += _errors_for((units > MAX_UNITS).to_numpy(), "units", f"at most {MAX_UNITS:.0e} a period")
    for key in ("sku", "location", *groups):
        text = frame[key].astype(str).str.strip()
        errors += _errors_for(((text == "") | text.str.contains("\x00", regex=False)).to_numpy(), key, "a code")
    stockout, bad_stockout = _flags(frame["stockout"]) if "stockout" in frame else (np.zeros(len(frame), bool),) * 2
    errors += _errors_for(bad_stockout, "stockout", "true or false")
    for key in ("on_hand", "price"):
        if key in frame:
            numbers = pd.to_numeric(frame[key].replace("", np.nan), errors="coerce")
            bad = (frame[key].astype(str) != "") & ~np.isfinite(numbers.to_numpy(dtype=float))
            errors += _errors_for(bad.to_numpy() | (numbers < 0).to_numpy(), key, "a number, not negative")
    if errors:
        raise ValidationFailed("bad history", sorted(errors, key=lambda e: e.row or 0)[:MAX_ERRORS])
    pairs = pd.MultiIndex.from_arrays([frame["sku"].astype(str).str.strip(), frame["location"].astype(str).str.strip()])
    ids, uniques = pd.factorize(pairs)
    keys = [(str(sku), str(location)) for sku, location in uniques]
    periods = _periods(dates, freq)
    table = pd.DataFrame({"unique_id": ids, "period": periods, "y": units.astype(float), "censored": stockout})
    table["row"] = np.arange(1, len(table) + 1)
    errors = _duplicates(table) + _gaps(table, keys)
    values = {g: frame[g].astype(str).str.strip().to_numpy(dtype=object) for g in groups}
    errors += [e for g in groups for e in _changes(table, keys, g, values[g])]
    if errors:
        raise ValidationFailed("bad history", errors[:MAX_ERRORS])
    table = table.sort_values(["unique_id", "period"], kind="stable")
    table["ds"] = table["period"].dt.start_time
    if closed:
        table["censored"] |= table["ds"].isin(closed)
    panel = table[["unique_id", "ds", "y", "censored"]].reset_index(drop=True)
    first_rows = tuple(int(r) for r in table.groupby("unique_id", sort=True)["row"].min())
    first = np.asarray(first_rows, dtype=np.int64) - 1
    return Panel(panel, keys, freq, len(keys), closed, first_rows, {g: tuple(values[g][first]) for g in groups})


def _changes(table: pd.DataFrame, keys: list[tuple[str, str]], group: str, values: np.ndarray) -> list[FieldError]:
    """A row whose ``group`` differs from its series' first row's: a series belongs to one group."""
    ids = table["unique_id"].to_numpy()
    first = table.groupby("unique_id")["row"].transform("min").to_numpy() - 1
    out = []
    for i in np.flatnonzero(values != values[first])[:MAX_ERRORS]:
        sku, location = keys[int(ids[i])]
        out.append(
            FieldError(
                int(i) + 1,
                group,
                f"{sku} at {location} has {group} {values[first[i]]!r} at row {int(first[i]) + 1}; a series keeps one",
            )
        )
    return out


def _duplicates(table: pd.DataFrame) -> list[FieldError]:
    repeated = table.duplicated(["unique_id", "period"], keep="first")
    first = table.drop_duplicates(["unique_id", "period"]).set_index(["unique_id", "period"])["row"]
    out = []
    for _, row in table[repeated].head(MAX_ERRORS).iterrows():
        at = int(first.loc[(row["unique_id"], row["period"])])
        out.append(
            FieldError(int(row["row"]), "date", f"a second row for this SKU, location and period (first at row {at})")
        )
    return out


def _gaps(table: pd.DataFrame, keys: list[tuple[str, str]]) -> list[FieldError]:
    ordered = table.sort_values(["unique_id", "period"], kind="stable")
    ordinal = np.asarray(ordered["period"].array.asi8, dtype=np.int64)
    same = ordered["unique_id"].to_numpy()[1:] == ordered["unique_id"].to_numpy()[:-1]
    jump = (ordinal[1:] - ordinal[:-1]) > 1
    out = []
    for i in np.flatnonzero(same & jump)[:MAX_ERRORS]:
        after = ordered.iloc[i + 1]
        before = ordered.iloc[i]
        sku, location = keys[int(after["unique_id"])]
        out.append(
            FieldError(
                int(after["row"]),
                "date",
                f"{sku} at {location} has no row for the periods between {before['period']} and {after['period']}",
            )
        )
    return out


def forecast_table(panel: Panel, frame: pd.DataFrame, combination: dict[object, tuple[str, ...]]) -> pd.DataFrame:
    """The forecaster's ``frame`` for a panel as the file a user reads: sku, location, date, step, mean, the
    quantiles and the models averaged; a period the calendar closes is forecast as 0 with every quantile."""
    out = frame.copy()
    values = [c for c in out.columns if c == "mean" or c.startswith("q")]
    if panel.closed:
        shut = out["ds"].isin(panel.closed)
        out.loc[shut, values] = 0.0
    ids = out.pop("unique_id").to_numpy()
    keys = np.asarray(panel.keys, dtype=object).reshape(-1, 2)
    out.insert(0, "sku", keys[ids.astype(np.int64), 0])
    out.insert(1, "location", keys[ids.astype(np.int64), 1])
    out.insert(2, "date", pd.to_datetime(out.pop("ds")).dt.strftime("%Y-%m-%d"))
    out["models"] = [" + ".join(combination[i]) for i in ids]
    return out.sort_values(["sku", "location", "step"], kind="stable").reset_index(drop=True)


def hierarchy_series(panel: Panel) -> pd.DataFrame:
    """The panel's series with their grouping columns, sku and location: ``forecast_hierarchy``'s input."""
    ids = panel.frame["unique_id"].to_numpy(dtype=np.int64)
    keys = np.asarray(panel.keys, dtype=object).reshape(-1, 2)
    columns = {g: np.asarray(panel.groups[g], dtype=object)[ids] for g in panel.groups}
    return panel.frame.assign(**columns, sku=keys[ids, 0], location=keys[ids, 1])


def hierarchy_table(panel: Panel, frame: pd.DataFrame) -> pd.DataFrame:
    """``forecast_hierarchy``'s frame as the file a user reads: level, the keys, date, step, mean, the quantiles
    and base (the node's own forecast before reconciliation); a closed period is 0 at every node."""
    out = frame.copy()
    values = [c for c in out.columns if c in ("mean", "base") or c.startswith("q")]
    if panel.closed:
        out.loc[out["ds"].isin(panel.closed), values] = 0.0
    out.insert(out.columns.get_loc("ds"), "date", pd.to_datetime(out.pop("ds")).dt.strftime("%Y-%m-%d"))
    return out
