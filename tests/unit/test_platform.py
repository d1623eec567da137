"""Settings (keel.platform.config.load_settings) and the error tree (keel.platform.errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.platform.config import DEFAULT_DATABASE_URL, Settings, load_settings
from keel.platform.errors import (
    ConfigError,
    Conflict,
    FieldError,
    InsufficientStock,
    KeelError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    single_field,
)


@pytest.fixture(autouse=True)
def _no_local_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty directory so a developer's ./keel.toml never leaks in."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_defaults_without_env_or_file() -> None:
    assert load_settings({}) == Settings()
    assert Settings().database_url == DEFAULT_DATABASE_URL


def test_env_values_are_coerced_to_the_setting_types() -> None:
    env = {
        "KEEL_DATABASE_URL": "postgresql://db/keel",
        "KEEL_PORT": "9001",
        "KEEL_LOG_JSON": "off",
        "KEEL_MAX_BATCH": "50",
        "KEEL_COUNT_TOLERANCE_PCT": "1.5",
        "UNRELATED": "ignored",
    }
    settings = load_settings(env)
    assert (settings.database_url, settings.port, settings.log_json) == ("postgresql://db/keel", 9001, False)
    assert (settings.max_batch, settings.count_tolerance_pct) == (50, 1.5)


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), ("yes", True), ("on", True),
                                            ("0", False), ("no", False), ("", False)])  # fmt: skip
def test_boolean_spellings(raw: str, value: bool) -> None:
    assert load_settings({"KEEL_LOG_JSON": raw}).log_json is value


def test_toml_file_values(tmp_path: Path) -> None:
    path = write(tmp_path / "custom.toml", '[keel]\nport = 7000\nhost = "0.0.0.0"\nlog_json = false\n')
    settings = load_settings({}, path)
    assert (settings.port, settings.host, settings.log_json) == (7000, "0.0.0.0", False)


def test_env_overrides_the_file_and_keel_config_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "other.toml", "[keel]\nport = 7000\nmax_batch = 20\n")
    settings = load_settings({"KEEL_CONFIG": str(path), "KEEL_PORT": "7100"})
    assert (settings.port, settings.max_batch) == (7100, 20)


def test_keel_toml_in_the_working_directory_is_read(tmp_path: Path) -> None:
    write(tmp_path / "keel.toml", "[keel]\nsweep_interval_s = 2.5\n")
    assert load_settings({}).sweep_interval_s == 2.5


def test_other_toml_tables_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "k.toml", "[tool]\nport = 1\n")
    assert load_settings({}, path) == Settings()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KEEL_PORT": "eighty"}, "setting 'port': cannot read 'eighty' as int"),
        ({"KEEL_COUNT_TOLERANCE_PCT": "two"}, "setting 'count_tolerance_pct': cannot read 'two' as float"),
        ({"KEEL_MAX_BATCH": "0"}, "setting 'max_batch' must be >= 1"),
        ({"KEEL_MAX_BATCH": "-5"}, "setting 'max_batch' must be >= 1"),
        ({"KEEL_MAX_BODY_BYTES": "0"}, "setting 'max_body_bytes' must be >= 1"),
        ({"KEEL_REPORTING_CURRENCY": "EURO"}, "setting 'reporting_currency' must be an ISO 4217 code, not 'EURO'"),
        ({"KEEL_EVENT_SOURCE": "kafka"}, "setting 'event_source' must be one of database, nats"),
        ({"KEEL_NATS_URL": "http://127.0.0.1:4222"}, "setting 'nats_url' must start with nats:// or tls://"),
        ({"KEEL_NATS_STREAM": "KEEL.EVENTS"}, "setting 'nats_stream' must be 1-64 letters, digits, '_' or '-'"),
        (
            {"KEEL_NATS_SUBJECTS": "keel.>"},
            "setting 'nats_subjects' must be dot-separated tokens of letters, digits, '_' or '-'",
        ),
        (
            {"KEEL_NATS_SUBJECTS": "keel..events"},
            "setting 'nats_subjects' must be dot-separated tokens of letters, digits, '_' or '-'",
        ),
        (
            {"KEEL_NATS_DUPLICATE_WINDOW_S": "600", "KEEL_NATS_MAX_AGE_S": "60"},
            "settings 'nats_max_age_s' and 'nats_duplicate_window_s' must satisfy 0 < window <= age",
        ),
    ],
)
def test_bad_env_values_raise_config_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert info.value.detail == message


def test_reporting_currency_defaults_to_eur_and_is_read_in_any_case() -> None:
    assert Settings().reporting_currency == "EUR"
    assert load_settings({"KEEL_REPORTING_CURRENCY": " usd "}).reporting_currency == "USD"


def test_the_event_bus_settings_default_to_the_database_log_and_a_local_nats() -> None:
    settings = load_settings({})
    assert (settings.event_source, settings.nats_url, settings.nats_stream, settings.nats_subjects) == (
        "database", "nats://127.0.0.1:4222", "KEEL_EVENTS", "keel.events",
    )  # fmt: skip
    nats = load_settings({"KEEL_EVENT_SOURCE": "nats", "KEEL_NATS_URL": "tls://bus.example:4222"})
    assert (nats.event_source, nats.nats_url) == ("nats", "tls://bus.example:4222")


def test_unknown_file_settings_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "k.toml", "[keel]\nprot = 1\nzzz = 2\nport = 3\n")
    with pytest.raises(ConfigError) as info:
        load_settings({}, path)
    assert info.value.detail == f"{path}: unknown settings prot, zzz"


def test_malformed_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "k.toml", "[keel\nport = \n")
    with pytest.raises(ConfigError) as info:
        load_settings({}, path)
    assert info.value.detail.startswith(f"{path}: ")


def test_wrongly_typed_file_value_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "k.toml", '[keel]\nmax_batch = "lots"\n')
    with pytest.raises(ConfigError, match=r"setting 'max_batch': cannot read 'lots' as int"):
        load_settings({}, path)


# -- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("cls", "status", "slug", "parents"),
    [
        (KeelError, 500, "internal", ()),
        (ConfigError, 500, "config", (KeelError,)),
        (NotFound, 404, "not-found", (KeelError,)),
        (Conflict, 409, "conflict", (KeelError,)),
        (InsufficientStock, 409, "insufficient-stock", (Conflict, KeelError)),
        (PayloadTooLarge, 413, "payload-too-large", (KeelError,)),
    ],
)
def test_error_tree_and_problem_shape(cls: type[KeelError], status: int, slug: str, parents: tuple[type, ...]) -> None:
    error = cls("something happened", extra_field=3)
    assert all(isinstance(error, p) for p in parents)
    assert error.problem() == {
        "type": f"https://keel.dev/problems/{slug}",
        "title": cls.title,
        "status": status,
        "detail": "something happened",
        "extra_field": 3,
    }
    assert str(error) == "something happened"


def test_validation_failed_carries_row_level_errors() -> None:
    errors = [FieldError(2, "quantity", "must be > 0, got 0"), FieldError(None, "sku", "bad")]
    error = ValidationFailed("2 rows refused", errors)
    assert error.status == 422
    assert error.errors == errors
    assert error.problem() == {
        "type": "https://keel.dev/problems/validation",
        "title": "Validation failed",
        "status": 422,
        "detail": "2 rows refused",
        "errors": [
            {"row": 2, "field": "quantity", "reason": "must be > 0, got 0"},
            {"row": None, "field": "sku", "reason": "bad"},
        ],
    }


def test_single_field() -> None:
    error = single_field("quantity", "must be > 0")
    assert (error.detail, error.errors) == ("quantity: must be > 0", [FieldError(None, "quantity", "must be > 0")])
