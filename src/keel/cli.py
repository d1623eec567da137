"""The ``keel`` command: mounts each context's commands plus serve, demo, db, worker and bench."""

from __future__ import annotations

import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from keel.access import COMMANDS
from keel.access.cli import tokens_app, users_app
from keel.bench.cli import app as bench_app
from keel.bootstrap import Keel
from keel.catalog.cli import app as catalog_app
from keel.channels.cli import app as channels_app
from keel.cli_support import DbOpt, cli_actor, guard_commands, open_keel, user_mistakes
from keel.fx.cli import app as fx_app
from keel.geo.cli import app as geo_app
from keel.inventory.cli import app as inventory_app
from keel.inventory.cli import locations_app
from keel.media.cli import app as media_app
from keel.orders.cli import app as orders_app
from keel.planning.cli import app as planning_app
from keel.platform import migrate
from keel.platform.actor import Actor, acting_as, current_actor
from keel.platform.config import LOCAL_HOSTS
from keel.pricing.cli import app as pricing_app
from keel.worker_cli import relay_cmd, worker_cmd

app = typer.Typer(help="Keel: unified commerce backbone.", no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")
app.add_typer(locations_app, name="locations")
app.add_typer(channels_app, name="channels")
app.add_typer(orders_app, name="orders")
app.add_typer(geo_app, name="geo")
app.add_typer(fx_app, name="fx")
app.add_typer(catalog_app, name="catalog")
app.add_typer(pricing_app, name="pricing")
app.add_typer(media_app, name="media")
app.add_typer(planning_app, name="planning")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(db_app, name="db")
app.add_typer(bench_app, name="bench")
console = Console(stderr=True)


@app.callback()
def _as_local_operator(ctx: typer.Context) -> None:
    """Every command acts as the local operator: the events it appends and its audit entry name them."""
    token = current_actor.set(cli_actor())
    # Restored when the command ends (after its audit entry is written), so an in-process caller of the CLI
    # (the tests) goes back to acting as itself.
    ctx.call_on_close(lambda: current_actor.reset(token))


@db_app.command("upgrade")
def db_upgrade(
    database_url: DbOpt = None,
    revision: Annotated[str, typer.Option(help="the schema revision to reach, e.g. 0007")] = "head",
) -> None:
    """Create the database's schema, or bring it up to date (to the latest revision unless --revision)."""
    keel = open_keel(database_url, create=True)
    migrate.upgrade(keel.db, revision)
    console.print(f"database at {revision}: {keel.db.url}")


OpenOpt = Annotated[bool, typer.Option("--open", help="no login, everyone acts as admin (127.0.0.1 only)")]


def _serve(keel: Keel, host: str, port: int, background: bool, workers: int = 1, open_mode: bool = False) -> None:
    import os

    import uvicorn

    from keel.api import create_app

    # create_app checks the configured host; the one given on the command line is checked here
    keel.settings = replace(keel.settings, host=host, auth_mode="open" if open_mode else keel.settings.auth_mode)
    if keel.settings.auth_mode == "open" and host not in LOCAL_HOSTS:
        console.print(f"[red]open mode is allowed only on 127.0.0.1, not on {host}[/red]")
        raise typer.Exit(2)
    if workers > 1:
        # Each process builds its own app from the environment; one projector runs beside them.
        os.environ["KEEL_DATABASE_URL"] = keel.db.url
        os.environ["KEEL_AUTH_MODE"] = keel.settings.auth_mode
        worker = None
        if background:
            import subprocess
            import sys

            worker = subprocess.Popen([sys.executable, "-m", "keel", "worker"])
        try:
            uvicorn.run(
                "keel.api:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="warning"
            )
        finally:
            if worker:
                worker.terminate()
        return
    uvicorn.run(create_app(keel, background=background), host=host, port=port, log_config=None, access_log=False)


@app.command()
def serve(
    database_url: DbOpt = None,
    host: Annotated[str | None, typer.Option(help="address to listen on (default: the host setting)")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default: the port setting, 8000)")] = None,
    worker: Annotated[bool, typer.Option(help="run the availability projector and expiry sweeper")] = True,
    workers: Annotated[int, typer.Option(min=1, max=32, help="HTTP server processes")] = 1,
    open_mode: OpenOpt = False,
) -> None:
    """Serve the API and control tower on an existing Keel database (brought up to date first)."""
    keel = open_keel(database_url, upgrade=True)
    host = host or keel.settings.host
    port = port or keel.settings.port
    console.print(f"Keel serving http://{host}:{port}  (API docs: /docs)")
    _serve(keel, host, port, worker, workers, open_mode)


@app.command()
def demo(
    database_url: DbOpt = None,
    seed: Annotated[int, typer.Option(help="the twin's random seed: the same seed makes the same retailer")] = 42,
    skus: Annotated[int, typer.Option(min=1, help="SKUs the twin's catalogue holds")] = 10_000,
    locations: Annotated[int, typer.Option(min=1, help="the twin's locations (stores, warehouses, 3PLs)")] = 300,
    channels: Annotated[int, typer.Option(min=1, help="the twin's sales channels")] = 50,
    port: Annotated[int | None, typer.Option(help="port to serve on (default: the port setting, 8000)")] = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="serve the demo once loaded")] = True,
    stream: Annotated[bool, typer.Option("--stream/--no-stream", help="run the twin's live stream")] = True,
    speed: Annotated[float, typer.Option(min=0.0, help="simulated hours per real second")] = 1.0,
    scenario: Annotated[str | None, typer.Option(help="a .toml or .json scenario file (docs/twin.md)")] = None,
    open_mode: OpenOpt = False,
) -> None:
    """Create the database if needed, load the retail twin (once), start its live stream and serve it."""
    from keel.sim.history import DAYS, PLANNED_COUNTRY, automate, backfill, import_erp
    from keel.sim.load import (
        has_catalog,
        has_media,
        has_prices,
        is_empty,
        load_catalog,
        load_media,
        load_pricing,
        load_world,
    )
    from keel.sim.scenario import Scenario, ScenarioError, load_scenario
    from keel.sim.world import Scale, generate

    keel = open_keel(database_url, create=True, upgrade=True)
    world = generate(seed, Scale(skus=skus, locations=locations, channels=channels))
    plan = Scenario()
    if scenario:
        try:
            plan = load_scenario(scenario, world)
        except ScenarioError as exc:
            console.print(f"[red]scenario: {exc.detail}[/red]")
            raise typer.Exit(2) from exc
    fresh = is_empty(keel)
    if fresh:
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)

            load_world(keel, world, report)
        with console.status("writing eight weeks of past sales for planning, and the ERP's eight before"):
            history = backfill(keel, world, PLANNED_COUNTRY)
            erp = import_erp(keel, world, PLANNED_COUNTRY)
            automate(keel, PLANNED_COUNTRY)  # the worker makes the first plan at once, then every 10 minutes
        console.print(
            f"past sales: {history:,} movements over {DAYS} days in {PLANNED_COUNTRY}, and {erp.rows:,} days"
            f" imported from the ERP before them (see /ui/planning)"
        )
    else:
        console.print("database already holds data; not reloading the twin")
        if not has_catalog(keel):  # loaded before the twin brought its catalogue
            with console.status("loading the twin's catalogue"):
                load_catalog(keel, world)
        if not has_prices(keel):  # loaded before the twin brought its prices
            with console.status("loading the twin's prices"):
                load_pricing(keel, world)
        if not has_media(keel):  # loaded before the twin advertised
            with console.status("loading the twin's ads"):
                load_media(keel, world)
    port = port or keel.settings.port
    _demo_admin(keel, f"http://{keel.settings.host}:{port}")
    if serve_after and stream:
        import time

        from keel.sim.markets import TwinMarkets
        from keel.sim.media_ads import TwinAds
        from keel.sim.stream import Stream

        # the marketplaces send their orders to this server's order webhook (a wildcard bind is reached locally)
        local = "127.0.0.1" if keel.settings.host in ("0.0.0.0", "::", "") else keel.settings.host
        twin_markets = TwinMarkets(keel, world, seed, keel_url=f"http://{local}:{port}")
        markets = twin_markets.start()
        # A per-run id prefix: a restarted demo on the same database must not replay known movement ids.
        # Captures get a fifth of the stream's time, not the bench's half: the demo serves its pages, the
        # projector and the README's commands from the same database and, for the pages, the same process.
        live = Stream(
            keel,
            world,
            seed=seed,
            scenario=plan,
            prefix=f"twin{int(time.time())}",
            capture_share=0.2,
            marketplace=twin_markets.intake,
        )
        if not fresh:
            live.resume()

        def play() -> None:
            # The twin plays the world's systems: its events name it, apart from people and integrations.
            with acting_as(Actor("twin", "retail twin", "automation")):
                live.run(threading.Event(), speed)

        ads = TwinAds(keel, world, seed)
        pointed = ads.start(live)  # before the stream plays: the lift and the spend follow what the ads show
        threading.Thread(target=play, name="twin-stream", daemon=True).start()
        console.print(
            f"live stream: {speed:g} simulated hours per second" + (f", scenario {scenario}" if scenario else "")
        )
        console.print(
            f"marketplace simulator: {len(markets)} marketplace channels synced both ways: stock out, orders in "
            "(see /ui/sync)"
        )
        console.print(
            f"ad platforms simulator: {pointed} ad accounts, {ads.setup.campaigns} campaigns; stock-outs pause their "
            "ads there; showing ads lift demand and spend (see /ui/media)"
        )
    if serve_after:
        console.print(f"Keel demo ready: http://{keel.settings.host}:{port}  (API docs: /docs)")
        _serve(keel, keel.settings.host, port, True, open_mode=open_mode)
    else:
        console.print(f"retail twin loaded into {keel.db.url}; serve it with `keel serve`")


