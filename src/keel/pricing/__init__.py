"""Pricing: money and tax as data, price lists, policies and the prices they give each channel (issue 14)."""

from keel.pricing.announce import PRICE_CHANGED
from keel.pricing.carts import CartView, PromotionService, PromotionView, Redeemed, Shelf
from keel.pricing.competitors import CompetitorPrices, CompetitorPricesSaved
from keel.pricing.consumers import StockRepricer, windows_job
from keel.pricing.engine import Market, Recomputed
from keel.pricing.model import (
    RUN_RATE_DAYS,
    STANDARD_RATES,
    Facts,
    Observed,
    Priced,
    PriceEntry,
    PriceList,
    Rule,
    Step,
    Stock,
    Taxed,
    TaxRate,
    wording,
)
from keel.pricing.model.documents import CompetitorPrice
from keel.pricing.service import PricingService
from keel.pricing.views import Explained, PolicyView, PriceListView, PriceView, TaxRateView

__all__ = [
    "PRICE_CHANGED",
    "RUN_RATE_DAYS",
    "STANDARD_RATES",
    "CartView",
    "CompetitorPrice",
    "CompetitorPrices",
    "CompetitorPricesSaved",
    "Explained",
    "Facts",
    "Market",
    "Observed",
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
    "Stock",
    "StockRepricer",
    "TaxRate",
    "TaxRateView",
    "Taxed",
    "windows_job",
    "wording",
]
