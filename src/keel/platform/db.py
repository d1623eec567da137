"""Database access: one engine per URL, SQLite (WAL, foreign keys) or PostgreSQL (psycopg 3).

Write transactions on SQLite start with ``BEGIN IMMEDIATE`` so two writers never deadlock while upgrading
a read lock; on PostgreSQL row locks and conditional updates give the same guarantee per row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Engine

from keel.platform.clock import as_utc

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY (the rowid alias).
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def to_micros(value: datetime) -> int:
    return int(as_utc(value).timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, UTC)


class Timestamp(sa.TypeDecorator[datetime]):
    """UTC instants stored as integer microseconds since the epoch.

    Integers sort, compare and bulk-insert identically on both databases, which lets the hot paths write
    rows with plain ``executemany`` and still read back timezone-aware datetimes.
    """

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> int | None:
        return None if value is None else to_micros(value)

    def process_result_value(self, value: int | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else from_micros(value)


class Database:
    """An engine plus the two kinds of transaction Keel uses."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine: Engine = make_engine(url, echo=echo)
        self.dialect = self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction, committed on success and rolled back on any exception."""
        with self.engine.connect().execution_options(keel_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def raw_cursor(self) -> Iterator[Any]:
        """A DBAPI cursor on a pooled connection, for single-statement hot reads (no SQLAlchemy layer).

        On PostgreSQL the connection is put in autocommit for the duration, which saves the BEGIN and the
        ROLLBACK round trips a one-statement read does not need.
        """
        conn = self.engine.raw_connection()
        driver = conn.driver_connection
        try:
            if not self.is_sqlite:
                driver.autocommit = True  # type: ignore[union-attr]
            cur = conn.cursor()
            yield cur
            cur.close()
        finally:
            if not self.is_sqlite:
                driver.autocommit = False  # type: ignore[union-attr]
            conn.close()  # back to the pool

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read transaction whose statements all see one consistent snapshot.

        SQLite in WAL mode gives that to any read transaction; PostgreSQL needs REPEATABLE READ.
        """
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo)
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_engine(url: str, echo: bool) -> Engine:
    parsed = sa.make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # A pool as large as the server's thread pool: an overflow connection is closed on return and would
    # pay the connect-time pragmas again on the next request.
    engine = sa.create_engine(
        url,
        echo=echo,
        pool_size=40,
        max_overflow=10,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is emitted exactly when SQLAlchemy begins.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # FULL: the WAL is synced at every commit, so an acknowledged write survives a power cut too
        # (NORMAL would only survive a process crash). Measured cost: one fsync per transaction.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        # The ledger indexes take random keys (ids, SKUs): a 64 MiB page cache keeps their B-trees hot.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("keel_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def upsert_insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT construct, which offers ``on_conflict_do_nothing/do_update`` on both databases."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


# -- the database-specific helpers, once (stores call these; services never branch on the database) ---------
def placeholder(conn: Connection | Any) -> str:
    """The DBAPI parameter marker of the connection's driver, for hand-written hot statements; also takes
    a bare DBAPI cursor (``Database.raw_cursor``)."""
    if isinstance(conn, Connection):
        return "?" if conn.dialect.name == "sqlite" else "%s"
    return "?" if isinstance(conn, sqlite3.Cursor) else "%s"


def any_of(conn: Connection, expr: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """SQL saying ``expr`` is one of ``values``, and its parameters, for hand-written statements. PostgreSQL
    gets ``expr = ANY(array)``: one statement text whatever the number of values, so the server prepares and
    plans it once; SQLite an ``IN`` list (never empty: an empty one matches nothing)."""
    if conn.dialect.name == "postgresql":
        return f"{expr} = ANY(%s)", [list(values)]
    if not values:
        return "1 = 0", []
    return f"{expr} IN ({', '.join('?' * len(values))})", list(values)


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Statements of the block go to PostgreSQL without waiting for each answer (psycopg's pipeline mode):
    the block costs one round trip for all the statements that return nothing, plus one per result fetched
    inside it; an error surfaces at the latest when the block ends (and fails the transaction, as ever).
    A no-op on SQLite, whose statements cost no round trip."""
    if conn.dialect.name != "postgresql":
        yield
        return
    with conn.connection.dbapi_connection.pipeline():  # type: ignore[union-attr]
        yield


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")


class Later(Generic[T_co]):
    """The answer of a read already sent, taken when called (once; later calls return the same value).

    Reads sent one after the other inside ``pipelined`` travel to PostgreSQL together: taking the first
    answer costs one round trip for all of them, where reading each in turn costs one each. On SQLite the
    statement has already run when it is sent."""

    def __init__(self, take: Callable[[], T_co]) -> None:
        self._take: Callable[[], T_co] | None = take
        self._value: T_co | None = None

    def __call__(self) -> T_co:
        if self._take is not None:
            self._value, self._take = self._take(), None
        return self._value  # type: ignore[return-value]  # set above on the first call

    def then(self, shape: Callable[[T_co], U]) -> Later[U]:
        """The same read, its answer passed through ``shape``."""
        return Later(lambda: shape(self()))


def send(conn: Connection, sql: str, params: Sequence[Any], take: Callable[[Any], T]) -> Later[T]:
    """Send a hand-written read on the driver's cursor of ``conn``'s transaction; ``take`` turns the cursor
    into the answer when it is wanted (see ``Later``)."""
    cur = dbapi_cursor(conn)
    cur.execute(sql, params)
    return Later(lambda: take(cur))


def json_column(value: Any) -> Any:
    """A JSON column holding an object or a list, read on the driver's cursor: SQLite hands over its text,
    psycopg the decoded value."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def dbapi_cursor(conn: Connection) -> Any:
    """The DBAPI cursor of the connection's current transaction: bulk fetches skip SQLAlchemy row objects."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def is_postgresql(conn: Connection) -> bool:
    """For the few statements written per database (COPY, staging tables); stores only, never services."""
    return conn.dialect.name == "postgresql"


def locks_rows(conn: Connection) -> bool:
    """Whether row locks (``FOR UPDATE``) and advisory locks mean anything here: on SQLite a write
    transaction already holds the whole database (``BEGIN IMMEDIATE``), so they are skipped."""
    return conn.dialect.name != "sqlite"


def advisory_xact_lock(conn: Connection, *key: int | str) -> None:
    """Serialise transactions that name the same key until the end of the current one (PostgreSQL); a
    no-op on SQLite, whose writers are serial already. ``key`` is one integer, or two strings hashed into
    PostgreSQL's two-key space so unrelated lock families cannot clash."""
    if not locks_rows(conn):
        return
    # On the driver's cursor and never fetched: inside ``pipelined`` the lock travels with the reads after it.
    if len(key) == 1 and isinstance(key[0], int):
        dbapi_cursor(conn).execute("SELECT pg_advisory_xact_lock(%s)", (key[0],))
    elif len(key) == 2 and all(isinstance(k, str) for k in key):
        dbapi_cursor(conn).execute("SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))", key)
    else:
        raise TypeError("advisory_xact_lock takes one integer or two strings")
