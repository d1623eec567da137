"""The pricing engine's domain: tax as data, price lists and how one is chosen, and the policy rules that turn a
base price into the price a channel shows (``tax``, ``lists``, ``rules``)."""

from keel.pricing.model.lists import PriceEntry, PriceList, parse_currency, parse_entries, pick, ranked
from keel.pricing.model.rules import DEFAULT_ENDINGS, Facts, Priced, Rule, Step, parse_rules, price
from keel.pricing.model.tax import STANDARD, STANDARD_RATES, Taxed, TaxRate, inclusive, rate_of, stated_from_net, tax

__all__ = [
    "DEFAULT_ENDINGS",
    "STANDARD",
    "STANDARD_RATES",
    "Facts",
    "PriceEntry",
    "PriceList",
    "Priced",
    "Rule",
    "Step",
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
    "tax",
]
