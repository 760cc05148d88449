"""What bench_frameworks.py shares with bench/framework_peers.py, the runner of the peer
frameworks in their own virtualenvs: the texts stored beside the vectors, the batch size and the
search setting every system gets.

Like suite_base (whose adapter interface and timed loops both sides use), it imports no vecpg:
framework_peers.py imports it in each peer's virtualenv.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Documents go to each framework's write call this many at a time, as a user's loop would.
BATCH = 1000
# hnsw.ef_search for every system: pgvector's default, and vecpg's search default.
EF_SEARCH = 40
TABLE = "bench_fw"  # prefix of every table and collection this benchmark makes

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gu", "ri", "zo", "ba", "fe", "hu")


def vocabulary(size: int = 4096) -> list[str]:
    """Made-up words of three syllables (16^3 = 4096 of them): text for the keyword index vecpg
    keeps beside the vectors, with no model involved."""
    s = _SYLLABLES
    return [s[i // 256] + s[i // 16 % 16] + s[i % 16] for i in range(size)]


def texts(n: int, words: int = 24, seed: int = 3) -> list[str]:
    """``n`` texts of ``words`` made-up words each (about 170 characters), the same on every run
    and in every process."""
    vocab = np.array(vocabulary())
    picks = np.random.default_rng(seed).integers(0, len(vocab), size=(n, words))
    return [" ".join(row) for row in vocab[picks]]


def row_of(doc_id: str) -> int:
    """The row number behind an id: ``str(i)``, or the UUID made from it by ``uuid_of``."""
    return int(doc_id.replace("-", ""), 16) if "-" in doc_id else int(doc_id)


def uuid_of(i: int) -> str:
    """Row ``i`` as a UUID, for stores whose ids must be UUIDs (langchain-postgres' PGVectorStore)."""
    h = f"{i:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def given_embeddings(lookup: dict[str, list[float]]) -> Any:
    """A LangChain ``Embeddings`` that embeds nothing: each text's precomputed vector is looked up
    in ``lookup`` (filled by the caller before each write, and with the queries)."""
    from langchain_core.embeddings import Embeddings

    class Given(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [lookup[t] for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return lookup[text]

    return Given()
