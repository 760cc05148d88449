"""Documents as vecpg writes and returns them, and the checks every write passes first."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from .errors import DimensionMismatch, InvalidArgument, InvalidDocument, InvalidVector

FIELDS = ("id", "title", "content", "metadata", "embedding", "tenant_id")


@dataclass
class Document:
    """One document of a collection."""

    content: str = ""
    id: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    tenant_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def text_to_embed(self) -> str:
        """Title and content together: what the collection's model embeds."""
        return f"{self.title} {self.content}".strip() if self.title else self.content


def check_vector(values: Any, dimension: int, what: str = "query vector") -> np.ndarray:
    """A float32 vector of the right length with only finite values, or a clear error."""
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidVector(f"{what} is not a vector of numbers: {exc}") from None
    if vector.ndim != 1:
        raise InvalidVector(f"{what} must be one-dimensional, got shape {vector.shape}")
    if vector.shape[0] != dimension:
        raise DimensionMismatch(f"{what} has {vector.shape[0]} dimensions, the collection holds {dimension}")
    if not np.isfinite(vector).all():
        raise InvalidVector(f"{what} contains NaN or infinite values")
    return vector


def _label(row: int, doc_id: Any) -> str:
    return f"row {row}" + (f" (id {doc_id!r})" if doc_id is not None else "")


def _text(value: Any, name: str, label: str, required: bool) -> str | None:
    if value is None:
        if required:
            return ""
        return None
    if not isinstance(value, str):
        raise InvalidDocument(f"{label}: {name} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidDocument(f"{label}: {name} contains a NUL byte, which PostgreSQL cannot store")
    return value


def to_document(item: Document | Mapping[str, Any], row: int) -> Document:
    """Check one input row (a Document or a mapping) and return it as a Document."""
    if isinstance(item, Document):
        raw: Mapping[str, Any] = item.__dict__
    elif isinstance(item, Mapping):
        raw = item
        unknown = set(raw) - set(FIELDS) - {"created_at", "updated_at"}
        if unknown:
            raise InvalidDocument(f"{_label(row, raw.get('id'))}: unknown field(s) {', '.join(sorted(unknown))}")
    else:
        raise InvalidDocument(f"row {row}: expected a Document or a mapping, got {type(item).__name__}")

    doc_id = raw.get("id")
    label = _label(row, doc_id)
    if doc_id is not None:
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            raise InvalidDocument(f"{label}: id must be a string")
        doc_id = _text(str(doc_id), "id", label, required=True)
        if not doc_id:
            raise InvalidDocument(f"{label}: id must not be empty")
    metadata = raw.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise InvalidDocument(f"{label}: metadata must be a JSON object, got {type(metadata).__name__}")
    try:
        encoded = json.dumps(metadata, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidDocument(f"{label}: metadata is not valid JSON: {exc}") from None
    if "\\u0000" in encoded:
        raise InvalidDocument(f"{label}: metadata contains a NUL character, which PostgreSQL cannot store")
    tenant = raw.get("tenant_id")
    return Document(
        id=doc_id,
        title=_text(raw.get("title"), "title", label, required=False),
        content=_text(raw.get("content"), "content", label, required=True) or "",
        metadata=dict(metadata),
        embedding=raw.get("embedding"),
        tenant_id=None if tenant is None else _text(str(tenant), "tenant_id", label, required=True),
    )


def prepare(
    items: Iterable[Document | Mapping[str, Any]],
    dimension: int,
    embed: Any,
    first_row: int = 0,
) -> list[Document]:
    """Validate a batch, fill in ids and missing embeddings; nothing is written yet.

    ``embed`` maps a list of texts to vectors, or is None when the collection has no model.
    """
    docs = [to_document(item, first_row + i) for i, item in enumerate(items)]
    missing = [i for i, d in enumerate(docs) if d.embedding is None]
    if missing:
        if embed is None:
            i = missing[0]
            raise InvalidDocument(
                f"{_label(first_row + i, docs[i].id)}: no embedding, and the collection has no model to compute one"
            )
        empty = [i for i in missing if not docs[i].text_to_embed().strip()]
        if empty:
            i = empty[0]
            raise InvalidDocument(f"{_label(first_row + i, docs[i].id)}: no embedding and no text to embed")
        vectors = embed([docs[i].text_to_embed() for i in missing])
        for i, vector in zip(missing, vectors):
            docs[i].embedding = vector
    for i, doc in enumerate(docs):
        label = _label(first_row + i, doc.id)
        doc.embedding = check_vector(doc.embedding, dimension, what=f"{label}: embedding")
        if doc.id is None:
            doc.id = str(uuid.uuid4())
    return docs


def check_k(k: int) -> int:
    """k must be an integer from 1 to 1000."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
        raise InvalidArgument(f"k must be an integer between 1 and 1000, got {k!r}")
    return k


def check_ids(ids: Sequence[str] | str) -> list[str]:
    """A list of ids (a single string is one id, not its characters)."""
    if isinstance(ids, str):
        return [ids]
    out = [str(i) for i in ids]
    if any("\x00" in i for i in out):
        raise InvalidArgument("ids must not contain NUL bytes")
    return out


