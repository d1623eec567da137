"""HTTP API of access: who am I, and (for administrators) the identities and tokens.

Creating identities and tokens is a CLI task (``keel users``, ``keel tokens``): a secret is shown once, on
the operator's terminal, never in an HTTP response a proxy might log.
"""

from __future__ import annotations

from fastapi import APIRouter

from keel.access.http import IdentityDep
from keel.access.schemas import AccountPublic, IdentityPublic, TokenPublic
from keel.deps import KeelDep

router = APIRouter(tags=["access"])


@router.get("/access/me", operation_id="whoami", summary="Who am I")
async def whoami(identity: IdentityDep) -> IdentityPublic:
    """The identity the credentials belong to: its kind, role, permissions and restrictions (channels and countries).

    Refuses nothing to any valid credentials. Idempotent: a read, it changes nothing.
    """
    return IdentityPublic(
        id=identity.id,
        name=identity.name,
        kind=identity.kind.value,
        role=identity.role.value,
        permissions=sorted(identity.permissions),
        channels=None if identity.channels is None else list(identity.channels),
        countries=None if identity.countries is None else list(identity.countries),
    )


@router.get("/access/identities", operation_id="list_identities", summary="List identities")
def list_identities(keel: KeelDep) -> list[AccountPublic]:
    """Every person and service account, with role, restrictions and whether it is disabled.

    Refuses callers without ``access.admin`` (403). Idempotent: a read, it changes nothing.
    """
    return [AccountPublic.model_validate(a) for a in keel.access.accounts()]


@router.get("/access/tokens", operation_id="list_tokens", summary="List API tokens")
def list_tokens(keel: KeelDep, identity: str | None = None) -> list[TokenPublic]:
    """The tokens of every identity, or of one: id, name, scopes, expiry, revocation and last use, never the secret (it
    is shown once, by ``keel tokens create``).

    Refuses callers without ``access.admin`` (403). Idempotent: a read, it changes nothing.
    """
    return [TokenPublic.model_validate(t) for t in keel.access.list_tokens(identity)]
