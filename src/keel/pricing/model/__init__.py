"""The pricing engine's domain: tax as data, price lists and how one is chosen, and the policy rules that turn a
base price into the price a channel shows (``tax``, ``lists``, ``rules``), with the market signals some rules
read (``signals``: competitor prices, days of cover)."""

from keel.pricing.model.lists import PriceEntry, PriceList, parse_currency, parse_entries, pick, ranked
from keel.pricing.model.rules import (
    DEFAULT_ENDINGS,
    Facts,
    Priced,
    Rule,
    Step,
    parse_rules,
    price,
    stock_state,
    stock_thresholds,
)
from keel.pricing.model.signals import RUN_RATE_DAYS, Observed, Stock
from keel.pricing.model.tax import STANDARD, STANDARD_RATES, Taxed, TaxRate, inclusive, rate_of, stated_from_net, tax

__all__ = [
    "DEFAULT_ENDINGS",
    "RUN_RATE_DAYS",
    "STANDARD",
    "STANDARD_RATES",
    "Facts",
    "Observed",
    "PriceEntry",
    "PriceList",
    "Priced",
    "Rule",
    "Step",
    "Stock",
    "TaxRate",
    "Taxed",
    "inclusive",
    "parse_currency",
    "parse_entries",
    "parse_rules",
    "pick",
    "price",
    "ranked",
    "rate_of",
    "stated_from_net",
    "stock_state",
    "stock_thresholds",
    "tax",
]
