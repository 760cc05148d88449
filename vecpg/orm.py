"""SQLAlchemy 2 helpers: an engine and sessions on vecpg's database, and mapped document classes.

    Doc = document_model("docs", 384)
    with session() as s:
        rows = s.scalars(select(Doc).order_by(Doc.embedding.cosine_distance(q)).limit(5)).all()

The tables are created by vecpg (``vecpg.create_collection``), never by ``metadata.create_all``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import HALFVEC, Vector
from sqlalchemy import DateTime, Engine, FetchedValue, Text, create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from .db.connection import sqlalchemy_url
from .db.embedded import application_url
from .storage import DEFAULT_STORAGE, check_storage

COLLECTION_COMMENT_PREFIX = "vecpg collection"


class Base(DeclarativeBase):
    """Declarative base for vecpg's document classes (pass your own to share metadata)."""


def engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine on vecpg's database (``VECPG_DATABASE_URL`` or the embedded server,
    as its application role, so that row-level security binds ORM sessions too)."""
    return create_engine(sqlalchemy_url(application_url(url)), **kwargs)


def session(url: str | None = None, bind: Engine | None = None) -> Session:
    """A new ORM session; use it as a context manager."""
    return sessionmaker(bind=bind or engine(url), expire_on_commit=False)()


def document_model(
    collection: str,
    dimension: int,
    base: type[DeclarativeBase] = Base,
    schema: str = "vecpg_data",
    class_name: str | None = None,
    storage: str = DEFAULT_STORAGE,
) -> type:
    """A mapped class for a collection table; ``meta`` maps the ``metadata`` column; ``storage``
    is the collection's (``"halfvec"``: the embedding column is ``HALFVEC``).

    Calling it twice for the same collection and base returns the same class.
    """
    registry = base.registry._class_registry
    name = class_name or "".join(part.title() for part in collection.split("_")) + "Document"
    existing = registry.get(name)
    if isinstance(existing, type):
        return existing

    namespace: dict[str, Any] = {
        "__tablename__": collection,
        "__table_args__": {
            "schema": schema,
            "comment": f"{COLLECTION_COMMENT_PREFIX} {collection}",
            "info": {"vecpg_collection": collection},
        },
        "__annotations__": {
            "id": Mapped[str],
            "title": Mapped[str | None],
            "content": Mapped[str],
            "embedding": Mapped[Any],
            "meta": Mapped[dict[str, Any]],
            "tenant_id": Mapped[str | None],
            "created_at": Mapped[datetime],
            "updated_at": Mapped[datetime],
        },
        "id": mapped_column(Text, primary_key=True, server_default=FetchedValue()),
        "title": mapped_column(Text, nullable=True),
        "content": mapped_column(Text, server_default=FetchedValue()),
        "embedding": mapped_column(HALFVEC(dimension) if check_storage(storage).name == "halfvec" else Vector(dimension),
                                   nullable=True),
        "meta": mapped_column("metadata", JSONB, server_default=FetchedValue()),
        # Left out of INSERTs when unset: the database fills in the transaction's tenant.
        "tenant_id": mapped_column(Text, nullable=True, server_default=FetchedValue()),
        "created_at": mapped_column(DateTime(timezone=True), server_default=FetchedValue()),
        "updated_at": mapped_column(DateTime(timezone=True), server_default=FetchedValue(),
                                    server_onupdate=FetchedValue()),
        "__repr__": lambda self: f"<{name} id={self.id!r} title={self.title!r}>",
    }
    return type(name, (base,), namespace)
