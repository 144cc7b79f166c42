"""API keys of partner systems (Open311 ``POST requests``).

A key looks like ``lb_<prefix>_<secret>``; only its SHA-256 and the public prefix are
stored, so a database leak reveals no usable key. Keys can be limited to one kommun and
revoked. Create them with ``lagesbild apikeys create``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from geo.errors import NotFoundError, ValidationError
from geo.store.db import utcnow
from geo.store.tables import api_key
from geo.tenants import find_tenant


@dataclass(frozen=True)
class ApiKey:
    """A stored key (without the secret)."""

    id: int
    name: str
    prefix: str
    kommun: str | None
    revoked: bool

    def allows(self, kommun: str) -> bool:
        """Whether the key may submit reports for ``kommun``."""
        return not self.revoked and (self.kommun is None or self.kommun == kommun)


def key_hash(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    conn: Connection, name: str, kommun: str | None = None, created_by: str | None = None
) -> tuple[str, ApiKey]:
    """Create a key; returns ``(secret key, stored key)`` – the secret is shown only once."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError("namnet ska vara 1–200 tecken")
    if kommun is not None and find_tenant(conn, kommun) is None:
        raise NotFoundError(f"kommunen {kommun!r} finns inte")
    prefix = secrets.token_hex(4)
    secret = f"lb_{prefix}_{secrets.token_urlsafe(24)}"
    res = conn.execute(
        api_key.insert().values(
            name=name,
            prefix=prefix,
            key_hash=key_hash(secret),
            kommun=kommun,
            created_by=created_by,
            created_at=utcnow(),
        )
    )
    pk = res.inserted_primary_key
    assert pk is not None
    stored = ApiKey(int(pk[0]), name, prefix, kommun, False)
    return secret, stored


def verify_api_key(conn: Connection, key: str | None, touch: bool = True) -> ApiKey | None:
    """The stored key matching ``key`` (None when missing, unknown or revoked)."""
    if not key or len(key) > 200:
        return None
    digest = key_hash(key)
    row = conn.execute(select(api_key).where(api_key.c.key_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        return None
    if touch:
        conn.execute(update(api_key).where(api_key.c.id == row.id).values(last_used_at=utcnow()))
    return ApiKey(int(row.id), row.name, row.prefix, row.kommun, False)


def list_api_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key (no hashes)."""
    rows = conn.execute(select(api_key).order_by(api_key.c.id)).all()
    return [
        {
            "id": int(r.id),
            "name": r.name,
            "prefix": r.prefix,
            "kommun": r.kommun,
            "created_at": r.created_at.isoformat(),
            "last_used_at": r.last_used_at.isoformat() if r.last_used_at else None,
            "revoked": r.revoked_at is not None,
        }
        for r in rows
    ]


def revoke_api_key(conn: Connection, prefix: str) -> None:
    """Revoke the key with this prefix."""
    res = conn.execute(
        update(api_key)
        .where((api_key.c.prefix == prefix) & api_key.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if res.rowcount == 0:
        raise NotFoundError(f"ingen aktiv nyckel med prefixet {prefix!r}")


__all__ = [
    "ApiKey",
    "create_api_key",
    "key_hash",
    "list_api_keys",
    "revoke_api_key",
    "verify_api_key",
]
