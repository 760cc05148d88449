"""LangChain's VectorStore on vecpg: LangChain's own standard suite (sync and async, nothing
overridden or skipped), then what the suite does not cover: scores, MMR, hybrid search, the
retriever, filters in LangChain's operator syntax, index use, tenants, and the docs' example."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import VectorStoreIntegrationTests

import vecpg
from vecpg.langchain import VecpgVectorStore


class TestStandardSuite(VectorStoreIntegrationTests):
    """langchain-tests' suite: a fresh, empty store on a fresh database for each test."""

    @pytest.fixture
    async def vectorstore(self, db_url: str) -> AsyncIterator[VecpgVectorStore]:
        store = VecpgVectorStore(self.get_embeddings(), url=db_url)
        yield store
        await store.aclose()
