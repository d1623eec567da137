"""Alembic environment: migrations run against the connection handed over by ``keel.platform.migrate``."""

from __future__ import annotations

from alembic import context

import keel.models  # noqa: F401  (registers every context's tables on the shared metadata)
from keel.platform.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
