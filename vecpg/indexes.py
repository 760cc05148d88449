"""Vector index settings (HNSW, IVFFlat) and what the database reports about built indexes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class HNSW:
    """HNSW graph index: better speed/recall trade-off, slower to build. pgvector's defaults."""

    m: int = 16
    ef_construction: int = 64
    method = "hnsw"

    def params(self) -> dict[str, Any]:
        """Parameters as ``vecpg.create_index`` takes them."""
        return asdict(self)


@dataclass(frozen=True)
class IVFFlat:
    """IVFFlat index; ``lists=None`` lets the database pick rows/1000 (sqrt(rows) above 1M rows)."""

    lists: int | None = None
    method = "ivfflat"

    def params(self) -> dict[str, Any]:
        """Parameters as ``vecpg.create_index`` takes them."""
        return {} if self.lists is None else {"lists": self.lists}


IndexSpec = HNSW | IVFFlat


def index_spec(method: str, **params: Any) -> IndexSpec:
    """Settings from a method name and keyword parameters, as the CLI receives them."""
    kinds: dict[str, type[HNSW | IVFFlat]] = {"hnsw": HNSW, "ivfflat": IVFFlat}
    kind = kinds.get(method.lower())
    if kind is None:
        from .errors import InvalidArgument

        raise InvalidArgument(f"unknown index method {method!r}: use hnsw or ivfflat")
    return kind(**{k: v for k, v in params.items() if v is not None})


@dataclass(frozen=True)
class IndexInfo:
    """A vector index. ``valid`` is False while a concurrent build runs and after one failed:
    searches do not use it (writes still maintain it); ``rebuild_index()`` or a new
    ``create_index()`` replaces it."""

    name: str
    method: str
    definition: str
    size_bytes: int
    valid: bool = True
