"""The Haystack DocumentStore and retrievers: Haystack's own test suites (sync and async, every
optional part included), then what Haystack users of other PostgreSQL stores ran into."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import numpy as np
import psycopg
import pytest
from conftest import TEMPLATE, with_database
from haystack import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.testing import document_store as suite
from haystack.testing import document_store_async as async_suite
from haystack.utils import Secret
from psycopg import sql

from vecpg.haystack import VecpgDocumentStore

_names = itertools.count()


@pytest.fixture(scope="module")
def suite_url(server_url: str, template_url: str) -> Iterator[str]:
    """One database for the suites; each test has a collection of its own in it."""
    name = f"vecpg_test_haystack_{next(_names)}"
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE)))
    yield with_database(server_url, name)
    with psycopg.connect(with_database(server_url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _fresh(url: str) -> VecpgDocumentStore:
    return VecpgDocumentStore(url=Secret.from_token(url), collection=f"haystack_{next(_names)}",
                              embedding_dimension=768, pool_size=2)


class _SameDocuments(suite.AssertDocumentsEqualMixin):
    """Haystack's hook for stores that differ: vecpg lists documents in id order, not in the order
    written, and keeps embeddings as float32 (Python's floats are float64)."""

    @staticmethod
    def assert_documents_are_equal(received: list[Document], expected: list[Document]) -> None:
        received, expected = sorted(received, key=lambda d: d.id), sorted(expected, key=lambda d: d.id)
        assert [d.id for d in received] == [d.id for d in expected]
        for got, want in zip(received, expected):
            assert (got.content, got.meta, got.score) == (want.content, want.meta, want.score)
            assert (got.embedding is None) == (want.embedding is None)
            if want.embedding is not None:
                np.testing.assert_array_equal(got.embedding, np.float32(want.embedding))


class TestDocumentStore(_SameDocuments, suite.DocumentStoreBaseExtendedTests, suite.CountDocumentsByFilterTest,
                        suite.CountUniqueMetadataByFilterTest, suite.GetMetadataFieldsInfoTest,
                        suite.GetMetadataFieldMinMaxTest, suite.GetMetadataFieldUniqueValuesTest):
    @pytest.fixture
    def document_store(self, suite_url: str) -> Iterator[VecpgDocumentStore]:
        store = _fresh(suite_url)
        yield store
        store.delete_all_documents(recreate_index=True)
        store.close()

    def test_write_documents(self, document_store: VecpgDocumentStore) -> None:
        """The suite leaves the default policy to each store: vecpg's (NONE) is FAIL."""
        doc = Document(content="test doc")
        assert document_store.write_documents([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            document_store.write_documents([doc, Document(content="another doc")])
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])


class TestDocumentStoreAsync(_SameDocuments, async_suite.CountDocumentsAsyncTest, async_suite.WriteDocumentsAsyncTest,
                             async_suite.DeleteDocumentsAsyncTest, async_suite.FilterDocumentsAsyncTest,
                             async_suite.DeleteAllAsyncTest, async_suite.DeleteByFilterAsyncTest,
                             async_suite.UpdateByFilterAsyncTest, async_suite.CountDocumentsByFilterAsyncTest,
                             async_suite.CountUniqueMetadataByFilterAsyncTest, async_suite.GetMetadataFieldsInfoAsyncTest,
                             async_suite.GetMetadataFieldMinMaxAsyncTest,
                             async_suite.GetMetadataFieldUniqueValuesAsyncTest):
    @pytest.fixture
    async def document_store(self, suite_url: str) -> AsyncIterator[VecpgDocumentStore]:
        store = _fresh(suite_url)
        yield store
        await store.delete_all_documents_async(recreate_index=True)
        await store.close_async()
        store.close()

    async def test_write_documents_async(self, document_store: VecpgDocumentStore) -> None:
        """The suite leaves the default policy to each store: vecpg's (NONE) is FAIL."""
        doc = Document(content="test doc")
        assert await document_store.write_documents_async([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            await document_store.write_documents_async([doc, Document(content="another doc")])
        self.assert_documents_are_equal(await document_store.filter_documents_async(), [doc])
