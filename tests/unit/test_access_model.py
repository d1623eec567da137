"""Roles, scopes, token parsing and the rate limiter: pure rules."""

from __future__ import annotations

import pytest

from keel.access import PERMISSIONS, ROLES, RateLimiter, Role
from keel.access.model import READS, Identity, IdentityKind, check_scopes, split_token
from keel.platform.errors import ValidationFailed


def test_roles_grant_only_known_permissions_and_least_privilege_holds() -> None:
    assert all(perms <= PERMISSIONS for perms in ROLES.values())
    assert ROLES[Role.ADMIN] == PERMISSIONS
    assert ROLES[Role.ANALYST] == READS | {"metrics.read"}
    assert not any(p.endswith((".write", ".admin")) for p in ROLES[Role.ANALYST])
    assert "tower.read" not in ROLES[Role.INTEGRATION]  # a machine has no pages
    assert all("access.admin" not in ROLES[r] for r in Role if r is not Role.ADMIN)


def test_a_scope_narrows_a_role_and_never_widens_it() -> None:
    assert check_scopes(Role.ANALYST, ["orders.read", "orders.read"]) == ("orders.read",)
    with pytest.raises(ValidationFailed, match=r"not granted to role analyst: orders\.write"):
        check_scopes(Role.ANALYST, ["orders.write"])
    scoped = Identity(1, "ana", IdentityKind.SERVICE, Role.ANALYST, scopes=frozenset({"orders.read", "x.y"}))
    assert scoped.permissions == frozenset({"orders.read"})


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("keel_0123456789ab_secret_with_underscores", ("0123456789ab", "keel_0123456789ab_secret_with_underscores")),
        ("keel_0123456789ab_", None),
        ("keel_0123456789AB_secret", None),
        ("keel_short_secret", None),
        ("token_0123456789ab_secret", None),
    ],
)
def test_split_token(value: str, parsed: tuple[str, str] | None) -> None:
    assert split_token(value) == parsed


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0  # another key has its own bucket
    now[0] = 0.5
    assert limiter.take("a") == 0.0
    assert RateLimiter(rate=0, burst=1).take("a") == 0.0  # 0: no limit
