"""Runs one peer framework of bench_frameworks.py in that framework's own virtualenv:
langchain-postgres' ``PGVectorStore``, pgvector-haystack's ``PgvectorDocumentStore`` or
llama-index-vector-stores-postgres' ``PGVectorStore``, each through its own interface.

bench_frameworks.py starts it as a child process (bench_suite.PeerProcess, ``script`` this file)
with the python of the framework's venv; the request protocol, the timed loops and the reply are
peer_runner.py's (this module adds its adapters to ``peer_runner.PEERS`` and calls its ``main``).
It imports no vecpg. Every adapter: ``load`` writes the rows through the framework's write call
(``BATCH`` documents a call, each with its text, its precomputed vector and the suite's
metadata), without a vector index; ``build`` makes the HNSW index (m 16, ef_construction 64)
the way the framework offers; ``search`` asks the framework for the k nearest by vector with
``hnsw.ef_search`` = ``param`` and returns row numbers.

``framework_peers.py --versions`` prints the versions of the packages that matter, as JSON.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
import peer_runner
import psycopg
from frameworks_base import BATCH, TABLE, given_embeddings, row_of, texts, uuid_of
from suite_base import EF_CONSTRUCTION, Adapter, M, batches, metadata_of, pg_settle, pg_sizes


class LangchainPG(Adapter):
    """langchain-postgres' ``PGVectorStore`` (the v2 API: ``PGEngine`` + ``init_vectorstore_table``),
    its default table layout (UUID ids, metadata in one JSON column), psycopg 3 async underneath."""

    label = "langchain-postgres PGVectorStore"
    table = f"{TABLE}_lcpg"

    def __init__(self, ctx: Any, ds: Any) -> None:
        super().__init__(ctx, ds)
        from langchain_postgres import PGEngine

        self.vectors: dict[str, list[float]] = {}
        self.embeddings = given_embeddings(self.vectors)
        self.engine = PGEngine.from_connection_string(url=ctx.sqlalchemy_url)
        self.engine.init_vectorstore_table(self.table, self.dim, overwrite_existing=True)
        self.stores: dict[int, Any] = {}
        self.main = self._store(None)

    def _store(self, ef: int | None) -> Any:
        if ef not in self.stores:
            from langchain_postgres import PGVectorStore
            from langchain_postgres.v2.indexes import HNSWQueryOptions

            options = HNSWQueryOptions(ef_search=ef) if ef else None
            self.stores[ef] = PGVectorStore.create_sync(self.engine, self.embeddings, self.table,
                                                        index_query_options=options)
        return self.stores[ef]

    def load(self, data: np.ndarray, bar: Any) -> None:
        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            chunk = all_texts[lo:hi]
            self.vectors.clear()
            self.vectors.update((t, data[i].tolist()) for t, i in zip(chunk, range(lo, hi)))
            self.main.add_texts(chunk, metadatas=[metadata_of(i) for i in range(lo, hi)],
                                ids=[uuid_of(i) for i in range(lo, hi)])
            bar.update(hi - lo)
        self.vectors.clear()

    def build(self) -> None:
        from langchain_postgres.v2.indexes import HNSWIndex

        self.main.apply_vector_index(HNSWIndex(m=M, ef_construction=EF_CONSTRUCTION))

    def settle(self) -> None:
        pg_settle(self.ctx.url, self.table)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        return [row_of(d.id) for d in self._store(param).similarity_search_by_vector(q.tolist(), k=k)]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, self.table)

    def close(self) -> None:
        self.engine.drop_table(self.table)
        self.engine._run_as_sync(self.engine.close())


class HaystackPG(Adapter):
    """pgvector-haystack's ``PgvectorDocumentStore``: ``write_documents`` of Documents with their
    embeddings into a store made without a vector index (its ``exact_nearest_neighbor``
    strategy; its keyword GIN index is made with the table, as always); ``build`` opens the store
    again with ``search_strategy="hnsw"``, which creates the index; searches are
    ``PgvectorEmbeddingRetriever.run``, ``hnsw_ef_search`` per store."""

    label = "pgvector-haystack"
    table = f"{TABLE}_hay"

    def __init__(self, ctx: Any, ds: Any) -> None:
        super().__init__(ctx, ds)
        from haystack.utils import Secret

        self.secret = Secret.from_token(ctx.url)
        self.loader = self._store("exact_nearest_neighbor", recreate_table=True)
        self.retrievers: dict[int, Any] = {}

    def _store(self, strategy: str, **kwargs: Any) -> Any:
        from haystack_integrations.document_stores.pgvector import PgvectorDocumentStore

        return PgvectorDocumentStore(connection_string=self.secret, table_name=self.table,
                                     embedding_dimension=self.dim, vector_function="cosine_similarity",
                                     search_strategy=strategy, hnsw_index_name=f"{self.table}_hnsw",
                                     keyword_index_name=f"{self.table}_keyword",
                                     hnsw_index_creation_kwargs={"m": M, "ef_construction": EF_CONSTRUCTION},
                                     **kwargs)

    def load(self, data: np.ndarray, bar: Any) -> None:
        from haystack import Document

        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            self.loader.write_documents([Document(id=str(i), content=all_texts[i], meta=metadata_of(i),
                                                  embedding=data[i].tolist()) for i in range(lo, hi)])
            bar.update(hi - lo)

    def build(self) -> None:
        self._store("hnsw")._ensure_db_setup()  # what its first call does: the table is there, the index is made

    def _retriever(self, ef: int) -> Any:
        if ef not in self.retrievers:
            from haystack_integrations.components.retrievers.pgvector import PgvectorEmbeddingRetriever

            self.retrievers[ef] = PgvectorEmbeddingRetriever(document_store=self._store("hnsw", hnsw_ef_search=ef),
                                                             top_k=10)
        return self.retrievers[ef]

    def settle(self) -> None:
        pg_settle(self.ctx.url, self.table)

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        docs = self._retriever(param).run(query_embedding=q.tolist(), top_k=k)["documents"]
        return [int(d.id) for d in docs]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, self.table)

    def close(self) -> None:
        self.loader.delete_table()


class LlamaIndexPG(Adapter):
    """llama-index-vector-stores-postgres' ``PGVectorStore`` (SQLAlchemy; psycopg2 as
    ``from_params`` would connect): ``add`` of TextNodes with their embeddings into a store made
    without ``hnsw_kwargs``; ``build`` opens it again with ``hnsw_kwargs``, which makes the index
    at initialisation (called here, as its first use would); ``query(VectorStoreQuery(...))``."""

    label = "llama-index PGVectorStore"
    table = f"{TABLE}_lipg"  # the store's table is data_<this>

    def __init__(self, ctx: Any, ds: Any) -> None:
        super().__init__(ctx, ds)
        self.loader = self._store(None)
        with psycopg.connect(ctx.url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS data_{self.table}")
        self.searchers: dict[int, Any] = {}

    def _store(self, hnsw: dict[str, Any] | None) -> Any:
        from llama_index.vector_stores.postgres import PGVectorStore

        url = self.ctx.sqlalchemy_url
        return PGVectorStore.from_params(connection_string=url.replace("+psycopg:", "+psycopg2:"),
                                         async_connection_string=url, table_name=self.table, embed_dim=self.dim,
                                         hnsw_kwargs=hnsw)

    def load(self, data: np.ndarray, bar: Any) -> None:
        from llama_index.core.schema import TextNode

        all_texts = texts(len(data))
        for lo, hi in batches(len(data), BATCH):
            self.loader.add([TextNode(id_=str(i), text=all_texts[i], metadata=metadata_of(i),
                                      embedding=data[i].tolist()) for i in range(lo, hi)])
            bar.update(hi - lo)

    def _hnsw(self, ef: int) -> dict[str, Any]:
        return {"hnsw_m": M, "hnsw_ef_construction": EF_CONSTRUCTION, "hnsw_ef_search": ef,
                "hnsw_dist_method": "vector_cosine_ops"}

    def build(self) -> None:
        self._store(self._hnsw(40))._initialize()

    def settle(self) -> None:
        pg_settle(self.ctx.url, f"data_{self.table}")

    def search(self, q: np.ndarray, k: int, param: int) -> list[int]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        if param not in self.searchers:
            self.searchers[param] = self._store(self._hnsw(param))
        result = self.searchers[param].query(VectorStoreQuery(query_embedding=q.tolist(), similarity_top_k=k))
        return [int(i) for i in result.ids]

    def sizes(self) -> dict[str, int | None]:
        return pg_sizes(self.ctx.url, f"data_{self.table}")

    def close(self) -> None:
        with psycopg.connect(self.ctx.url, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS data_{self.table}")
        for store in [self.loader, *self.searchers.values()]:
            asyncio.run(store.close())  # its close is a coroutine (the sync and async engines)


PEERS: dict[str, type[Adapter]] = {"langchain": LangchainPG, "haystack": HaystackPG, "llamaindex": LlamaIndexPG}
PACKAGES = ("langchain-postgres", "langchain-core", "pgvector-haystack", "haystack-ai",
            "llama-index-vector-stores-postgres", "llama-index-core", "pgvector", "psycopg", "psycopg2-binary",
            "asyncpg", "sqlalchemy", "numpy")

if __name__ == "__main__":
    logging.getLogger("haystack").setLevel(logging.ERROR)
    peer_runner.PEERS = PEERS
    peer_runner.PACKAGES = PACKAGES
    peer_runner.main()
