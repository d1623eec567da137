"""FX: exchange rates as data (per 1 EUR by day, imported from the ECB's reference-rate CSV) and conversion.

The public face: the service bootstrap builds, the rate table it hands out and the values around them.
"""

from keel.fx.model import (
    BASE,
    ImportReport,
    MissingRate,
    Rate,
    RateFilter,
    RateTable,
    minor_units,
    parse_ecb_csv,
    rate_text,
    round_to,
)
from keel.fx.service import RATES_IMPORTED, FxService

__all__ = [
    "BASE",
    "RATES_IMPORTED",
    "FxService",
    "ImportReport",
    "MissingRate",
    "Rate",
    "RateFilter",
    "RateTable",
    "minor_units",
    "parse_ecb_csv",
    "rate_text",
    "round_to",
]
