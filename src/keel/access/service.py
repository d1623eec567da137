"""Access use cases: identities, tokens, password logins and web sessions.

Token and session secrets are stored as SHA-256 digests. A fast hash is right for them (unlike for
passwords): they are 256 random bits, so nobody can guess them from a stolen digest, and checking one on
every request must cost microseconds, not the tens of milliseconds argon2 takes on purpose.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from keel.access import store
from keel.access.model import (
    TOKEN_PREFIX,
    Account,
    Identity,
    IdentityKind,
    NewToken,
    Role,
    TokenInfo,
    check_name,
    check_password,
    check_restrictions,
    check_scopes,
    split_token,
)
from keel.access.ratelimit import RateLimiter
from keel.platform.clock import utcnow
from keel.platform.db import Database
from keel.platform.errors import Conflict, NotFound, TooManyRequests, ValidationFailed, single_field
from keel.platform.geo import COUNTRIES

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is bookkeeping: one write a minute per token at most


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AccessService:
    """Who may act: accounts, their tokens and their browser sessions."""

    def __init__(self, db: Database, session_hours: float, login_failures: RateLimiter | None = None) -> None:
        self.db = db
        self.session_lifetime = timedelta(hours=session_hours)
        # Failed logins per user name and per client address: online password guessing stays slow.
        self.login_failures = login_failures or RateLimiter(0, 1)
        self.hasher = PasswordHasher()

    @functools.cached_property
    def _decoy(self) -> str:
        """Verified against when the name is unknown, so a login takes as long for a wrong name as for a wrong
        password (no probing for names by timing). Hashed on the first login, not at start: an argon2 hash
        costs about 0.1 s, which every process (and every CLI command) would otherwise pay."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- identities -----------------------------------------------------------------------------------------
    def add_user(self, name: str, role: Role, password: str) -> Account:
        """Create a person who logs in with ``password`` (hashed with argon2) and may hold tokens."""
        return self._add(name, IdentityKind.HUMAN, role, self.hasher.hash(check_password(password)))

    def add_service(self, name: str, role: Role) -> Account:
        """Create a service account: a machine that authenticates with tokens only."""
        return self._add(name, IdentityKind.SERVICE, role, None)

    def _add(self, name: str, kind: IdentityKind, role: Role, password_hash: str | None) -> Account:
        check_name(name)
        with self.db.write() as conn:
            if store.identity_exists(conn, name):
                raise Conflict(f"identity {name!r} already exists")
            store.insert_identity(conn, name, kind, role, password_hash, utcnow())
            account = store.get_account(conn, name)
        assert account is not None
        return account

    def ensure_admin(self, name: str) -> str | None:
        """Create the person ``name`` as an admin with a random password and return it, or return None
        when ``name`` exists already (its password is kept: the demo never resets a password)."""
        password = secrets.token_urlsafe(12)
        try:
            self.add_user(name, Role.ADMIN, password)
        except Conflict:
            return None
        return password

    def get(self, name: str) -> Account:
        """The account named ``name``; NotFound otherwise."""
        with self.db.read() as conn:
            account = store.get_account(conn, name)
        if account is None:
            raise NotFound(f"There is no identity {name!r}.")
        return account

    def accounts(self) -> list[Account]:
        """Every account, by name."""
        with self.db.read() as conn:
            return store.list_accounts(conn)

    def set_role(self, name: str, role: Role) -> None:
        """Give ``name`` another role; its web sessions end (they were granted under the old role)."""
        self._update(name, role=role.value)

    def set_scope(
        self, name: str, channels: list[str] | None, countries: list[str] | None, known_channels: set[str]
    ) -> Account:
        """Restrict ``name`` to ``channels`` and ``countries`` (None or empty: unrestricted on that side);
        channel codes must be in ``known_channels``, countries ISO codes. Its web sessions end."""
        chosen, places = check_restrictions(channels, countries, known_channels, COUNTRIES)
        self._update(name, channels=store.joined_codes(chosen), countries=store.joined_codes(places))
        return self.get(name)

    def disable(self, name: str) -> None:
        """Disable ``name``: its tokens and sessions stop working at once (they are kept for the record)."""
        self._update(name, disabled=True)

    def set_password(self, name: str, password: str) -> None:
        """Set a person's password and end their sessions; service accounts have none."""
        if self.get(name).kind is not IdentityKind.HUMAN:
            raise single_field("password", "a service account authenticates with tokens only")
        self._update(name, password_hash=self.hasher.hash(check_password(password)))

    def _update(self, name: str, **values: object) -> None:
        with self.db.write() as conn:
            if not store.update_identity(conn, name, **values):
                raise NotFound(f"There is no identity {name!r}.")
            store.delete_sessions_of(conn, name)

    # -- tokens ---------------------------------------------------------------------------------------------
    def create_token(
        self, identity: str, name: str, scopes: list[str] | None = None, expires_at: datetime | None = None
    ) -> NewToken:
        """A new bearer token for ``identity``; its secret is in the result only, never stored."""
        now = utcnow()
        if expires_at is not None and expires_at <= now:
            raise single_field("expires_at", "must be in the future")
        if not 1 <= len(name) <= 100:
            raise single_field("name", "must be 1 to 100 characters")
        account = self.get(identity)
        checked = check_scopes(account.role, scopes)
        token_id = secrets.token_hex(6)
        secret = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        with self.db.write() as conn:
            store.insert_token(conn, token_id, account.id, name, digest(secret), checked, now, expires_at)
            info = store.get_token(conn, token_id)
        assert info is not None
        return NewToken(info, secret)

    def list_tokens(self, identity: str | None = None) -> list[TokenInfo]:
        """Tokens (without secrets), oldest first; only ``identity``'s when given."""
        with self.db.read() as conn:
            return store.list_tokens(conn, identity)

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token for good; revoking it again changes nothing."""
        with self.db.write() as conn:
            if not store.revoke_token(conn, token_id, utcnow()):
                raise NotFound(f"There is no token {token_id!r}.")

    def authenticate_token(self, bearer: str) -> Identity | None:
        """The identity a bearer token acts as (narrowed to its scopes), or None when it is unknown,
        tampered with, revoked, expired or its identity is disabled."""
        parsed = split_token(bearer)
        if parsed is None:
            return None
        token_id, value = parsed
        now = utcnow()
        with self.db.read() as conn:
            found = store.token_holder(conn, token_id, now)
        if found is None:
            return None
        identity, secret_hash, last_used = found
        if not hmac.compare_digest(secret_hash, digest(value)):
            return None
        if last_used is None or now - last_used >= TOUCH_EVERY:
            with self.db.write() as conn:
                store.touch_token(conn, token_id, now)
        return identity

    # -- password logins and sessions -----------------------------------------------------------------------
    def login(self, name: str, password: str, address: str | None = None) -> str | None:
        """Check a person's password; a new session id (the cookie value) or None for any bad credential.
        ``TooManyRequests`` (with ``retry_after`` seconds) once the name or the address has failed too often
        lately; the password is then not even checked, so a guesser learns nothing more."""
        keys = [f"name:{name.casefold()}", f"address:{address or '-'}"]
        wait = max(self.login_failures.wait(key) for key in keys)
        if wait > 0:
            raise TooManyRequests("too many failed logins lately; try again later", retry_after=math.ceil(wait))
        session = self._check_password(name, password)
        if session is None:
            for key in keys:
                self.login_failures.take(key)
        return session

    def _check_password(self, name: str, password: str) -> str | None:
        with self.db.read() as conn:
            found = store.login_record(conn, name)
        stored = found[1] if found is not None and found[1] is not None else self._decoy
        try:
            self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if found is None or found[1] is None:
            return None
        return self.open_session(found[0])

    def open_session(self, identity: Identity) -> str:
        """Start a web session for an already authenticated person; returns the session id, shown once."""
        if identity.kind is not IdentityKind.HUMAN:
            raise ValidationFailed("only people open web sessions", [])
        session_id = secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.write() as conn:
            store.insert_session(
                conn, digest(session_id), identity.id, secrets.token_urlsafe(32), now, now + self.session_lifetime
            )
        return session_id

    def session(self, session_id: str) -> tuple[Identity, str] | None:
        """The identity of a live session and its CSRF token (bound to it); None when unknown or expired."""
        with self.db.read() as conn:
            return store.session_holder(conn, digest(session_id), utcnow())

    def logout(self, session_id: str) -> None:
        """End a session (an unknown one is already ended)."""
        with self.db.write() as conn:
            store.delete_session(conn, digest(session_id))
