"""The passages of retrieved documents: for a chunked collection, each document's chunks nearest
to the question, merged where they overlap (``vecpg.rag_passages``, sql/idempotent/15_rag.sql).

A long document is found by its whole text but only a few of its chunks answer the question:
the context takes those (``per_document`` of them, merged into passages in document order)
instead of the document's first window or its single best chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgument
from ..ops.statement import Result, Statement

SEPARATOR = " … "  # between passages of one document that are not next to each other
MAX_PER_DOCUMENT = 100


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of a document: ``number`` in document order, ``relevance`` the rank of its best
    chunk within the document (1 = nearest to the question)."""

    number: int
    text: str
    relevance: int = 1


def check_per_document(per_document: object) -> int:
    if isinstance(per_document, bool) or not isinstance(per_document, int) \
            or not 1 <= per_document <= MAX_PER_DOCUMENT:
        raise InvalidArgument(f"per_document must be an integer from 1 to {MAX_PER_DOCUMENT}, got {per_document!r}")
    return per_document


def _by_document(result: Result) -> dict[str, list[Passage]]:
    found: dict[str, list[Passage]] = {}
    for id_, number, text, relevance in result.rows:
        found.setdefault(id_, []).append(Passage(number, text, relevance))
    for passages in found.values():
        passages.sort(key=lambda p: p.number)
    return found


def passages_query(collection: str, vector: np.ndarray | None, ids: Sequence[str],
                   per_document: int = 3) -> Statement[dict[str, list[Passage]]]:
    """Each document's passages, in document order, by id (a document without chunks: its
    content); ``vector`` None takes each chunked document's first chunks."""
    check_per_document(per_document)
    return Statement("SELECT id, passage_no, passage, relevance FROM vecpg.rag_passages(%s, %s, %s::text[], %s)",
                     (collection, vector, list(ids), per_document), _by_document)


def joined(passages: Sequence[Passage]) -> str:
    """Passages as one text, in document order."""
    return SEPARATOR.join(p.text for p in sorted(passages, key=lambda p: p.number))
