"""The fixtures themselves: fresh migrated databases, the world, the HTTP client and the live server."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from starlette.testclient import TestClient

from keel.bootstrap import Keel
from keel.inventory import LocationGroup
from tests.conftest import LiveServer
from tests.support import CHANNELS, LOCATIONS, World, last_seq, snapshot


def test_keel_starts_on_an_empty_migrated_database(keel: Keel) -> None:
    # given a fresh database / when it is inspected / then every table exists and is empty
    with keel.db.read() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"events", "movements", "positions", "locations", "channels", "alembic_version"} <= tables
    assert all(rows == [] for rows in snapshot(keel).values())


def test_world_creates_locations_group_and_channels(keel: Keel, world: World) -> None:
    assert [loc.code for loc in keel.locations.list()[0]] == sorted(world.locations)
    assert keel.locations.groups() == [LocationGroup(world.group, "Fulfilment EU", ("WH-DE-1", "WH-FR-1"))]
    assert [c.code for c in keel.channels.list()[0]] == sorted(world.channels)
    assert len(LOCATIONS) == 5 and len(CHANNELS) == 3
    with keel.db.read() as conn:
        assert keel.events.offset(conn, "availability") == last_seq(keel)


def test_client_serves_the_app_on_the_same_database(keel: Keel, client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == keel.db.dialect


def test_live_server_answers_over_a_real_socket(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/healthz", timeout=10)
    assert live_server.url.startswith("http://127.0.0.1:")
    assert response.status_code == 200
    assert response.json()["database"] == "sqlite"
