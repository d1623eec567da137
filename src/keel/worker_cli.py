"""The commands of Keel's background processes: ``keel worker`` (the consumers, reading the event log from
the database or from NATS JetStream) and ``keel relay`` (the outbox relay to JetStream). ``keel.cli`` mounts them."""

from __future__ import annotations

import signal
import threading
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console

from keel.cli_support import DbOpt, open_keel, refuse
from keel.platform.config import SOURCES

console = Console(stderr=True)


Source = StrEnum("Source", {name.upper(): name for name in SOURCES})  # type: ignore[misc]
SourceOpt = Annotated[
    Source | None,
    typer.Option(
        "--source",
        help="where consumers read the event log: the database, or the JetStream stream keel relay fills "
        "(default: the event_source setting)",
    ),
]
NatsOpt = Annotated[str | None, typer.Option("--nats-url", help="the NATS server (default: the nats_url setting)")]
StreamOpt = Annotated[str | None, typer.Option("--stream", help="the JetStream stream (default: nats_stream)")]


def _bus_overrides(**options: str | None) -> dict[str, str]:
    return {name: value for name, value in options.items() if value is not None}


def worker_cmd(
    database_url: DbOpt = None,
    once: Annotated[bool, typer.Option(help="drain the log once and exit")] = False,
    source: SourceOpt = None,
    nats_url: NatsOpt = None,
    stream: StreamOpt = None,
    only: Annotated[
        str | None,
        typer.Option(help="comma-separated consumers and jobs to run here (default: all), e.g. availability"),
    ] = None,
    rebuild_tower: Annotated[
        bool,
        typer.Option(
            "--rebuild-tower",
            help="first empty the control tower's projections and rebuild them (positions, then the whole log)",
        ),
    ] = False,
) -> None:
    """Run the availability projector, backorder filler, control tower projector and reservation sweeper in
    this process; with --source nats they read the event log from JetStream, so this process may run on
    another machine."""
    from keel.platform.config import split_list
    from keel.worker import run_forever, run_once

    overrides = _bus_overrides(event_source=source and source.value, nats_url=nats_url, nats_stream=stream)
    keel = open_keel(database_url, upgrade=True, settings_overrides=overrides)
    if only is not None:
        try:
            keel.consumers = keel.consumers.only(set(split_list(only)))
        except KeyError as exc:
            known = ", ".join(keel.consumers.names())
            raise refuse(f"--only: no consumer or job named {exc.args[0]} (known: {known})") from exc
    from keel.platform.bus import BusError, JetStreamSource

    try:
        if isinstance(keel.source, JetStreamSource):
            keel.source.connect()  # a clear refusal now rather than a retried error in the loop
        if rebuild_tower:
            console.print(f"control tower rebuilt: {keel.insights.projector.rebuild()} events replayed")
        if once:
            console.print(f"consumed {run_once(keel)} events")
            return
    except BusError as exc:
        raise refuse(str(exc)) from exc
    stop, ready = threading.Event(), threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: ready.wait() and print("worker ready", flush=True), daemon=True).start()
    try:
        run_forever(keel, stop, ready)
    except KeyboardInterrupt:
        stop.set()


def relay_cmd(
    database_url: DbOpt = None,
    nats_url: NatsOpt = None,
    stream: StreamOpt = None,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="events read and published per round")] = 1000,
    once: Annotated[bool, typer.Option(help="publish what the log holds, then exit")] = False,
) -> None:
    """Publish the event log to NATS JetStream, in order and exactly once per event (the outbox relay);
    progress on stderr, stops cleanly on SIGINT/SIGTERM."""
    import asyncio

    from keel.platform.bus import BusConfig, BusError, Relay, RelayProgress

    keel = open_keel(
        database_url, upgrade=True, settings_overrides=_bus_overrides(nats_url=nats_url, nats_stream=stream)
    )
    bus = BusConfig.from_settings(keel.settings)

    def report(p: RelayProgress) -> None:
        console.print(
            f"relayed {p.published:,} events: stream {bus.stream} holds up to event {p.upto:,} "
            f"(stream sequence {p.stream_seq:,}), {p.per_s:,.0f} events/s, {p.behind:,} behind",
            highlight=False,
        )

    relay = Relay(keel.db, keel.events, bus, batch=batch, report=report)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"relay: {keel.db.dialect} event log -> {bus.url} stream {bus.stream} ({bus.wildcard})")
        return await relay.run(stop, until_caught_up=once)

    try:
        published = asyncio.run(main())
    except BusError as exc:
        raise refuse(str(exc)) from exc
    console.print(f"relay stopped: {published:,} events published by this run")
