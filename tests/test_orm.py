"""SQLAlchemy models over collection tables."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

import vecpg
from vecpg import orm


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
