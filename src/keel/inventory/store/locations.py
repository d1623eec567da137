"""The locations port: locations and location groups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.inventory.model import Location, LocationGroup
from keel.inventory.store.tables import location_group_members, location_groups, locations
from keel.platform.bulk import chunks
from keel.platform.db import Later, any_of, dbapi_cursor, from_micros, json_column, send


def _location(row: sa.Row[Any]) -> Location:
    return Location(
        row.id,
        row.code,
        row.name,
        row.kind,
        row.country,
        row.region,
        row.city,
        row.latitude,
        row.longitude,
        tuple(sorted(row.capabilities or [])),
        row.daily_capacity,
        row.active,
        row.created_at,
        row.updated_at,
    )


def get_location(conn: Connection, code: str) -> Location | None:
    """The location with ``code``, or None."""
    row = conn.execute(sa.select(locations).where(locations.c.code == code)).first()
    return None if row is None else _location(row)


_LOCATION_COLUMNS = [c.name for c in locations.c]


def _raw_location(values: Sequence[Any]) -> Location:
    """A location from a driver row of ``_LOCATION_COLUMNS`` (JSON text on SQLite, decoded on PostgreSQL)."""
    row = dict(zip(_LOCATION_COLUMNS, values, strict=True))
    capabilities = json_column(row["capabilities"])
    return Location(
        row["id"],
        row["code"],
        row["name"],
        row["kind"],
        row["country"],
        row["region"],
        row["city"],
        row["latitude"],
        row["longitude"],
        tuple(sorted(capabilities or [])),
        row["daily_capacity"],
        bool(row["active"]),
        from_micros(row["created_at"]),
        from_micros(row["updated_at"]),
    )


def feeding(
    conn: Connection, skus: Sequence[str], codes: Sequence[str], groups: Sequence[str]
) -> Later[list[Location]]:
    """The active locations holding a position of one of ``skus`` that are one of ``codes`` or a member of
    one of ``groups`` (a channel's sources in one country). On the driver's cursor and sent now (see
    ``Later``): order capture asks for every order, in one round trip with the positions of its SKUs."""
    if not skus:
        return Later(list)
    held, by_sku = any_of(conn, "p.sku", skus)
    named, by_code = any_of(conn, "l.code", codes)
    grouped, by_group = any_of(conn, "g.code", groups)
    sql = (
        f"SELECT {', '.join(f'l.{c}' for c in _LOCATION_COLUMNS)} FROM locations l WHERE l.active "
        f"AND l.id IN (SELECT p.location_id FROM positions p WHERE {held}) "
        f"AND ({named} OR l.id IN (SELECT m.location_id FROM location_group_members m "
        f"JOIN location_groups g ON g.id = m.group_id WHERE {grouped}))"
    )
    return send(conn, sql, [*by_sku, *by_code, *by_group], lambda cur: [_raw_location(row) for row in cur.fetchall()])


def active_ids_of(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    """code -> id of the active locations among ``codes`` (on the driver's cursor: every ledger write asks)."""
    cur = dbapi_cursor(conn)
    out: dict[str, int] = {}
    for chunk in chunks(list(codes)):
        named, params = any_of(conn, "code", chunk)
        cur.execute(f"SELECT code, id FROM locations WHERE active AND {named}", params)
        out.update((str(code), int(i)) for code, i in cur.fetchall())
    return out


def countries_of(conn: Connection, codes: list[str]) -> dict[str, str]:
    """code -> country of the given locations that exist."""
    query = sa.select(locations.c.code, locations.c.country).where(locations.c.code.in_(codes))
    return {str(row[0]): str(row[1]) for row in conn.execute(query)}


def insert_location(conn: Connection, values: Mapping[str, Any], now: datetime) -> None:
    """Store a new, validated location as active; ``values`` holds its columns but the bookkeeping ones."""
    conn.execute(locations.insert().values(**values, active=True, created_at=now, updated_at=now))


def update_location(conn: Connection, code: str, changes: Mapping[str, Any], now: datetime) -> None:
    """Set the given, validated columns of the location ``code``."""
    conn.execute(locations.update().where(locations.c.code == code).values(**changes, updated_at=now))


def list_locations(
    conn: Connection,
    *,
    kind: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    countries: frozenset[str] | None = None,
) -> tuple[list[Location], int]:
    """A page of locations by code and the total matching the filters (``country`` upper case; ``countries``:
    only those)."""
    t = locations
    query = sa.select(t)
    if countries is not None:
        query = query.where(t.c.country.in_(sorted(countries)))
    for column, value in ((t.c.kind, kind), (t.c.country, country), (t.c.active, active)):
        if value is not None:
            query = query.where(column == value)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(t.c.code).limit(limit).offset(offset))
    return [_location(r) for r in rows], int(total)


def active_ids(conn: Connection) -> dict[str, int]:
    """code -> id of active locations."""
    t = locations
    return dict(conn.execute(sa.select(t.c.code, t.c.id).where(t.c.active.is_(True))).all())


def ids_by_code(conn: Connection) -> dict[str, int]:
    """code -> id of every location, active or not."""
    return dict(conn.execute(sa.select(locations.c.code, locations.c.id)).all())


def codes_by_id(conn: Connection) -> dict[int, str]:
    """id -> code of every location, active or not."""
    return dict(conn.execute(sa.select(locations.c.id, locations.c.code)).all())


def group_codes(conn: Connection) -> set[str]:
    """The code of every location group."""
    return set(conn.execute(sa.select(location_groups.c.code)).scalars())


def get_group_name(conn: Connection, code: str) -> str | None:
    """The name of the group ``code``, or None when there is no such group."""
    return conn.execute(sa.select(location_groups.c.name).where(location_groups.c.code == code)).scalar_one_or_none()


def insert_group(conn: Connection, code: str, name: str, member_ids: Sequence[int]) -> None:
    """Store a new group with its member location ids."""
    inserted = conn.execute(location_groups.insert().values(code=code, name=name)).inserted_primary_key
    assert inserted is not None
    _add_members(conn, inserted[0], member_ids)


def replace_group_members(conn: Connection, code: str, member_ids: Sequence[int]) -> None:
    """Make ``member_ids`` the only members of the existing group ``code``."""
    group_id = conn.execute(sa.select(location_groups.c.id).where(location_groups.c.code == code)).scalar_one()
    m = location_group_members
    conn.execute(m.delete().where(m.c.group_id == group_id))
    _add_members(conn, group_id, member_ids)


def _add_members(conn: Connection, group_id: int, member_ids: Sequence[int]) -> None:
    if member_ids:
        rows = [{"group_id": group_id, "location_id": i} for i in member_ids]
        conn.execute(location_group_members.insert(), rows)


def group_members(conn: Connection) -> dict[str, list[str]]:
    """group code -> member location codes (groups without members are absent)."""
    g, m, loc = location_groups, location_group_members, locations
    query = sa.select(g.c.code, loc.c.code).join(m, m.c.group_id == g.c.id).join(loc, loc.c.id == m.c.location_id)
    out: dict[str, list[str]] = {}
    for group_code, loc_code in conn.execute(query):
        out.setdefault(group_code, []).append(loc_code)
    return out


def list_groups(conn: Connection) -> list[LocationGroup]:
    """Every group by code, members sorted."""
    members = group_members(conn)
    rows = conn.execute(sa.select(location_groups.c.code, location_groups.c.name).order_by(location_groups.c.code))
    return [LocationGroup(code, name, tuple(sorted(members.get(code, [])))) for code, name in rows]
