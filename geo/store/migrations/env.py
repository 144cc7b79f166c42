"""Alembic environment: runs on the connection handed over by :func:`geo.store.upgrade`."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only used through geo.store.upgrade
    raise RuntimeError("run migrations through geo.store.upgrade(engine)")

context.configure(connection=connection, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
