"""Users of the web app and the API keys of partner systems (tables ``users``, ``api_key``).

Rows come back as plain dicts; password hashing, validation and roles belong to the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from geo.store.db import insert_row, utcnow
from geo.store.tables import api_key, users


def insert_user(
    conn: Connection,
    username: str,
    password_hash: str,
    role: str,
    kommuner: Iterable[str] = (),
    reporter_org: str | None = None,
) -> None:
    """Store a new, active user."""
    conn.execute(
        users.insert().values(
            username=username,
            password_hash=password_hash,
            role=role,
            kommuner=sorted(set(kommuner)),
            reporter_org=reporter_org,
            active=True,
            created_at=utcnow(),
        )
    )


def user_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    """The user row named ``username`` (None when there is none)."""
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return None if row is None else dict(row._mapping)


def user_by_id(conn: Connection, user_id: int) -> dict[str, Any] | None:
    """The user row with id ``user_id`` (None when there is none)."""
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return None if row is None else dict(row._mapping)


def all_users(conn: Connection) -> list[dict[str, Any]]:
    """Every user row, by name."""
    return [dict(r._mapping) for r in conn.execute(select(users).order_by(users.c.username))]


def update_user(
    conn: Connection, username: str, *, end_sessions: bool = False, **values: Any
) -> bool:
    """Change columns of the user named ``username``; False when there is no such user.

    With ``end_sessions`` the user's session generation is raised too, which ends every
    session opened before (see ``users.session_epoch``).
    """
    if end_sessions:
        values["session_epoch"] = users.c.session_epoch + 1
    res = conn.execute(update(users).where(users.c.username == username).values(**values))
    return bool(res.rowcount)


def end_sessions(conn: Connection, *, user_id: int) -> None:
    """End every session of a user at once (raises the user's session generation)."""
    conn.execute(
        update(users).where(users.c.id == user_id).values(session_epoch=users.c.session_epoch + 1)
    )


def record_login(conn: Connection, user_id: int, password_hash: str | None = None) -> None:
    """Set the last login to now (and replace the password hash when one is given)."""
    values: dict[str, Any] = {"last_login": utcnow()}
    if password_hash is not None:
        values["password_hash"] = password_hash
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


# --------------------------------------------------------------------------- API keys


def insert_api_key(
    conn: Connection,
    name: str,
    prefix: str,
    key_hash: str,
    kommun: str | None,
    created_by: str | None,
) -> int:
    """Store a new API key (only its hash and public prefix); return its id."""
    return insert_row(
        conn,
        api_key,
        name=name,
        prefix=prefix,
        key_hash=key_hash,
        kommun=kommun,
        created_by=created_by,
        created_at=utcnow(),
    )


def api_key_by_hash(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The API key row with this hash (None when there is none)."""
    row = conn.execute(select(api_key).where(api_key.c.key_hash == key_hash)).first()
    return None if row is None else dict(row._mapping)


def all_api_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every API key row (without hashes), oldest first."""
    cols = [c for c in api_key.c if c.name != "key_hash"]
    return [dict(r._mapping) for r in conn.execute(select(*cols).order_by(api_key.c.id))]


def revoke_api_key(conn: Connection, prefix: str, at: dt.datetime) -> bool:
    """Revoke the active key with this public prefix; False when there is none."""
    res = conn.execute(
        update(api_key)
        .where((api_key.c.prefix == prefix) & api_key.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return bool(res.rowcount)


def touch_api_key(conn: Connection, key_id: int, at: dt.datetime) -> None:
    """Record when a key was last used."""
    conn.execute(update(api_key).where(api_key.c.id == key_id).values(last_used_at=at))


__all__ = [
    "all_api_keys",
    "all_users",
    "api_key_by_hash",
    "insert_api_key",
    "insert_user",
    "record_login",
    "touch_api_key",
    "revoke_api_key",
    "update_user",
    "user_by_id",
    "user_by_name",
]
