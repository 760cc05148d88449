"""Exceptions raised by vecpg: one root, one child per kind of failure."""

from __future__ import annotations

import psycopg

# How to fix a text given to a collection without an embedding model, said by every such error.
NO_MODEL_FIX = ("pass vectors instead (an embedding per document, a vector to search with), or create the "
                "collection with a model (model= in Python, --model on the command line)")


class VecpgError(Exception):
    """Root of every error vecpg raises on purpose."""


class InvalidArgument(VecpgError, ValueError):
    """An argument is out of range or malformed (k, names, index parameters...)."""


class CollectionNotFound(VecpgError, LookupError):
    """The named collection does not exist."""


class CollectionExists(VecpgError):
    """A collection of that name already exists."""


class DimensionMismatch(VecpgError, ValueError):
    """A vector's length differs from the collection's dimension."""


class InvalidVector(VecpgError, ValueError):
    """A vector holds NaN or infinite values, or is not a vector of numbers."""


class FilterError(VecpgError, ValueError):
    """A search or delete filter is malformed or uses an unsupported operator."""


class InvalidDocument(VecpgError, ValueError):
    """A document in a write is malformed; the message names the row."""


class InputFileError(VecpgError, ValueError):
    """A file to ingest cannot be read: wrong format, encoding or columns."""


class PermissionDenied(VecpgError, PermissionError):
    """The database role lacks the privilege, or row-level security refused the row."""


class Unauthorized(VecpgError, PermissionError):
    """No API key, or one that is unknown, malformed, revoked or expired (``vecpg serve``: HTTP 401)."""


class Forbidden(VecpgError, PermissionError):
    """A valid API key used outside its scope or collection (``vecpg serve``: HTTP 403)."""


class StatementTimeout(VecpgError, TimeoutError):
    """A statement ran past its statement timeout (or was cancelled) and was rolled back."""


class ConnectTimeout(VecpgError, TimeoutError):
    """The database did not accept a connection within the connect timeout."""


class PoolTimeout(VecpgError, TimeoutError):
    """No pooled connection came free within the pool timeout: the pool is too small for the load."""


class TenancyNotEnforced(VecpgError):
    """``store.tenant()`` on a connection whose role bypasses row-level security (a superuser or
    BYPASSRLS role), where a tenant would isolate nothing."""


class ValueRejected(VecpgError, ValueError):
    """The database refused a value: too long for a text index, out of range, malformed."""


class NotMigrated(VecpgError):
    """The database lacks vecpg's schema or is behind the installed version."""


class ServerError(VecpgError):
    """The embedded PostgreSQL server could not be started, stopped or reached."""


class MirrorError(VecpgError):
    """The Qdrant mirror refused an operation: a collection missing or configured otherwise than
    its spec (dimension, distance), or a shard that cannot be opened."""


class MissingDependency(VecpgError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class LLMError(VecpgError):
    """A language model could not answer: its endpoint unreachable or refusing (``status`` holds the
    HTTP status, the message the server's own explanation), or its answer malformed."""

    status: int | None = None


class LLMAuthError(LLMError, PermissionError):
    """The language model's endpoint refused the credentials (HTTP 401 or 403)."""


class LLMTimeout(LLMError, TimeoutError):
    """The language model's endpoint did not answer within the timeout."""


# SQLSTATEs raised by the functions in sql/ (listed in the header of sql/idempotent/00_catalog.sql).
_SQLSTATE_ERRORS: dict[str, type[VecpgError]] = {
    "VP001": CollectionNotFound,
    "VP002": CollectionExists,
    "VP003": DimensionMismatch,
    "VP004": FilterError,
    "VP005": InvalidArgument,
}


def from_database(exc: psycopg.Error) -> VecpgError | None:
    """The vecpg exception matching a database error, if any: vecpg's own SQLSTATEs, privilege
    and row-level security refusals, and values the database rejects (classes 22 and 54)."""
    state = exc.sqlstate or ""
    kind = _SQLSTATE_ERRORS.get(state)
    if kind is None and state == "42501":
        kind = PermissionDenied
    elif kind is None and state == "57014" and "statement timeout" in (exc.diag.message_primary or ""):
        kind = StatementTimeout  # a cancel by request (pg_cancel_backend, a client gone) stays psycopg's
    elif kind is None and state[:2] in ("22", "54"):
        kind = ValueRejected
    if kind is None:
        return None
    message = exc.diag.message_primary or str(exc)
    return kind(message)
