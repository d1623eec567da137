"""The identities, API tokens and web sessions tables, and every query on them.

Secrets never reach these tables: passwords as argon2 hashes, token and session ids as SHA-256 digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.access.model import Account, Identity, IdentityKind, Role, TokenInfo
from keel.platform.db import Timestamp, metadata

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),  # None: a service account, tokens only
    # Restrictions (comma-separated codes; None: all). Stored here, enforced by the restrictions layer.
    sa.Column("channels", sa.Text, nullable=True),
    sa.Column("countries", sa.Text, nullable=True),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(12), primary_key=True),
    sa.Column("identity_id", sa.Integer, sa.ForeignKey("identities.id"), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.Text, nullable=True),  # space-separated permissions; None: the whole role
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=True),
    sa.Column("revoked_at", Timestamp, nullable=True),
    sa.Column("last_used_at", Timestamp, nullable=True),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),
    sa.Column("identity_id", sa.Integer, sa.ForeignKey("identities.id"), nullable=False, index=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
)


def _codes(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(c for c in value.split(",") if c)


def _identity(row: Any, scopes: frozenset[str] | None = None) -> Identity:
    return Identity(
        row.id, row.name, IdentityKind(row.kind), Role(row.role), _codes(row.channels), _codes(row.countries), scopes
    )


def _account(row: Any) -> Account:
    return Account(
        row.id,
        row.name,
        IdentityKind(row.kind),
        Role(row.role),
        row.disabled,
        row.created_at,
        _codes(row.channels),
        _codes(row.countries),
    )


def joined_codes(codes: tuple[str, ...] | None) -> str | None:
    """How the restriction columns store a set of codes: comma-separated, None for unrestricted."""
    return None if codes is None else ",".join(codes)


def _token(row: Any) -> TokenInfo:
    scopes = None if row.scopes is None else tuple(row.scopes.split())
    return TokenInfo(
        row.id, row.identity, row.name, scopes, row.created_at, row.expires_at, row.revoked_at, row.last_used_at
    )


def insert_identity(
    conn: Connection, name: str, kind: IdentityKind, role: Role, password_hash: str | None, now: datetime
) -> int:
    values = {"name": name, "kind": kind.value, "role": role.value, "password_hash": password_hash}
    inserted = conn.execute(identities.insert().values(**values, disabled=False, created_at=now)).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def identity_exists(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(identities.c.id).where(identities.c.name == name)).first() is not None


def get_account(conn: Connection, name: str) -> Account | None:
    row = conn.execute(sa.select(identities).where(identities.c.name == name)).first()
    return None if row is None else _account(row)


def list_accounts(conn: Connection) -> list[Account]:
    return [_account(r) for r in conn.execute(sa.select(identities).order_by(identities.c.name))]


def update_identity(conn: Connection, name: str, **values: Any) -> bool:
    """Set ``values`` (role, disabled, password_hash) on the identity named ``name``; False when unknown."""
    return conn.execute(identities.update().where(identities.c.name == name).values(**values)).rowcount == 1


def login_record(conn: Connection, name: str) -> tuple[Identity, str | None] | None:
    """The enabled identity named ``name`` and its password hash, for a login attempt."""
    row = conn.execute(sa.select(identities).where(identities.c.name == name, identities.c.disabled.is_(False))).first()
    return None if row is None else (_identity(row), row.password_hash)


# -- tokens ------------------------------------------------------------------------------------------------
def insert_token(
    conn: Connection,
    token_id: str,
    identity_id: int,
    name: str,
    secret_hash: str,
    scopes: tuple[str, ...] | None,
    now: datetime,
    expires_at: datetime | None,
) -> None:
    conn.execute(
        api_tokens.insert().values(
            id=token_id,
            identity_id=identity_id,
            name=name,
            secret_hash=secret_hash,
            scopes=None if scopes is None else " ".join(scopes),
            created_at=now,
            expires_at=expires_at,
        )
    )


def _token_query() -> sa.Select[Any]:
    return sa.select(api_tokens, identities.c.name.label("identity")).join(
        identities, identities.c.id == api_tokens.c.identity_id
    )


def get_token(conn: Connection, token_id: str) -> TokenInfo | None:
    row = conn.execute(_token_query().where(api_tokens.c.id == token_id)).first()
    return None if row is None else _token(row)


def list_tokens(conn: Connection, identity: str | None) -> list[TokenInfo]:
    query = _token_query().order_by(api_tokens.c.created_at, api_tokens.c.id)
    if identity is not None:
        query = query.where(identities.c.name == identity)
    return [_token(r) for r in conn.execute(query)]


def revoke_token(conn: Connection, token_id: str, now: datetime) -> bool:
    """Revoke the token (once: revoking again keeps the first time); False when unknown."""
    found = conn.execute(sa.select(api_tokens.c.revoked_at).where(api_tokens.c.id == token_id)).first()
    if found is None:
        return False
    if found.revoked_at is None:
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=now))
    return True


def token_holder(conn: Connection, token_id: str, now: datetime) -> tuple[Identity, str, datetime | None] | None:
    """For a usable token (not revoked, not expired, its identity enabled): the identity narrowed to the
    token's scopes, the stored secret hash and when it was last used."""
    row = conn.execute(
        sa.select(identities, api_tokens.c.secret_hash, api_tokens.c.scopes.label("scopes"), api_tokens.c.last_used_at)
        .join(api_tokens, api_tokens.c.identity_id == identities.c.id)
        .where(
            api_tokens.c.id == token_id,
            api_tokens.c.revoked_at.is_(None),
            sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > now),
            identities.c.disabled.is_(False),
        )
    ).first()
    if row is None:
        return None
    scopes = None if row.scopes is None else frozenset(row.scopes.split())
    return _identity(row, scopes), row.secret_hash, row.last_used_at


def touch_token(conn: Connection, token_id: str, now: datetime) -> None:
    conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(last_used_at=now))


# -- sessions ----------------------------------------------------------------------------------------------
def insert_session(
    conn: Connection, id_hash: str, identity_id: int, csrf_token: str, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        web_sessions.insert().values(
            id_hash=id_hash, identity_id=identity_id, csrf_token=csrf_token, created_at=now, expires_at=expires_at
        )
    )


def session_holder(conn: Connection, id_hash: str, now: datetime) -> tuple[Identity, str] | None:
    """The enabled identity of an unexpired session and the session's CSRF token."""
    row = conn.execute(
        sa.select(identities, web_sessions.c.csrf_token)
        .join(web_sessions, web_sessions.c.identity_id == identities.c.id)
        .where(web_sessions.c.id_hash == id_hash, web_sessions.c.expires_at > now, identities.c.disabled.is_(False))
    ).first()
    return None if row is None else (_identity(row), row.csrf_token)


def delete_session(conn: Connection, id_hash: str) -> None:
    conn.execute(web_sessions.delete().where(web_sessions.c.id_hash == id_hash))


def delete_sessions_of(conn: Connection, name: str) -> None:
    """End every session of an identity (its password or role changed, or it was disabled)."""
    ids = sa.select(identities.c.id).where(identities.c.name == name).scalar_subquery()
    conn.execute(web_sessions.delete().where(web_sessions.c.identity_id == ids))
