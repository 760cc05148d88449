"""API keys of ``vecpg serve``: each bound to a tenant, a scope and optionally one collection.

A key reads ``vpk_<id>_<secret>``. The id is public (in ``vecpg keys list``, the access log and
the audit log); the secret is 32 random bytes of which only the SHA-256 is stored
(``vecpg.api_key``, revision 0012), so a stolen table opens nothing. A fast hash suffices for a
random secret: there is no dictionary to try.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from ..db.acting import check_tenant
from ..errors import InvalidArgument, Unauthorized
from ..ops.statement import Result, Statement

SCOPES = ("read", "write", "admin")  # each includes the ones before it
PREFIX = "vpk_"
_KEY = re.compile(r"vpk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_DURATION = re.compile(r"(\d+)\s*([dhm])")
_DUMMY_HASH = hashlib.sha256(b"no such key").digest()


@dataclass(frozen=True)
class ApiKey:
    """A key as stored, without its secret."""

    id: str
    tenant: str | None
    scope: str
    collection: str | None = None
    description: str | None = None
    created_at: dt.datetime | None = None
    expires_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None

    def allows(self, scope: str, collection: str | None = None) -> bool:
        """Whether the key may do what ``scope`` names, on ``collection`` (None: no collection)."""
        if SCOPES.index(self.scope) < SCOPES.index(scope):
            return False
        return self.collection is None or collection is None or collection == self.collection

    def to_dict(self) -> dict[str, object]:
        return {"id": self.id, "tenant": self.tenant, "scope": self.scope, "collection": self.collection,
                "description": self.description,
                **{name: (value.isoformat() if value else None) for name, value in
                   (("created_at", self.created_at), ("expires_at", self.expires_at),
                    ("revoked_at", self.revoked_at))}}


def secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def expiry(text: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """``--expires``: a duration (``30d``, ``12h``, ``90m``) from now, or an ISO date or time (UTC
    unless it says otherwise)."""
    if text is None:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    match = _DURATION.fullmatch(text.strip())
    if match:
        amount, unit = int(match[1]), match[2]
        return now + dt.timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount})
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(f"expires must be a duration such as 30d, 12h or 90m, or an ISO date, got {text!r}") from None
    when = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    if when <= now:
        raise InvalidArgument(f"expires must be in the future, got {text!r}")
    return when


def new_key(tenant: str | None, scope: str, collection: str | None = None, expires_at: dt.datetime | None = None,
            description: str | None = None) -> tuple[str, Statement[ApiKey]]:
    """A new key's text (shown once, never stored) and the statement that stores its hash."""
    if scope not in SCOPES:
        raise InvalidArgument(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if tenant is not None:
        check_tenant(tenant)
    elif scope != "admin":
        raise InvalidArgument("a read or write key is bound to a tenant: give one (an admin key may have none)")
    if collection is not None and (not collection or "\x00" in collection):
        raise InvalidArgument(f"collection must be a non-empty name, got {collection!r}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    statement = Statement(
        "INSERT INTO vecpg.api_key (id, secret_hash, tenant, scope, collection, description, expires_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING " + _COLUMNS,
        (key_id, secret_hash(secret), tenant, scope, collection, description, expires_at), _one)
    return f"{PREFIX}{key_id}_{secret}", statement


_COLUMNS = "id, tenant, scope, collection, description, created_at, expires_at, revoked_at"


def _one(result: Result) -> ApiKey:
    return ApiKey(*result.rows[0])


def list_keys() -> Statement[list[ApiKey]]:
    return Statement(f"SELECT {_COLUMNS} FROM vecpg.api_key ORDER BY created_at, id", None,
                     lambda result: [ApiKey(*row) for row in result.rows])


def revoke(key_id: str) -> Statement[bool]:
    """Revoke a key by id (or by its whole text); False when there is no such unrevoked key."""
    match = _KEY.fullmatch(key_id)
    return Statement("UPDATE vecpg.api_key SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
                     (match[1] if match else key_id,), lambda result: result.rowcount == 1)


def _checked(secret: str | None, result: Result) -> ApiKey:
    row = result.rows[0] if result.rows else None
    # Compared even when there is no such key, so the time taken does not tell which ids exist.
    stored = row[0] if row else _DUMMY_HASH
    same = hmac.compare_digest(secret_hash(secret or ""), bytes(stored))
    if row is None or not same or secret is None:
        raise Unauthorized("the API key is not valid")
    key = ApiKey(*row[1:-1])
    if key.revoked_at is not None:
        raise Unauthorized(f"the API key {key.id} was revoked")
    if row[-1]:
        raise Unauthorized(f"the API key {key.id} has expired")
    return key


def verify(presented: str) -> Statement[ApiKey]:
    """The key a request presented, checked: raises Unauthorized for a malformed, unknown,
    wrong, revoked or expired one. Expiry is judged by the database's clock."""
    match = _KEY.fullmatch(presented)
    key_id, secret = (match[1], match[2]) if match else ("", None)
    return Statement(f"SELECT secret_hash, {_COLUMNS}, expires_at <= now() FROM vecpg.api_key WHERE id = %s",
                     (key_id,), lambda result: _checked(secret, result))


__all__ = ["SCOPES", "ApiKey", "expiry", "list_keys", "new_key", "revoke", "verify"]
