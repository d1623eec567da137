"""The cart part of ``keel bench pricing``: ``promotions`` live promotions of every kind over the bench's
channels and SKUs, then carts of ``lines`` lines evaluated one after the other through the service
(``PromotionService.evaluate``: the published prices read, the shortlisted promotions, codes and counters
read, the evaluation). The baseline, in the same run: the same carts with no promotion stored (what reading
and taxing the lines alone costs)."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from keel.platform.money import exponent

KINDS = ("percent_off", "amount_off", "buy_x_get_y", "bundle", "tiered_spend", "shipping")


def promotion(i: int, rng: random.Random, channels: list[tuple[str, str]], skus: list[str]) -> dict[str, Any]:
    """One promotion of a realistic mix: most name a few SKUs (a product's campaign), some a channel's whole
    range, a few are coupons, exclusive, grouped, budgeted."""
    channel, currency = rng.choice(channels)
    kind = KINDS[i % len(KINDS)]
    unit = 100 if exponent(currency) == 0 else 1  # amounts of about the same worth in yen as in euros
    scope: dict[str, Any] = {"channels": [channel]}
    if rng.random() < 0.9:
        scope["skus"] = rng.sample(skus, rng.randint(1, 30))
    doc: dict[str, Any] = {"name": f"Bench {i}", "scope": scope, "currency": currency, "priority": rng.randint(0, 9)}
    if kind == "percent_off":
        doc |= {"kind": kind, "percent": rng.choice(["0.05", "0.10", "0.15", "0.20"])}
    elif kind == "amount_off":
        doc |= {"kind": kind, "amount": str(unit), "target": rng.choice(["items", "order"])}
    elif kind == "buy_x_get_y":
        doc |= {"kind": kind, "buy": 2, "get": 1, "max_applications": 3}
    elif kind == "bundle":
        doc |= {"kind": kind, "items": [{"sku": s} for s in rng.sample(skus, 2)], "amount": str(10 * unit)}
        scope.pop("skus", None)
    elif kind == "tiered_spend":
        tiers = [{"spend": str(50 * unit), "amount": str(5 * unit)}, {"spend": str(100 * unit), "percent": "0.10"}]
        doc |= {"kind": kind, "tiers": tiers}
    else:
        doc |= {"kind": "percent_off", "target": "shipping", "percent": "1", "min_subtotal": str(40 * unit)}
    doc["group"] = rng.choice([None, None, "seasonal", "clearance"])
    if rng.random() < 0.05 and i < 2000:  # exclusive ones at priorities of their own: a tie would be refused
        doc |= {"exclusive": "class", "priority": i - 1000}
    if rng.random() < 0.05:
        doc["budget"] = str(5000 * unit)
    return doc


def cart_latencies(
    keel: Any, rng: random.Random, channels: list[tuple[str, str]], skus: list[str], lines: int, carts: int
) -> list[float]:
    """Milliseconds per evaluation of ``carts`` random carts of ``lines`` lines."""
    found, _ = keel.channels.list(active=True, limit=1_000_000)
    countries = {c.code: c.countries for c in found}
    out: list[float] = []
    for _ in range(carts):
        channel, currency = rng.choice(channels)
        document = {
            "channel": channel,
            "country": rng.choice(countries[channel]),
            "lines": [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(skus, lines)],
            "shipping": "500" if exponent(currency) == 0 else "4.95",
        }
        started = time.perf_counter()
        keel.promotions.evaluate(document)
        out.append((time.perf_counter() - started) * 1000)
    return out


def cart_figures(
    keel: Any,
    rng: random.Random,
    channels: list[tuple[str, str]],
    skus: list[str],
    promotions: int,
    lines: int,
    carts: int,
) -> dict[str, Any]:
    seed = rng.random()
    baseline = cart_latencies(keel, random.Random(seed), channels, skus, lines, carts)
    for i in range(promotions):
        keel.promotions.save(f"bench-{i:05d}", promotion(i, rng, channels, skus))
    timed = cart_latencies(keel, random.Random(seed), channels, skus, lines, carts)
    live = keel.promotions.promotions(status="live", limit=1)[1]
    return {
        "promotions_active": live,
        "cart_lines": lines,
        "carts": carts,
        "cart_p50_ms": round(statistics.median(timed), 2),
        "cart_p99_ms": round(_p99(timed), 2),
        "cart_p50_ms_no_promotions": round(statistics.median(baseline), 2),
        "cart_p99_ms_no_promotions": round(_p99(baseline), 2),
    }


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
