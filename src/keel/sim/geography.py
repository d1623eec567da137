"""21 countries with real cities (name, region, latitude, longitude) and their currencies."""

from __future__ import annotations

from keel.geo import CITIES

# The cities are the geo context's reference table; the twin adds each country's currency.
CURRENCY = {
    "DE": "EUR", "FR": "EUR", "GB": "GBP", "IT": "EUR", "ES": "EUR", "NL": "EUR", "BE": "EUR", "AT": "EUR",
    "CH": "CHF", "PL": "PLN", "SE": "SEK", "DK": "DKK", "NO": "NOK", "FI": "EUR", "IE": "EUR", "PT": "EUR",
    "CZ": "CZK", "US": "USD", "CA": "CAD", "AU": "AUD", "JP": "JPY",
}  # fmt: skip
COUNTRIES: dict[str, tuple[str, list[tuple[str, str, float, float]]]] = {
    country: (currency, list(CITIES[country])) for country, currency in CURRENCY.items()
}

# Relative size of each market: drives the number of stores and demand.
WEIGHT = {
    "DE": 3.0,
    "FR": 2.5,
    "GB": 2.5,
    "US": 3.0,
    "IT": 2.0,
    "ES": 2.0,
    "NL": 1.2,
    "PL": 1.2,
    "JP": 1.5,
    "CA": 1.0,
    "AU": 1.0,
    "BE": 0.8,
    "AT": 0.7,
    "CH": 0.7,
    "SE": 0.8,
    "DK": 0.5,
    "NO": 0.5,
    "FI": 0.5,
    "IE": 0.5,
    "PT": 0.6,
    "CZ": 0.6,
}
