"""How long vecpg waits: for a connection to open, for a statement, for a free pooled connection.

Set once per store: ``connect(connect_timeout=, statement_timeout=, pool_timeout=)``, else the
environment (``VECPG_CONNECT_TIMEOUT``, ``VECPG_STATEMENT_TIMEOUT``, ``VECPG_POOL_TIMEOUT``, in
seconds), else the defaults below. The URL can carry the first two too (libpq's
``connect_timeout`` and ``options=-c statement_timeout=...``); an argument or variable wins.
Each fires with its own error (``ConnectTimeout``, ``StatementTimeout``, ``PoolTimeout``) and
leaves nothing half-written: a timed-out statement rolls its transaction back.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..errors import InvalidArgument

ENV = {"connect": "VECPG_CONNECT_TIMEOUT", "statement": "VECPG_STATEMENT_TIMEOUT", "pool": "VECPG_POOL_TIMEOUT"}


@dataclass(frozen=True)
class Timeouts:
    """Seconds: ``connect`` (None: libpq's own, no limit), ``statement`` (None: the server's
    setting), ``pool`` (waiting for a free pooled connection)."""

    connect: float | None = 10.0
    statement: float | None = None
    pool: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect", "statement", "pool"):
            value = getattr(self, name)
            if value is None and name != "pool":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400:
                raise InvalidArgument(f"{name}_timeout must be a number of seconds in (0, 86400], got {value!r}")

    @classmethod
    def resolve(cls, connect: float | None = None, statement: float | None = None,
                pool: float | None = None) -> Timeouts:
        """The arguments given, else the environment's, else the defaults."""
        given = {"connect": connect, "statement": statement, "pool": pool}
        values = {}
        for name, value in given.items():
            if value is None and os.environ.get(ENV[name], "").strip():
                text = os.environ[ENV[name]].strip()
                try:
                    value = float(text)
                except ValueError:
                    raise InvalidArgument(f"{ENV[name]} must be a number of seconds, got {text!r}") from None
            if value is not None:
                values[name] = value
        return cls(**values)

    def connect_kwargs(self) -> dict[str, int]:
        """libpq's ``connect_timeout`` (whole seconds, at least 2: libpq's own floor)."""
        return {} if self.connect is None else {"connect_timeout": max(2, math.ceil(self.connect))}

    def statement_ms(self) -> int | None:
        return None if self.statement is None else max(1, round(self.statement * 1000))
