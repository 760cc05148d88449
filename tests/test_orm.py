"""SQLAlchemy models over collection tables, and Alembic operations for users' own revisions."""

from __future__ import annotations

import numpy as np
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, Integer, Table, create_engine, select

import vecpg
from vecpg import alembic_ops, orm
from vecpg.db import sqlalchemy_url


def test_query_a_collection_with_the_orm(store: vecpg.Store, db_url: str) -> None:
    coll = store.create_collection("items", dimension=3)
    coll.upsert([{"id": "x", "content": "x", "embedding": [1, 0, 0]}, {"id": "y", "content": "y", "embedding": [0, 1, 0]}])

    Item = orm.document_model("items", 3)
    assert orm.document_model("items", 3) is Item
    with orm.session(db_url) as s:
        nearest = s.scalars(select(Item).order_by(Item.embedding.cosine_distance([0.9, 0.1, 0])).limit(1)).one()
        assert nearest.id == "x"
        s.add(Item(content="added by the ORM", embedding=np.array([0, 0, 1]), meta={"via": "orm"}))
        s.commit()
    assert coll.count({"via": "orm"}) == 1
    hit = coll.search([0, 0, 1], k=1)[0]
    assert hit.content == "added by the ORM"


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
