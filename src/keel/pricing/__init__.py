"""Pricing: money and tax as data, price lists, policies and the prices they give each channel (issue 14)."""

from keel.pricing.model import Facts, PriceEntry, PriceList, Priced, Rule, Step, TaxRate, Taxed

__all__ = ["Facts", "PriceEntry", "PriceList", "Priced", "Rule", "Step", "TaxRate", "Taxed"]
