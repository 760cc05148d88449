"""Alembic operations for users' own revisions, and an autogenerate that leaves vecpg alone."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, Integer, Table, create_engine

import vecpg
from vecpg import alembic_ops, orm
from vecpg.db.connection import sqlalchemy_url


def test_alembic_operations_create_and_drop_collections(db_url: str) -> None:
    engine = create_engine(sqlalchemy_url(db_url))
    with engine.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        op.create_collection("notes", 3, distance="l2", model=None)
        op.create_vector_index("notes", "hnsw", m=8, ef_construction=32)
    with vecpg.connect(db_url) as store:
        notes = store.collection("notes")
        assert notes.distance == "l2"
        assert "m='8'" in notes.indexes()[0].definition
    with engine.begin() as connection:  # the downgrade
        op = Operations(MigrationContext.configure(connection))
        op.drop_vector_index("notes")
        op.drop_collection("notes")
    with vecpg.connect(db_url) as store:
        assert store.list_collections() == []
    assert alembic_ops.CreateCollectionOp("a", 3).reverse().name == "a"
    engine.dispose()


def test_autogenerate_leaves_vecpg_objects_alone(store: vecpg.Store, db_url: str) -> None:
    store.create_collection("mapped", dimension=3)
    store.create_collection("unmapped", dimension=3)
    with store.connection() as conn:
        conn.execute("SELECT vecpg.create_collection('in_public', 3, schema_name => 'public')")
        conn.execute("CREATE TABLE public.app_table (id int PRIMARY KEY)")
    store.collection("mapped").create_index()

    class Base(orm.DeclarativeBase):
        pass

    orm.document_model("mapped", 3, base=Base)
    Table("app_table", Base.metadata, Column("id", Integer, primary_key=True))

    engine = create_engine(sqlalchemy_url(db_url))
    with engine.connect() as connection:
        opts = {"include_object": alembic_ops.include_object, "include_schemas": True}
        assert compare_metadata(MigrationContext.configure(connection, opts=opts), Base.metadata) == []
        # Without the hook autogenerate would drop vecpg's tables: the hook is what protects them.
        unprotected = compare_metadata(MigrationContext.configure(connection, opts={"include_schemas": True}),
                                       Base.metadata)
        assert any(diff[0] == "remove_table" for diff in unprotected)
    engine.dispose()
