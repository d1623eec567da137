"""Scenario files: situations planted into the live stream (TOML or JSON, chosen by the file extension).

Times are simulated hours from the start of the stream. Example (TOML)::

    [[situation]]
    kind = "demand_spike"      # country or region, multiplier, start, hours
    country = "DE"
    multiplier = 4.0
    start = 6
    hours = 12

    [[situation]]
    kind = "stuck_channel"     # channel, start, end: its orders stop
    channel = "market-fr"
    start = 2
    end = 10

    [[situation]]
    kind = "warehouse_outage"  # location, start, end: no movements there; deactivated meanwhile
    location = "WH-DE-001"
    start = 4
    end = 16

JSON uses the same shape: ``{"situation": [{"kind": "demand_spike", ...}]}``.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.platform.errors import ConfigError
from keel.sim.world import World

KINDS = ("demand_spike", "stuck_channel", "warehouse_outage")
MAX_MULTIPLIER = 100.0


class ScenarioError(ConfigError):
    """A scenario file that cannot be used; the message names the situation and field."""


@dataclass(frozen=True)
class DemandSpike:
    start: float
    end: float
    multiplier: float
    country: str | None = None
    region: str | None = None

    def applies(self, country: str, region: str | None) -> bool:
        return (self.country is not None and self.country == country) or (
            self.region is not None and self.region == region
        )


@dataclass(frozen=True)
class StuckChannel:
    start: float
    end: float
    channel: str


@dataclass(frozen=True)
class WarehouseOutage:
    start: float
    end: float
    location: str


Situation = DemandSpike | StuckChannel | WarehouseOutage


@dataclass(frozen=True)
class Scenario:
    situations: tuple[Situation, ...] = ()

    def spikes(self) -> list[DemandSpike]:
        return [s for s in self.situations if isinstance(s, DemandSpike)]

    def stuck(self) -> list[StuckChannel]:
        return [s for s in self.situations if isinstance(s, StuckChannel)]

    def outages(self) -> list[WarehouseOutage]:
        return [s for s in self.situations if isinstance(s, WarehouseOutage)]


def _number(item: dict[str, Any], where: str, name: str, *, required: bool = True) -> float | None:
    value = item.get(name)
    if value is None:
        if required:
            raise ScenarioError(f"{where}.{name}: required")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScenarioError(f"{where}.{name}: must be a number, got {value!r}")
    return float(value)


def _text(item: dict[str, Any], where: str, name: str) -> str | None:
    value = item.get(name)
    if value is not None and not isinstance(value, str):
        raise ScenarioError(f"{where}.{name}: must be a string, got {value!r}")
    return value


def _window(item: dict[str, Any], where: str) -> tuple[float, float]:
    start = _number(item, where, "start")
    assert start is not None
    if start < 0:
        raise ScenarioError(f"{where}.start: must be >= 0 simulated hours, got {start:g}")
    end = _number(item, where, "end", required=False)
    hours = _number(item, where, "hours", required=False)
    if (end is None) == (hours is None):
        raise ScenarioError(f"{where}: give exactly one of end or hours")
    if hours is not None:
        if hours <= 0:
            raise ScenarioError(f"{where}.hours: must be > 0, got {hours:g}")
        end = start + hours
    assert end is not None
    if end <= start:
        raise ScenarioError(f"{where}.end: must be after start ({start:g}), got {end:g}")
    return start, end


def _situation(item: Any, where: str, world: World) -> Situation:
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: must be a table/object with a kind")
    kind = item.get("kind")
    if kind not in KINDS:
        raise ScenarioError(f"{where}.kind: unknown kind {kind!r}; one of {', '.join(KINDS)}")
    allowed = {
        "demand_spike": {"kind", "country", "region", "multiplier", "start", "end", "hours"},
        "stuck_channel": {"kind", "channel", "start", "end", "hours"},
        "warehouse_outage": {"kind", "location", "start", "end", "hours"},
    }[kind]
    extra = sorted(set(item) - allowed)
    if extra:
        raise ScenarioError(f"{where}.{extra[0]}: not a field of {kind}")
    start, end = _window(item, where)
    if kind == "demand_spike":
        country, region = _text(item, where, "country"), _text(item, where, "region")
        if (country is None) == (region is None):
            raise ScenarioError(f"{where}: give exactly one of country or region")
        if country is not None and country.upper() not in {loc["country"] for loc in world.locations}:
            raise ScenarioError(f"{where}.country: unknown country {country!r}")
        if region is not None and region not in {loc["region"] for loc in world.locations}:
            raise ScenarioError(f"{where}.region: unknown region {region!r}")
        multiplier = _number(item, where, "multiplier")
        assert multiplier is not None
        if not 0 <= multiplier <= MAX_MULTIPLIER:
            raise ScenarioError(f"{where}.multiplier: must be from 0 to {MAX_MULTIPLIER:g}, got {multiplier:g}")
        return DemandSpike(start, end, multiplier, country.upper() if country else None, region)
    if kind == "stuck_channel":
        channel = _text(item, where, "channel")
        if channel not in {ch["code"] for ch in world.channels}:
            raise ScenarioError(f"{where}.channel: unknown channel {channel!r}")
        assert channel is not None
        return StuckChannel(start, end, channel)
    location = _text(item, where, "location")
    if location not in {loc["code"] for loc in world.locations}:
        raise ScenarioError(f"{where}.location: unknown location {location!r}")
    assert location is not None
    return WarehouseOutage(start, end, location)


def parse_scenario(data: Any, world: World) -> Scenario:
    """Validate a decoded scenario document against ``world``; raises ``ScenarioError`` naming the field."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: the document must be a table/object with a 'situation' list")
    extra = sorted(set(data) - {"situation", "name", "description"})
    if extra:
        raise ScenarioError(f"scenario.{extra[0]}: unknown top-level field (expected situation, name, description)")
    items = data.get("situation", [])
    if not isinstance(items, list):
        raise ScenarioError("scenario.situation: must be a list of situations")
    return Scenario(tuple(_situation(item, f"situation[{i}]", world) for i, item in enumerate(items, start=1)))


def load_scenario(path: str | Path, world: World) -> Scenario:
    """Read and validate a ``.toml`` or ``.json`` scenario file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        elif path.suffix.lower() == ".toml":
            data = tomllib.loads(text)
        else:
            raise ScenarioError(f"{path}: a scenario file ends in .toml or .json")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid {path.suffix[1:].upper()}: {exc}") from exc
    try:
        return parse_scenario(data, world)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc.detail}") from exc
