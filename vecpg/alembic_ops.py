"""Alembic support: vecpg operations for users' own revisions, and an autogenerate filter.

In a revision::

    op.create_collection("docs", dimension=384, model="sentence-transformers/all-MiniLM-L6-v2")
    op.create_vector_index("docs", "hnsw", m=16, ef_construction=64)

and in ``env.py``: ``context.configure(..., include_object=vecpg.alembic_ops.include_object)`` so
that ``alembic revision --autogenerate`` neither drops nor alters vecpg's tables and indexes.
"""

from __future__ import annotations

import json
from typing import Any

from alembic.operations import MigrateOperation, Operations
from sqlalchemy import text

from .db.migrate import VERSION_TABLE
from .orm import COLLECTION_COMMENT_PREFIX
from .storage import DEFAULT_STORAGE

VECPG_SCHEMAS = frozenset({"vecpg", "vecpg_data"})


@Operations.register_operation("create_collection")
class CreateCollectionOp(MigrateOperation):
    """``op.create_collection(name, dimension, distance, model, language, schema, storage)``."""

    def __init__(
        self,
        name: str,
        dimension: int,
        distance: str = "cosine",
        model: str | None = None,
        language: str = "english",
        schema: str = "vecpg_data",
        storage: str = DEFAULT_STORAGE,
    ) -> None:
        self.name, self.dimension, self.distance = name, dimension, distance
        self.model, self.language, self.schema, self.storage = model, language, schema, storage

    @classmethod
    def create_collection(cls, operations: Operations, name: str, dimension: int, **kw: Any) -> None:
        """Create a collection table and record it in vecpg's catalog."""
        operations.invoke(cls(name, dimension, **kw))

    def reverse(self) -> DropCollectionOp:
        return DropCollectionOp(self.name, self)


@Operations.register_operation("drop_collection")
class DropCollectionOp(MigrateOperation):
    """``op.drop_collection(name)``: drops the table and its catalog row."""

    def __init__(self, name: str, created_by: CreateCollectionOp | None = None) -> None:
        self.name, self.created_by = name, created_by

    @classmethod
    def drop_collection(cls, operations: Operations, name: str) -> None:
        """Drop a collection and its documents."""
        operations.invoke(cls(name))

    def reverse(self) -> CreateCollectionOp:
        if self.created_by is None:
            raise ValueError(f"cannot reverse drop_collection({self.name!r}): its definition is unknown")
        return self.created_by


@Operations.register_operation("create_vector_index")
class CreateVectorIndexOp(MigrateOperation):
    """``op.create_vector_index(collection, method, **params)``."""

    def __init__(self, collection: str, method: str = "hnsw", **params: Any) -> None:
        self.collection, self.method, self.params = collection, method, params

    @classmethod
    def create_vector_index(cls, operations: Operations, collection: str, method: str = "hnsw", **params: Any) -> None:
        """Build the collection's HNSW or IVFFlat index (replacing any other)."""
        operations.invoke(cls(collection, method, **params))

    def reverse(self) -> DropVectorIndexOp:
        return DropVectorIndexOp(self.collection)


@Operations.register_operation("drop_vector_index")
class DropVectorIndexOp(MigrateOperation):
    """``op.drop_vector_index(collection)``."""

    def __init__(self, collection: str) -> None:
        self.collection = collection

    @classmethod
    def drop_vector_index(cls, operations: Operations, collection: str) -> None:
        """Drop the collection's vector index."""
        operations.invoke(cls(collection))


@Operations.implementation_for(CreateCollectionOp)
def _create_collection(operations: Operations, op: CreateCollectionOp) -> None:
    operations.execute(
        text(
            "SELECT vecpg.create_collection(:name, :dimension, :distance, :model, "
            "CAST(:language AS regconfig), CAST(:schema AS name), :storage)"
        ).bindparams(
            name=op.name, dimension=op.dimension, distance=op.distance,
            model=op.model, language=op.language, schema=op.schema, storage=op.storage,
        )
    )


@Operations.implementation_for(DropCollectionOp)
def _drop_collection(operations: Operations, op: DropCollectionOp) -> None:
    operations.execute(text("SELECT vecpg.drop_collection(:name)").bindparams(name=op.name))


@Operations.implementation_for(CreateVectorIndexOp)
def _create_vector_index(operations: Operations, op: CreateVectorIndexOp) -> None:
    operations.execute(
        text("SELECT vecpg.create_index(:collection, :method, CAST(:params AS jsonb))").bindparams(
            collection=op.collection, method=op.method, params=json.dumps(op.params)
        )
    )


@Operations.implementation_for(DropVectorIndexOp)
def _drop_vector_index(operations: Operations, op: DropVectorIndexOp) -> None:
    operations.execute(text("SELECT vecpg.drop_index(:collection)").bindparams(collection=op.collection))


def _is_vecpg_table(table: Any) -> bool:
    if table is None:
        return False
    return (
        table.schema in VECPG_SCHEMAS
        or table.name == VERSION_TABLE
        or "vecpg_collection" in table.info
        or (table.comment or "").startswith(COLLECTION_COMMENT_PREFIX)
    )


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook that leaves vecpg's tables, indexes and columns alone."""
    if type_ == "table":
        return not (_is_vecpg_table(obj) or _is_vecpg_table(compare_to))
    table = getattr(obj, "table", None)
    return not _is_vecpg_table(table)
