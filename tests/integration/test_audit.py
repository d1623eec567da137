"""The audit log on both databases: every write request is recorded with its actor, path, address, action and
outcome, linked to the events it appended; reads are not recorded; the log is append-only, filterable and
exportable."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from starlette.testclient import TestClient

from keel.audit import AuditQuery
from keel.bootstrap import Keel
from keel.platform.actor import Actor, acting_as
from keel.platform.events import NewEvent
from keel.worker import run_once
from tests.support import WH_DE, World, mv, receive


def entries(keel: Keel, **filters: object) -> list[tuple[object, ...]]:
    page = keel.audit.entries(AuditQuery(**filters))  # type: ignore[arg-type]
    return [(e.via, e.method, e.action, e.target, e.status, e.address) for e in page.items]


def test_a_write_request_is_recorded_and_linked_to_the_events_it_appended(
    keel: Keel, world: World, client: TestClient
) -> None:
    # when a client posts a movement
    response = client.post("/inventory/movements", json=[mv("a-1", "received", "SKU-1", WH_DE, 5)])
    assert response.status_code == 200
    # then one entry names the path, the operation, the outcome and the client's address
    assert entries(keel) == [("api", "POST", "post_movements", "/inventory/movements", 200, "testclient")]
    seq = keel.audit.entries(AuditQuery()).items[0].seq
    trail = client.get(f"/audit/{seq}").json()
    # and it links to the ledger's event, which carries the same request id and actor
    assert [e["type"] for e in trail["events"]] == ["stock.moved"]
    with keel.db.read() as conn:
        moved = keel.events.read(conn, 0, {"stock.moved"})
    assert [(e.request_id, e.actor, e.via) for e in moved] == [
        (trail["entry"]["request_id"], trail["entry"]["actor"], "api")
    ]


def test_a_refused_write_is_recorded_with_its_status_and_links_nothing(
    keel: Keel, world: World, client: TestClient
) -> None:
    response = client.post("/inventory/movements", json=[mv("a-1", "sold", "SKU-1", WH_DE, 5)])
    assert response.status_code == 422
    page = keel.audit.entries(AuditQuery(failed=True))
    assert [(e.action, e.status) for e in page.items] == [("post_movements", 422)]
    assert keel.audit.trail(page.items[0].seq).events == ()
    assert keel.audit.entries(AuditQuery(failed=False)).items == ()


def test_reads_are_not_recorded(keel: Keel, world: World, client: TestClient) -> None:
    assert client.get("/inventory/positions").status_code == 200
    assert client.get("/audit").json() == {"items": [], "next_after": None}


def test_events_outside_any_request_are_the_systems(keel: Keel) -> None:
    with keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("thing.happened", "s", {})])
    with acting_as(Actor("u-7", "Ada", "cli", None, "r-1")), keel.db.write() as conn:
        keel.events.append(conn, [NewEvent("thing.happened", "t", {})])
    with keel.db.read() as conn:
        found = [(e.actor, e.via, e.request_id) for e in keel.events.read(conn, 0)]
    assert found == [("system", "system", None), ("u-7", "cli", "r-1")]


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET status = 200", "DELETE FROM audit_log"])
def test_the_log_is_append_only_in_the_database(keel: Keel, world: World, client: TestClient, statement: str) -> None:
    client.post("/inventory/movements", json=[mv("a-1", "sold", "SKU-1", WH_DE, 5)])
    with pytest.raises(DBAPIError, match="append-only"), keel.db.write() as conn:
        conn.execute(sa.text(statement))
    assert entries(keel) == [("api", "POST", "post_movements", "/inventory/movements", 422, "testclient")]


def test_filters_pages_and_export(keel: Keel, world: World, client: TestClient) -> None:
    for i in range(3):
        client.post("/inventory/movements", json=[mv(f"ok-{i}", "received", "SKU-1", WH_DE, 1)])
    client.post("/inventory/movements", json=[mv("bad", "sold", "SKU-9", WH_DE, 99)])
    first = client.get("/audit", params={"limit": 2}).json()
    assert [e["status"] for e in first["items"]] == [422, 200]
    rest = client.get("/audit", params={"limit": 2, "after": first["next_after"]}).json()
    assert ([e["status"] for e in rest["items"]], rest["next_after"]) == ([200, 200], None)
    assert [e["status"] for e in client.get("/audit", params={"failed": "true"}).json()["items"]] == [422]
    assert client.get("/audit", params={"via": "web"}).json()["items"] == []
    exported = client.get("/audit/export.csv", params={"failed": "false"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["seq", "at", "actor", "actor_name", "via", "address", "action", "method", "target",
                       "status", "request_id"]  # fmt: skip
    assert [(r[4], r[6], r[9]) for r in rows[1:]] == [("api", "post_movements", "200")] * 3


def test_an_unknown_entry_is_a_404(keel: Keel, client: TestClient) -> None:
    response = client.get("/audit/99")
    assert (response.status_code, response.json()["detail"]) == (404, "audit entry 99 does not exist")


def test_automation_is_recorded_when_it_changes_something(keel: Keel, world: World) -> None:
    receive(keel, "SKU-1", WH_DE, 5)
    keel.stock.reserve("SKU-1", WH_DE, 2, 0.05, "hold-1")
    time.sleep(0.1)
    # when the worker's sweeper releases the expired hold
    run_once(keel)
    page = keel.audit.entries(AuditQuery(via="automation"))
    assert [(e.actor, e.actor_name, e.action, e.method, e.status) for e in page.items] == [
        ("worker", "reservation-sweeper", "reservation-sweeper", "RUN", 0)
    ]
    # then its entry links the events it appended, which name it too
    caused = keel.audit.trail(page.items[0].seq).events
    assert caused and {(e.actor, e.via) for e in caused} == {("worker", "automation")}
    # and a pass with nothing to do leaves no entry
    run_once(keel)
    assert len(keel.audit.entries(AuditQuery(via="automation")).items) == 1


def test_a_page_form_post_is_recorded_as_web(keel: Keel, world: World, client: TestClient) -> None:
    status = client.post("/ui/orders/waves", data={}, follow_redirects=False).status_code
    page = keel.audit.entries(AuditQuery())
    assert [(e.via, e.method, e.target, e.status) for e in page.items] == [("web", "POST", "/ui/orders/waves", status)]


def test_refused_credentials_and_permissions_are_recorded_with_who_tried(
    keel: Keel, world: World, make_client: Callable[..., TestClient]
) -> None:
    from keel.access import Role

    keel.access.add_service("reporting", Role.ANALYST)
    analyst = keel.access.create_token("reporting", "dashboards").secret
    anonymous = make_client(keel, as_admin=False)
    rows = [mv("a-1", "received", "SKU-1", WH_DE, 5)]
    assert anonymous.post("/inventory/movements", json=rows).status_code == 401
    headers = {"Authorization": f"Bearer {analyst}"}
    assert anonymous.post("/inventory/movements", json=rows, headers=headers).status_code == 403
    page = keel.audit.entries(AuditQuery())
    assert [(e.actor_name, e.via, e.target, e.status) for e in page.items] == [
        ("reporting", "api", "/inventory/movements", 403),
        ("anonymous", "api", "/inventory/movements", 401),
    ]
