"""Vector index settings (HNSW, IVFFlat) and what the database reports about built indexes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# What an index may be built on: the vectors ("none"), their half-precision copies (half the
# size, up to 4,000 dimensions) or their sign bits ("binary": 1/32 of the size, searched by
# Hamming distance with exact re-ranking). None: the vectors up to 2,000 dimensions (pgvector's
# limit), halfvec up to 4,000, binary above. A collection that stores halfvec
# (create_collection(storage="halfvec")) indexes its column directly up to 4,000 dimensions:
# "halfvec" asked of it builds that same index (its values are half precision already, there is
# nothing to copy), recorded as no quantization; "binary" works on it as on vectors.
QUANTIZATIONS = ("none", "halfvec", "binary")


def _params(spec: Any) -> dict[str, Any]:
    return {name: value for name, value in asdict(spec).items() if value is not None}


@dataclass(frozen=True)
class HNSW:
    """HNSW graph index: better speed/recall trade-off, slower to build. pgvector's defaults."""

    m: int = 16
    ef_construction: int = 64
    quantization: str | None = None
    method = "hnsw"

    def params(self) -> dict[str, Any]:
        """Parameters as ``vecpg.create_index`` takes them."""
        return _params(self)


@dataclass(frozen=True)
class IVFFlat:
    """IVFFlat index; ``lists=None`` lets the database pick rows/1000 (sqrt(rows) above 1M rows)."""

    lists: int | None = None
    quantization: str | None = None
    method = "ivfflat"

    def params(self) -> dict[str, Any]:
        """Parameters as ``vecpg.create_index`` takes them."""
        return _params(self)


IndexSpec = HNSW | IVFFlat


def index_spec(method: str, **params: Any) -> IndexSpec:
    """Settings from a method name and keyword parameters, as the CLI receives them."""
    kinds: dict[str, type[HNSW | IVFFlat]] = {"hnsw": HNSW, "ivfflat": IVFFlat}
    kind = kinds.get(method.lower())
    if kind is None:
        from ..errors import InvalidArgument

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


@dataclass(frozen=True)
class Prewarmed:
    """One part of a collection read into shared buffers by ``Collection.prewarm()``: its size
    in pages, the buffer accesses of the scan that read it (the index walk visits pages more
    than once), and how many pages were not in shared buffers before."""

    part: str  # "table" or "vector index"
    pages: int
    accesses: int
    pages_read: int
