"""FastAPI dependencies that hand the composition root (the ``Keel`` container) to every router.

They live beside ``bootstrap`` rather than in ``platform``: the shared kernel must not depend on the
composition root that wires the contexts together.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from keel.bootstrap import Keel


async def get_keel(request: Request) -> Keel:
    # async: a plain def dependency would be run in the thread pool on every request
    return request.app.state.keel  # type: ignore[no-any-return]


KeelDep = Annotated[Keel, Depends(get_keel)]
