"""Access control: identities (people and service accounts), roles and permissions, API tokens, web
sessions, and the table that gives every route, page and command its permission (docs/access.md)."""

from keel.access.commands import COMMANDS
from keel.access.http import (
    LOGIN,
    SESSION_COOKIE,
    AccessMiddleware,
    Guard,
    IdentityDep,
    ScopeDep,
    UndecidedRoutes,
    get_identity,
    session_cookie,
)
from keel.access.model import (
    LOCAL_OPERATOR,
    PERMISSIONS,
    ROLES,
    Account,
    Identity,
    IdentityKind,
    NewToken,
    Role,
    TokenInfo,
    parse_role,
)
from keel.access.ratelimit import RateLimiter
from keel.access.routes import MOUNTS, PUBLIC, ROUTES, Rule
from keel.access.service import AccessService

__all__ = [
    "COMMANDS",
    "LOCAL_OPERATOR",
    "LOGIN",
    "MOUNTS",
    "PERMISSIONS",
    "PUBLIC",
    "ROLES",
    "ROUTES",
    "SESSION_COOKIE",
    "AccessMiddleware",
    "AccessService",
    "Account",
    "Guard",
    "Identity",
    "IdentityDep",
    "IdentityKind",
    "NewToken",
    "RateLimiter",
    "Role",
    "Rule",
    "ScopeDep",
    "TokenInfo",
    "UndecidedRoutes",
    "get_identity",
    "parse_role",
    "session_cookie",
]
