"""Rerankers: a second look at a first stage's candidates, all behind one protocol
(``protocol.Reranker``: a query and candidates in, one score per candidate out).

``apply.rerank`` keeps the best k by a reranker's scores, beside the first stage's ranks and
scores; ``cross_encoder`` runs a sentence-transformers ``CrossEncoder`` from a local directory;
``get_reranker`` turns a name or a path into a reranker. Heavy libraries (torch,
sentence-transformers) load only when a model is.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InvalidArgument
from .apply import rerank
from .cross_encoder import CrossEncoderReranker
from .protocol import Reranker, candidate_text

# The rerankers that ship with vecpg, by name (see docs/reranking.md for why there are not more).
BUILTINS: dict[str, type] = {}


def get_reranker(spec: str | Path | Reranker) -> Reranker:
    """A reranker from a built-in name or the path of a directory holding a cross-encoder; a
    reranker object is returned as it is. InvalidArgument for anything else."""
    if isinstance(spec, Reranker) and not isinstance(spec, (str, Path)):
        return spec
    if isinstance(spec, str) and spec in BUILTINS:
        built: Reranker = BUILTINS[spec]()
        return built
    if isinstance(spec, (str, Path)) and (Path(spec).expanduser().exists() or "/" in str(spec)):
        return CrossEncoderReranker(spec)
    names = ", ".join(BUILTINS) or "none ship with this version"
    raise InvalidArgument(f"unknown reranker {spec!r}: give a built-in name ({names}), the path of a directory "
                          "holding a cross-encoder, or an object with name and score(query, candidates)")


__all__ = ["BUILTINS", "CrossEncoderReranker", "Reranker", "candidate_text", "get_reranker", "rerank"]
