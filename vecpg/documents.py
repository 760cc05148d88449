"""Documents as vecpg writes and returns them, and the checks every write passes first.

Size limits, in bytes of UTF-8, checked before anything is written (a batch with one row beyond
them is refused whole, with InvalidDocument naming the row and the limit):

- ``id``: at most ``ID_MAX_BYTES`` (512). The id is the primary key, and a btree index row holds
  at most 2,704 bytes: alone an id breaks at 2,693 bytes, but the keyword index's postings are
  indexed on (tenant, lexeme) with the id beside them, where a lexeme may take 2,046 bytes, and
  there id and tenant together break above ~624 bytes.
- ``tenant_id``: at most ``TENANT_MAX_BYTES`` (64), for the same index (512 + 64 leaves ~48 bytes
  to spare); the keyword statistics' key (collection, tenant, lexeme) breaks at ~576.
- ``title``: at most ``TITLE_MAX_BYTES`` (64 KiB). Nothing indexes the title on its own; it feeds
  the full-text column, whose tsvector holds at most 1 MB of distinct lexemes for title and
  content together: a title at the limit makes at most ~112 KB of them (measured worst case,
  distinct hyphenated compounds: 1.7 bytes of lexemes per byte), so it never fills it alone.
- ``metadata``: at most ``METADATA_MAX_BYTES`` (1 MiB) of JSON text as ``json.dumps`` writes it
  (non-ASCII characters as ``\\uXXXX`` escapes). PostgreSQL's jsonb breaks at 256 MiB; the GIN
  index (jsonb_path_ops) stores hashes, so long keys or values do not break it.
- ``content``: no limit of its own. Prose of any length is fine (20 MB measured), but a document
  whose title and content hold over 1 MB of *distinct* words (random tokens, encoded data) is
  refused by PostgreSQL: ValueRejected, "string is too long for tsvector".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from psycopg.types.json import Jsonb

from .errors import NO_MODEL_FIX, DimensionMismatch, InvalidArgument, InvalidDocument, InvalidVector

FIELDS = ("id", "title", "content", "metadata", "embedding", "tenant_id")

# The size limits of a document's fields, in bytes of UTF-8 (see the module docstring for why).
ID_MAX_BYTES = 512
TENANT_MAX_BYTES = 64
TITLE_MAX_BYTES = 64 * 1024
METADATA_MAX_BYTES = 1024 * 1024
_ACCEPTED = frozenset(FIELDS) | {"created_at", "updated_at", "expires_at"}


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
    # When the document stops being returned by any read (a purge deletes it later): a datetime
    # with a time zone, or ISO 8601 text with one. None: never, or the collection's TTL after
    # each write (Collection.set_ttl).
    expires_at: datetime | None = None

    def __repr__(self) -> str:
        """Fields that are set, the content shortened, the embedding as its dimension only:
        ``Document(id='1', content='...', embedding=<384 floats>)``."""
        parts = [f"id={self.id!r}"] if self.id is not None else []
        if self.title is not None:
            parts.append(f"title={short_repr(self.title)}")
        if self.content:
            parts.append(f"content={short_repr(self.content)}")
        if self.metadata:
            parts.append(f"metadata={self.metadata!r}")
        if self.embedding is not None:
            parts.append(f"embedding=<{_dimension(self.embedding)} floats>")
        for name in ("tenant_id", "created_at", "updated_at", "expires_at"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={value!r}")
        return f"Document({', '.join(parts)})"


def _dimension(vector: Any) -> int | str:
    """The number of components of a numpy array, a sequence or a pgvector Vector."""
    if hasattr(vector, "dimensions"):
        return int(vector.dimensions())
    try:
        return int(np.size(vector))
    except (TypeError, ValueError):  # pragma: no cover - not a vector; the write refuses it
        return "?"


SHORT = 80  # characters of a text a repr shows


def short_repr(text: str, limit: int = SHORT) -> str:
    """repr() of a text cut to ``limit`` characters, the cut marked with an ellipsis."""
    return repr(text if len(text) <= limit else text[:limit - 1] + "\u2026")


def check_vector(values: Any, dimension: int, what: str = "query vector", largest: float | None = None) -> np.ndarray:
    """A float32 vector of the right length with only finite values (of at most ``largest`` in
    magnitude, the range of the collection's storage, when given), or a clear error."""
    try:
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below
            vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidVector(f"{what} is not a vector of numbers: {exc}") from None
    if vector.ndim != 1:
        raise InvalidVector(f"{what} must be one-dimensional, got shape {vector.shape}")
    if vector.shape[0] != dimension:
        raise DimensionMismatch(f"{what} has {vector.shape[0]} dimensions, the collection holds {dimension}")
    if not np.isfinite(vector).all():
        raise InvalidVector(f"{what} contains NaN or infinite values")
    if largest is not None and vector.size:
        peak = float(np.abs(vector).max())
        if peak > largest:
            raise InvalidVector(_beyond(what, peak, largest))
    return vector


def _beyond(what: str, value: float, largest: float) -> str:
    return (f"{what} has a value of magnitude {value:g}, beyond {largest:g}, the largest the collection's "
            "halfvec storage holds (half precision)")


def _label(row: int, doc_id: Any) -> str:
    if doc_id is None:
        return f"row {row}"
    return f"row {row} (id {short_repr(doc_id, 40) if isinstance(doc_id, str) else repr(doc_id)})"


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _too_long(value: str, limit: int, name: str, row: int, doc_id: Any) -> InvalidDocument | None:
    """InvalidDocument when ``value`` takes more than ``limit`` bytes of UTF-8. Called only for
    values of more than limit / 4 characters: shorter ones cannot exceed it."""
    size = _utf8_length(value)
    if size <= limit:
        return None
    return InvalidDocument(f"{_label(row, doc_id)}: {name} is {size:,} bytes of UTF-8, beyond the limit of "
                           f"{limit:,} bytes for a document's {name}")


class Row(NamedTuple):
    """A checked document as it is written: metadata already encoded as JSON text."""

    id: str
    title: str | None
    content: str
    embedding: np.ndarray | None  # None only when the row is left to the embedding queue
    metadata: Jsonb
    tenant_id: str | None
    expires_at: datetime | None = None


def _identity(text: str) -> str:
    return text


_EMPTY_JSONB = Jsonb("{}", dumps=_identity)

# A checked input row, as a plain tuple (bulk loads build one per document, so it stays cheap):
# (id, title, content, metadata as JSON text, embedding or None, tenant_id, expires_at).
_Checked = tuple[Any, ...]
_ID, _TITLE, _CONTENT, _METADATA, _EMBEDDING, _TENANT, _EXPIRES = range(7)


def embedding_text(title: str | None, content: str) -> str:
    """Title and content together: what the collection's model embeds (and a reranker reads),
    character for character what SQL's vecpg.embedding_text gives the embedding workers."""
    return f"{title} {content}".strip(" ") if title else content


def _text_to_embed(row: _Checked) -> str:
    return embedding_text(row[_TITLE], row[_CONTENT])


def _bad_text(value: Any, name: str, row: int, doc_id: Any) -> InvalidDocument:
    label = _label(row, doc_id)
    if not isinstance(value, str):
        return InvalidDocument(f"{label}: {name} must be a string, got {type(value).__name__}")
    if not value:
        return InvalidDocument(f"{label}: {name} must not be empty")
    return InvalidDocument(f"{label}: {name} contains a NUL byte, which PostgreSQL cannot store")


def _check_row(item: Document | Mapping[str, Any], row: int) -> _Checked:
    """One input row (a Document or a mapping), checked. The common case stays cheap: bulk
    loads pass every row through here."""
    if type(item) is dict or isinstance(item, Mapping):
        if not item.keys() <= _ACCEPTED:
            unknown = ", ".join(sorted(map(str, item.keys() - _ACCEPTED)))
            raise InvalidDocument(f"{_label(row, item.get('id'))}: unknown field(s) {unknown}")
        get = item.get
    elif isinstance(item, Document):
        get = item.__dict__.get
    else:
        raise InvalidDocument(f"row {row}: expected a Document or a mapping, got {type(item).__name__}")

    doc_id = get("id")
    if doc_id is not None:
        if type(doc_id) is int:
            doc_id = str(doc_id)
        if type(doc_id) is not str or not doc_id or "\x00" in doc_id:
            raise _bad_text(doc_id, "id", row, doc_id)
        if len(doc_id) > ID_MAX_BYTES // 4 and (error := _too_long(doc_id, ID_MAX_BYTES, "id", row, doc_id)):
            raise error
    title = get("title")
    if title is not None:
        if type(title) is not str or "\x00" in title:
            raise _bad_text(title, "title", row, doc_id)
        if len(title) > TITLE_MAX_BYTES // 4 and (error := _too_long(title, TITLE_MAX_BYTES, "title", row, doc_id)):
            raise error
    content = get("content")
    if content is None:
        content = ""
    elif type(content) is not str or "\x00" in content:
        raise _bad_text(content, "content", row, doc_id)
    tenant = get("tenant_id")
    if tenant is not None:
        tenant = str(tenant)
        if not tenant or "\x00" in tenant:
            raise _bad_text(tenant, "tenant_id", row, doc_id)
        if len(tenant) > TENANT_MAX_BYTES // 4 and (
                error := _too_long(tenant, TENANT_MAX_BYTES, "tenant_id", row, doc_id)):
            raise error

    metadata = get("metadata")
    if metadata is None or (type(metadata) is dict and not metadata):
        encoded = "{}"
    else:
        if not isinstance(metadata, Mapping):
            raise InvalidDocument(
                f"{_label(row, doc_id)}: metadata must be a JSON object, got {type(metadata).__name__}"
            )
        try:
            encoded = json.dumps(metadata, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidDocument(f"{_label(row, doc_id)}: metadata is not valid JSON: {exc}") from None
        if "\\u0000" in encoded:
            raise InvalidDocument(f"{_label(row, doc_id)}: metadata contains a NUL character, which PostgreSQL cannot store")
        if len(encoded) > METADATA_MAX_BYTES:  # json.dumps escapes non-ASCII: characters are bytes
            raise InvalidDocument(f"{_label(row, doc_id)}: metadata is {len(encoded):,} bytes of JSON, beyond the "
                                  f"limit of {METADATA_MAX_BYTES:,} bytes for a document's metadata")
    expires = get("expires_at")
    if expires is not None:
        expires = _expiry(expires, row, doc_id)
    return (doc_id, title, content, encoded, get("embedding"), tenant, expires)


def _expiry(value: Any, row: int, doc_id: Any) -> datetime:
    """An expiry as an aware datetime: one without a time zone would be read in the server's, so
    it is refused rather than guessed."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidDocument(f"{_label(row, doc_id)}: expires_at {short_repr(value, 40)} is not an ISO 8601 "
                                  "time") from None
    if not isinstance(value, datetime):
        raise InvalidDocument(f"{_label(row, doc_id)}: expires_at must be a datetime or ISO 8601 text, got "
                              f"{type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidDocument(f"{_label(row, doc_id)}: expires_at {value.isoformat()} has no time zone: give one "
                              "(datetime.now(timezone.utc) + timedelta(...), or '...+00:00')")
    return value


def prepare(
    items: Iterable[Document | Mapping[str, Any]],
    dimension: int,
    embed: Callable[[list[str]], Sequence[np.ndarray]] | None,
    first_row: int = 0,
    tenant: str | None = None,
    queue: bool = False,
    largest: float | None = None,
) -> list[Row]:
    """Validate a batch, fill in ids, missing embeddings and the tenant; nothing is written yet.

    ``embed`` maps a list of texts to vectors, or is None when the collection has no model.
    ``tenant`` is the tenant the writer acts for: rows that name none belong to it.
    ``queue``: rows without an embedding keep none, for the collection's embedding queue to take
    (its triggers queue them when they are written); ``embed`` is not called.
    ``largest``: the largest magnitude a component may have (halfvec storage: 65504), else any
    finite float32; checked here so that a batch beyond it is refused before anything is sent.
    """
    if tenant is not None and len(tenant) > TENANT_MAX_BYTES // 4 and _utf8_length(tenant) > TENANT_MAX_BYTES:
        raise InvalidArgument(f"tenant {short_repr(tenant, 40)} is {_utf8_length(tenant):,} bytes of UTF-8, beyond "
                              f"the limit of {TENANT_MAX_BYTES} bytes for a tenant that writes documents")
    checked = [_check_row(item, first_row + i) for i, item in enumerate(items)]
    vectors = [c[_EMBEDDING] for c in checked]
    missing = [i for i, v in enumerate(vectors) if v is None]
    if missing:
        if embed is None and not queue:
            i = missing[0]
            raise InvalidDocument(
                f"{_label(first_row + i, checked[i][_ID])}: no embedding, and the collection has no model to compute one: "
                f"{NO_MODEL_FIX}"
            )
        texts = [_text_to_embed(checked[i]) for i in missing]
        for i, text in zip(missing, texts):
            if not text.strip():
                raise InvalidDocument(f"{_label(first_row + i, checked[i][_ID])}: no embedding and no text to embed")
        if embed is not None and not queue:
            for i, vector in zip(missing, embed(texts)):
                vectors[i] = vector
    embeddings: Sequence[np.ndarray | None] | np.ndarray  # a matrix when every row has one
    if queue and missing:
        # Rows that bring a vector are checked one by one: a queued load rarely has any.
        embeddings = [None if v is None else check_vector(v, dimension, f"{_label(first_row + i, checked[i][_ID])}: embedding",
                                                          largest)
                      for i, v in enumerate(vectors)]
    else:
        embeddings = _check_embeddings(vectors, dimension, checked, first_row, largest)
    return [
        Row(c[_ID] or str(uuid.uuid4()), c[_TITLE], c[_CONTENT], embeddings[i],
            _EMPTY_JSONB if c[_METADATA] == "{}" else Jsonb(c[_METADATA], dumps=_identity),
            c[_TENANT] if c[_TENANT] is not None else tenant, c[_EXPIRES])
        for i, c in enumerate(checked)
    ]


def _check_embeddings(vectors: list[Any], dimension: int, docs: list[_Checked], first_row: int,
                      largest: float | None = None) -> np.ndarray:
    """All vectors of a batch as one float32 matrix, checked at once; errors name the first bad row."""
    if not vectors:  # an empty batch (upsert([])): nothing to check, nothing to write
        return np.empty((0, dimension), dtype=np.float32)
    try:
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below
            matrix = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.ndim != 2 or matrix.shape[1] != dimension:
        # Ragged or malformed: find the culprit row by row.
        for i, vector in enumerate(vectors):
            check_vector(vector, dimension, what=f"{_label(first_row + i, docs[i][_ID])}: embedding")
        raise InvalidVector("embeddings must be vectors of numbers")  # pragma: no cover - found above
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        raise InvalidVector(f"{_label(first_row + i, docs[i][_ID])}: embedding contains NaN or infinite values")
    if largest is not None and matrix.size:
        peaks = np.abs(matrix).max(axis=1)
        if (peaks > largest).any():
            i = int(np.argmax(peaks > largest))
            raise InvalidVector(_beyond(f"{_label(first_row + i, docs[i][_ID])}: embedding", float(peaks[i]), largest))
    return matrix


def check_text(value: Any, what: str) -> str:
    """A string PostgreSQL can hold (no NUL bytes), or InvalidArgument naming what it is."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string, got {type(value).__name__}")
    if "\x00" in value:
        raise InvalidArgument(f"{what} contains a NUL byte, which PostgreSQL cannot store")
    return value


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


