"""What an operation is: statements with their parameters and row mapping, and no I/O.

An operation is either one ``Statement`` (one round trip) or a generator that yields
``Statement`` and ``Call`` steps, receives each step's value and returns the operation's own.
A runner does the I/O (runner.py): the same operation runs on psycopg's Connection today and
on its AsyncConnection through a second runner, with nothing written twice. A ``Call`` is
Python work between statements that an asynchronous runner moves off the event loop (embedding
a query, asking the Qdrant mirror).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from psycopg import sql

T = TypeVar("T")
Query = str | bytes | sql.Composable


@dataclass(frozen=True, slots=True)
class Result:
    """What a statement returned: its rows (none for a command) and the rows it affected."""

    rows: list[tuple[Any, ...]]
    rowcount: int


def rows(result: Result) -> list[tuple[Any, ...]]:
    return result.rows


def scalar(result: Result) -> Any:
    """The first column of the first row, or None."""
    return result.rows[0][0] if result.rows else None


def flag(result: Result) -> bool:
    return bool(scalar(result))


def number(result: Result) -> int:
    value = scalar(result)
    return 0 if value is None else int(value)


def affected(result: Result) -> int:
    return result.rowcount


def each(kind: Callable[..., T]) -> Callable[[Result], list[T]]:
    """Every row as ``kind(*row)``."""
    return lambda result: [kind(*row) for row in result.rows]


@dataclass(frozen=True, slots=True)
class Statement(Generic[T]):
    """One statement, its parameters, and how its rows become the value returned.

    ``settings``: pgvector's search settings it needs on the connection's session (session.py);
    None for every statement that is not a search, which then runs with the connection's own.
    A statement with settings (``{}``: none to change) only reads, so it may go to a read replica.
    ``ef_search_floor``: hnsw.ef_search at least this, unless the connection's own is higher
    (an HNSW scan returns at most ef_search rows). ``binary``: results in binary format.
    ``admin``: run it where row-level security does not restrict it (``Store.admin_connection``).
    """

    query: Query
    params: Any = None
    result: Callable[[Result], T] = rows  # type: ignore[assignment]
    settings: Mapping[str, str] | None = None
    ef_search_floor: int = 0
    binary: bool = False
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """Python work an operation needs between statements: ``function(*args)``."""

    function: Callable[..., T]
    args: tuple[Any, ...] = ()


Step = Statement[Any] | Call[Any]
Steps = Generator[Step, Any, T]
Operation = Statement[T] | Steps[T]


def steps(operation: Operation[T]) -> Steps[T]:
    """An operation as steps, for an operation that ends with another (``yield from steps(op)``)."""
    if type(operation) is Statement:
        return (yield operation)  # type: ignore[misc]
    return (yield from operation)  # type: ignore[misc]


def call(function: Callable[..., T], *args: Any) -> Steps[T]:
    """An operation that is Python work only (a COPY on a connection of its own, say): the sync
    runner calls it, the async one calls it in a thread."""
    return (yield Call(function, args))  # type: ignore[misc]
