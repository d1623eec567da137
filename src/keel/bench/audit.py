"""``keel bench audit``: what the audit log adds to every write, measured against the write itself.

In one process on one fresh database (SQLite by default): the smallest real write (one ``received``
movement through ``StockService.apply_batch``, its own transaction and event) ``n`` times as the baseline;
one audit entry (``AuditService.record``, its own transaction) ``n`` times; the same one-movement write as
an HTTP request through the app (``POST /inventory/movements``, which records its entry before answering)
``n`` times; then a filtered page of 100 entries and a CSV export of all of them, read back.
``overhead_ratio`` is an entry's cost over the bare write's: the share the audit adds to a write request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rich.console import Console
from rich.progress import track
from starlette.testclient import TestClient

from keel.access import Role
from keel.api import create_app
from keel.audit import NewAuditEntry
from keel.bench.inventory import bench_database
from keel.bootstrap import bootstrap
from keel.platform import migrate
from keel.platform.config import load_settings
from keel.sim.load import load_world
from keel.sim.world import Scale, generate

console = Console(stderr=True)


def _timed(label: str, n: int, call: Callable[[int], object]) -> float:
    """Milliseconds per call over ``n`` calls."""
    start = time.perf_counter()
    for i in track(range(n), description=label, console=console, transient=True):
        call(i)
    return 1000 * (time.perf_counter() - start) / n


def run(database_url: str | None, *, json_out: bool, n: int) -> dict[str, Any]:
    with bench_database(database_url) as url:
        # The bench's own database (not an operator's write to audit); no rate limit in the way of its requests.
        keel = bootstrap(replace(load_settings(), rate_limit_per_s=0), database_url=url)
        migrate.upgrade(keel.db)
        try:
            world = generate(42, Scale(skus=200, locations=30, channels=5))
            load_world(keel, world, catalog=False)  # stock and orders: the catalog is not measured
            sku, location = world.opening_stock[0]["sku"], world.opening_stock[0]["location"]

            def movement(prefix: str, i: int) -> list[dict[str, Any]]:
                return [{"id": f"{prefix}-{i}", "kind": "received", "sku": sku, "location": location, "quantity": 1}]

            write_ms = _timed("bare writes", n, lambda i: keel.stock.apply_batch(movement("w", i)))
            entry = NewAuditEntry("bench", "bench", "api", "127.0.0.1", "post_movements", "POST", "/x", 200, "r")
            audit_ms = _timed("audit entries", n, lambda i: keel.audit.record(entry))
            # an admin service account's token (writes and reads of the audit log)
            keel.access.add_service("bench-admin", Role.ADMIN)
            token = keel.access.create_token("bench-admin", "bench").secret
            with TestClient(create_app(keel), headers={"Authorization": f"Bearer {token}"}) as client:
                http_ms = _timed("HTTP writes", n, lambda i: client.post("/inventory/movements", json=movement("h", i)))
                start = time.perf_counter()
                page = client.get("/audit", params={"failed": "false", "limit": 100}).json()
                page_ms = 1000 * (time.perf_counter() - start)
                start = time.perf_counter()
                exported = client.get("/audit/export.csv").text.count("\n") - 1
                export_ms = 1000 * (time.perf_counter() - start)
        finally:
            keel.close()
    figures = {
        "database": url.split(":", 1)[0],
        "n": n,
        "write_ms": round(write_ms, 3),
        "audit_entry_ms": round(audit_ms, 3),
        "overhead_ratio": round(audit_ms / write_ms, 3),
        "http_write_ms": round(http_ms, 3),
        "page_of_100_ms": round(page_ms, 1),
        "export_rows": exported,
        "export_ms": round(export_ms, 1),
    }
    if len(page["items"]) != min(100, 2 * n) or exported != 2 * n:  # n bare entries + n from the HTTP writes
        raise RuntimeError(f"the audit log holds other than what was written: {exported} rows exported")
    console.print(
        f"a one-movement write {write_ms:.2f} ms; an audit entry {audit_ms:.2f} ms ({figures['overhead_ratio']:.0%} "
        f"of the write); an HTTP write with its entry {http_ms:.2f} ms; page of 100 {page_ms:.1f} ms; "
        f"export of {exported} rows {export_ms:.1f} ms"
    )
    if json_out:
        print(json.dumps(figures))
    return figures
