"""What search needs of a collection and its store, and nothing more (so it imports neither)."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from ..filters import FilterCompiler
from ..ops.statement import Operation
from .statements import Statements

T = TypeVar("T")


class Database(Protocol):
    """A store as search sees it: the tenant acted for, pgvector's place, filters, a runner."""

    vector_schema: str
    pgvector_version: tuple[int, ...]
    filters: FilterCompiler

    @property
    def current_tenant(self) -> str | None: ...

    def run(self, operation: Operation[T]) -> T: ...


class SearchTarget(Protocol):
    """A collection as search sees it; ``statements`` are search's own, kept per collection."""

    statements: Statements

    @property
    def name(self) -> str: ...

    @property
    def distance(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def quantization(self) -> str | None: ...

    @property
    def storage(self) -> str: ...

    @property
    def search_defaults(self) -> dict[str, Any]: ...

    @property
    def partitioned(self) -> bool: ...

    @property
    def tenant_scope(self) -> str: ...

    @property
    def store(self) -> Database: ...