ADMIN = "admin"
TOKEN_FILE = Path(".keel/admin-token")


def _demo_admin(keel: Keel, url: str) -> None:
    """The demo's admin: a person to log in as (a random password on first load) and an API token in
    ``.keel/admin-token`` (mode 0600) for the README's curl commands; a still valid token file is kept."""
    password = keel.access.ensure_admin(ADMIN)
    token = TOKEN_FILE.read_text().strip() if TOKEN_FILE.is_file() else ""
    if not token or keel.access.authenticate_token(token) is None:
        token = keel.access.create_token(ADMIN, "demo").secret
        TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
        TOKEN_FILE.touch(mode=0o600)
        TOKEN_FILE.chmod(0o600)  # touch keeps the mode of a file that exists already
        TOKEN_FILE.write_text(token + "\n")
    shown = password or "(unchanged; set a new one with `keel users password admin`)"
    console.print(
        f"[bold]log in:[/bold] {url}/ui/login  user [bold]{ADMIN}[/bold]  password [bold]{shown}[/bold]\n"
        f'[bold]API token:[/bold] {TOKEN_FILE}  (curl -H "Authorization: Bearer $(cat {TOKEN_FILE})" ...)',
        highlight=False,
    )


app.command("worker")(worker_cmd)
app.command("relay")(relay_cmd)
guard_commands(app, COMMANDS)  # last: every command above is registered


def main() -> None:
    try:
        with user_mistakes():  # a database lost mid-command, too, is one line and not a traceback
            app()
    except typer.Exit as exc:  # raised outside the app (while it closed): its status, without a traceback
        sys.exit(exc.exit_code)
