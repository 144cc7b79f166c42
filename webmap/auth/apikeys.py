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

from sqlalchemy.engine import Connection

from geo.errors import NotFoundError, ValidationError
from geo.store import users as store
from geo.store.db import utcnow
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
    key_id = store.insert_api_key(conn, name, prefix, key_hash(secret), kommun, created_by)
    stored = ApiKey(key_id, name, prefix, kommun, False)
    return secret, stored


def verify_api_key(conn: Connection, key: str | None, touch: bool = True) -> ApiKey | None:
    """The stored key matching ``key`` (None when missing, unknown or revoked)."""
    if not key or len(key) > 200:
        return None
    digest = key_hash(key)
    row = store.api_key_by_hash(conn, digest)
    if row is None or not hmac.compare_digest(row["key_hash"], digest):
        return None
    if row["revoked_at"] is not None:
        return None
    if touch:
        store.touch_api_key(conn, int(row["id"]), utcnow())
    return ApiKey(int(row["id"]), row["name"], row["prefix"], row["kommun"], False)


def list_api_keys(conn: Connection) -> list[dict[str, Any]]:
    """Every key (no hashes)."""
    return [
        {
            "id": int(r["id"]),
            "name": r["name"],
            "prefix": r["prefix"],
            "kommun": r["kommun"],
            "created_at": r["created_at"].isoformat(),
            "last_used_at": r["last_used_at"].isoformat() if r["last_used_at"] else None,
            "revoked": r["revoked_at"] is not None,
        }
        for r in store.all_api_keys(conn)
    ]


def revoke_api_key(conn: Connection, prefix: str) -> None:
    """Revoke the key with this prefix."""
    if not store.revoke_api_key(conn, prefix, utcnow()):
        raise NotFoundError(f"ingen aktiv nyckel med prefixet {prefix!r}")


__all__ = [
    "ApiKey",
    "create_api_key",
    "key_hash",
    "list_api_keys",
    "revoke_api_key",
    "verify_api_key",
]
