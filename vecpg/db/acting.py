"""What a store's transactions run as in one context (a thread, a task, a request).

The tenant of ``Store.tenant()``, and for a request of ``vecpg serve`` the group role of its key's
scope, the key's id (in the audit log) and a statement timeout. Everything is set per
transaction with ``set_config(..., true)``, in one statement, so a pooled connection never
carries it into the next request. ``watch`` is told the connection in use and then None: the
service cancels a disconnected client's query on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from ..errors import InvalidArgument

TENANT_SETTING = "vecpg.tenant_id"
SET_ALL = "SELECT set_config(s.name, s.value, true) FROM unnest(%s::text[], %s::text[]) AS s(name, value)"


@dataclass(frozen=True)
class Acting:
    """A context's transaction settings: ``tenant``, ``role`` (a group role the login is a member
    of), ``settings`` (other parameters, as name/value pairs) and the connection ``watch``er."""

    tenant: str | None = None
    role: str | None = None
    settings: tuple[tuple[str, str], ...] = ()
    watch: Callable[[psycopg.Connection | None], Any] | None = None

    def __post_init__(self) -> None:
        if self.tenant is not None:
            check_tenant(self.tenant)

    def statement(self) -> tuple[str, tuple[list[str], list[str]]]:
        """The one statement that applies the settings, and its parameters."""
        pairs = list(self.settings)
        if self.role is not None:
            pairs.insert(0, ("role", self.role))
        if self.tenant is not None:
            pairs.append((TENANT_SETTING, self.tenant))
        return SET_ALL, ([name for name, _ in pairs], [value for _, value in pairs])


def check_tenant(tenant_id: object) -> str:
    if not isinstance(tenant_id, str) or not tenant_id or "\x00" in tenant_id:
        raise InvalidArgument(f"tenant must be a non-empty string without NUL bytes, got {tenant_id!r}")
    return tenant_id
