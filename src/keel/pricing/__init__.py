"""Pricing: money and tax as data, price lists, policies and the prices they give each channel (issue 14)."""

from keel.pricing.carts import CartView, PromotionService, PromotionView, Redeemed, Shelf
from keel.pricing.engine import PRICE_CHANGED, Market, Recomputed
from keel.pricing.model import STANDARD_RATES, Facts, Priced, PriceEntry, PriceList, Rule, Step, Taxed, TaxRate, wording
from keel.pricing.service import Explained, PolicyView, PriceListView, PriceView, PricingService, TaxRateView

__all__ = [
    "PRICE_CHANGED",
    "STANDARD_RATES",
    "CartView",
    "Explained",
    "Facts",
    "Market",
    "PolicyView",
    "PriceEntry",
    "PriceList",
    "PriceListView",
    "PriceView",
    "Priced",
    "PricingService",
    "PromotionService",
    "PromotionView",
    "Recomputed",
    "Redeemed",
    "Rule",
    "Shelf",
    "Step",
    "TaxRate",
    "TaxRateView",
    "Taxed",
    "wording",
]
