"""Settings read from the environment and an optional TOML file.

Precedence: environment variable > TOML file (``KEEL_CONFIG`` or ``./keel.toml``) > default.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from keel.platform.errors import ConfigError
from keel.platform.geo import CURRENCIES

SOURCES = ("database", "nats")  # where consumers read the event log (keel.platform.sources)

DEFAULT_DATABASE_URL = "sqlite:///.keel/keel.db"
AUTH_MODES = ("required", "open")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    # Largest accepted movement batch (one HTTP request or one import chunk).
    max_batch: int = 10_000
    # Largest accepted request body on every route, checked while it arrives so an oversized upload is
    # refused before it is buffered. max_batch movements of up to ~1.6 KB each (a typical one is a few
    # hundred bytes) fit: 10,000 x 1.6 KB -> 16 MiB. Raise it together with max_batch.
    max_body_bytes: int = 16 * 1024 * 1024
    # Deepest accepted nesting of arrays and objects in a JSON body (Keel's own documents need under 10).
    max_json_depth: int = 32
    # Host names (comma-separated, without port) the server answers for; "*" allows any. The host of
    # public_url is always allowed. "testserver" is the name test clients send.
    allowed_hosts: str = "127.0.0.1,localhost,::1,testserver"
    # The URL clients reach Keel at (https://keel.example.com behind a TLS proxy); empty: pages use
    # relative URLs only. Also the origin cross-site checks compare against; an https one marks the session
    # cookie Secure.
    public_url: str = ""
    # Origins (comma-separated, e.g. https://shop.example.com) allowed to call the API from a browser
    # through CORS; empty: no CORS at all.
    cors_origins: str = ""
    # A counted position is "accurate" when |variance| <= tolerance_pct % of the book quantity.
    count_tolerance_pct: float = 2.0
    # How often the worker releases expired reservations, and how long it sleeps when the log is drained.
    sweep_interval_s: float = 1.0
    worker_interval_s: float = 0.05
    # How often, at most, the worker sources backordered order lines after stock has moved.
    backorder_interval_s: float = 5.0
    # How often, at most, the worker reprices SKUs whose stock moved across a stock rule's threshold.
    pricing_stock_interval_s: float = 5.0
    pricing_windows_interval_s: float = 60.0  # a price list's window reaches its prices within this
    # How often the worker looks for values owed to channels (docs/sync.md), and how many channels it pushes
    # to at once.
    sync_interval_s: float = 0.2
    sync_threads: int = 8
    # How long a worker holds a channel without renewing it: after a crash, another worker takes the channel
    # over within this time.
    sync_lease_s: float = 30.0
    # How often the worker reads back the channels it owns to find and correct drift (docs/sync.md).
    sync_drift_interval_s: float = 300.0
    # How often the worker downloads new orders from channels whose connector offers them (docs/sync.md).
    sync_orders_interval_s: float = 10.0
    # How often the worker books the stock marketplaces hold for their channels (marketplace-fulfilled).
    sync_fulfilled_interval_s: float = 300.0
    # Media (docs/media.md): how often the worker looks for ad changes owed to platforms, runs every rule over
    # every ad and campaign (schedule rules, budget shifts, boosts), and reads platforms back for drift.
    media_send_interval_s: float = 0.2
    media_rules_interval_s: float = 60.0
    media_drift_interval_s: float = 600.0
    planning_automation_interval_s: float = 60.0  # how often the worker looks for a due automation rule
    # A Dask scheduler's address (tcp://host:8786): planning runs fit their forecast models on its workers
    # (docs/planning.md, "On a cluster"); empty: in the process that plans.
    forecast_scheduler: str = ""
    media_threads: int = 8
    # How long a request to an ad platform may take before it counts as failed (it is sent again: the same
    # state, harmless), and the base of the backoff before a failed change is sent again.
    media_timeout_s: float = 3.0
    media_backoff_s: float = 0.25
    # Access (docs/access.md). "required": every non-public route needs credentials; "open": anonymous
    # callers act as the local operator (admin), allowed only on 127.0.0.1, for a local demo.
    auth_mode: str = "required"
    session_hours: float = 12.0
    # Requests per second per API token on average, and the burst allowed above it (0: no limit).
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 500
    # Failed web logins allowed per minute, per user name and per client address, after a first burst
    # (guessing passwords online must be slow; 0: no limit).
    login_failures_per_minute: float = 5.0
    login_failure_burst: int = 10
    # The currency the control tower reports revenue in (ISO 4217); each order converts at its day's rate
    # (keel fx import, docs/api.md "Exchange rates").
    reporting_currency: str = "EUR"
    # Beyond one machine (docs/operations.md): `keel relay` publishes the event log to this NATS JetStream
    # stream; consumers read it there when event_source is "nats", from the database when "database".
    event_source: str = "database"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "KEEL_EVENTS"
    # Event type T is published on <nats_subjects>.T (e.g. keel.events.stock.moved); the stream holds
    # <nats_subjects>.>, so two installations sharing one NATS server need different prefixes.
    nats_subjects: str = "keel.events"
    # The stream's retention (set when the relay creates it): messages older than this are dropped (a
    # consumer that falls further behind reads the gap from the database), and the window in which
    # JetStream drops a re-published event by its Nats-Msg-Id.
    nats_max_age_s: float = 7 * 86400.0
    nats_duplicate_window_s: float = 120.0


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot read {raw!r} as {type(default).__name__}") from exc
    return str(raw)


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from ``env`` (default ``os.environ``) and the TOML file, validating every value."""
    env = dict(os.environ) if env is None else env
    path = config_file or Path(env.get("KEEL_CONFIG", "keel.toml"))
    file_values: dict[str, Any] = {}
    if path.is_file():
        try:
            file_values = tomllib.loads(path.read_text()).get("keel", {})
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(file_values) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, field in known.items():
        default = field.default
        raw = env.get(f"KEEL_{name.upper()}", file_values.get(name))
        if raw is not None:
            values[name] = _coerce(name, raw, default)
    if "reporting_currency" in values:
        values["reporting_currency"] = str(values["reporting_currency"]).strip().upper()
    settings = Settings(**values)
    if settings.max_batch < 1:
        raise ConfigError("setting 'max_batch' must be >= 1")
    if settings.max_body_bytes < 1:
        raise ConfigError("setting 'max_body_bytes' must be >= 1")
    if settings.max_json_depth < 2:
        raise ConfigError("setting 'max_json_depth' must be >= 2")
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        raise ConfigError("setting 'public_url' must start with http:// or https://")
    if settings.reporting_currency not in CURRENCIES:
        raise ConfigError(f"setting 'reporting_currency' must be an ISO 4217 code, not {settings.reporting_currency!r}")
    if settings.auth_mode not in AUTH_MODES:
        raise ConfigError(f"setting 'auth_mode' must be one of {', '.join(AUTH_MODES)}")
    check_bus(settings)
    return settings


_STREAM_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBJECTS_RE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


def check_bus(settings: Settings) -> None:
    """Refuse event-bus settings NATS would refuse later, at start-up and with the setting's name."""
    if settings.event_source not in SOURCES:
        raise ConfigError(f"setting 'event_source' must be one of {', '.join(SOURCES)}")
    if not settings.nats_url.startswith(("nats://", "tls://")):
        raise ConfigError("setting 'nats_url' must start with nats:// or tls://")
    if not _STREAM_RE.match(settings.nats_stream):
        raise ConfigError("setting 'nats_stream' must be 1-64 letters, digits, '_' or '-'")
    if len(settings.nats_subjects) > 100 or not _SUBJECTS_RE.match(settings.nats_subjects):
        raise ConfigError("setting 'nats_subjects' must be dot-separated tokens of letters, digits, '_' or '-'")
    if settings.nats_max_age_s <= 0 or not 0 < settings.nats_duplicate_window_s <= settings.nats_max_age_s:
        raise ConfigError("settings 'nats_max_age_s' and 'nats_duplicate_window_s' must satisfy 0 < window <= age")


def split_list(raw: str) -> tuple[str, ...]:
    """A comma-separated setting as its non-empty, trimmed items."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())
