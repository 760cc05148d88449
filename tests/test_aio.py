"""The async API: the same operations through psycopg's async connections, under concurrency,
with tenants interleaved and cancellations."""

from __future__ import annotations

import asyncio
import random

import psycopg
import pytest

import vecpg
from vecpg.rag import RAG

DOCS = [
    {"id": "tides", "content": "The Moon's gravity pulls the oceans, so tides rise and fall.", "metadata": {"n": 1}},
    {"id": "bread", "content": "Sourdough rises with wild yeast and bakes with steam.", "metadata": {"n": 2}},
    {"id": "lava", "content": "Volcanoes erupt when magma rises through the crust.", "metadata": {"n": 3}},
]


def test_every_run_time_operation_awaits(logins: dict[str, str], embedder: vecpg.Embedder) -> None:
    async def main() -> None:
        async with await vecpg.connect_async(logins["admin"], pool_size=2, embedder=embedder) as store:
            docs = await store.create_collection("docs")
            assert await docs.upsert(DOCS) == ["tides", "bread", "lava"]
            assert await docs.count() == 3 and await docs.count({"n": {"$gte": 2}}) == 2
            for mode in ("vector", "keyword", "hybrid"):
                hits = await docs.search("why do tides rise?", k=2, mode=mode)
                assert hits[0].id == "tides" and hits == docs.sync.search("why do tides rise?", k=2, mode=mode)
            batches = await docs.search_many(["tides", "volcano"], k=1)
            assert [b[0].id for b in batches] == ["tides", "lava"]
            assert [d.id for d in await docs.get(["lava", "tides"])] == ["lava", "tides"]
            assert [d.id for d in await docs.find({"n": {"$gte": 2}})] == ["bread", "lava"]
            assert await docs.delete(filter={"n": 2}) == 1
            assert await docs.load([{"id": f"d{i}", "content": f"document number {i}"} for i in range(600)]) == 600
            assert await docs.upsert([{"id": f"u{i}", "content": f"upserted {i}"} for i in range(501)])  # COPY path
            assert await docs.count() == 2 + 600 + 501
            service = vecpg.SearchService(docs, k=2, mmr=0.5, mode="vector")
            assert len(await service.search("rises")) == 2
            assert [h.id for h in (await service.search_many(["magma"]))[0]][:1] == ["lava"]
            with pytest.raises(vecpg.InvalidArgument):
                await docs.search("", k=1)
            with pytest.raises(vecpg.CollectionNotFound):
                await store.collection("nope")
            answer = await RAG(vecpg.SearchService(docs, k=2), lambda prompt: "Gravity [1].").aask("why tides?")
            assert answer.text == "Gravity [1]." and answer.cited[0].id == "tides"
            pieces = [p async for p in RAG(vecpg.SearchService(docs, k=1), lambda p: "Yes [1].").astream("tides?")]
            assert pieces[0] == "Yes [1]." and pieces[-1].cited[0].id == "tides"

    asyncio.run(main())


def test_hundreds_of_tasks_on_a_small_pool_keep_tenants_apart(logins: dict[str, str], store: vecpg.Store,
                                                              embedder: vecpg.Embedder) -> None:
    store.create_collection("shared", dimension=3)
    tenants = ["acme", "globex", "initech"]

    async def main() -> None:
        async with await vecpg.connect_async(logins["writer"], pool_size=3, embedder=embedder) as astore:
            coll = await astore.collection("shared")

            async def write(tenant: str, i: int) -> None:
                async with astore.tenant(tenant):
                    await coll.upsert([{"id": f"{tenant}-{i}", "content": tenant, "embedding": [1, i, 0]}])

            await asyncio.gather(*(write(t, i) for t in tenants for i in range(20)))

            async def read(tenant: str | None) -> None:
                await asyncio.sleep(random.random() / 100)
                hits = await coll.search([1, 5, 0], k=100, mode="vector", tenant=tenant)
                assert {h.content for h in hits} == ({tenant} if tenant else set())
                assert await coll.count(tenant=tenant) == (20 if tenant else 0)

            random.seed(7)
            await asyncio.gather(*(read(random.choice([*tenants, None])) for _ in range(300)))

    asyncio.run(main())


def test_a_cancelled_task_leaves_its_connection_usable(logins: dict[str, str], store: vecpg.Store, db_url: str) -> None:
    store.create_collection("slow", dimension=3).upsert([{"id": "a", "content": "a", "embedding": [1, 0, 0]}])

    async def main() -> None:
        async with await vecpg.connect_async(logins["admin"], pool_size=1) as astore:
            coll = await astore.collection("slow")
            with psycopg.connect(db_url) as locker:
                locker.execute("LOCK TABLE vecpg_data.slow IN ACCESS EXCLUSIVE MODE")
                task = asyncio.create_task(coll.search([1, 0, 0], k=1, mode="vector", tenant="acme"))
                await asyncio.sleep(0.5)  # waiting for the lock
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                locker.rollback()
            # The one pooled connection: no transaction, no tenant left over, and it answers.
            assert [h.id for h in await coll.search([1, 0, 0], k=1, mode="vector")] == ["a"]
            assert await coll.count(tenant="acme") == 0

    asyncio.run(main())


def test_the_async_page_example_runs(logins: dict[str, str], embedder: vecpg.Embedder,
                                     monkeypatch: pytest.MonkeyPatch, repo_root) -> None:
    import re

    real = vecpg.connect_async

    async def connect_async(url: str | None = None, **kwargs: object) -> vecpg.AsyncStore:
        return await real(url or logins["admin"], embedder=embedder, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vecpg, "connect_async", connect_async)
    page = (repo_root / "docs" / "async.md").read_text()
    block = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)  # type: ignore[union-attr]
    exec(compile(block, "docs/async.md", "exec"), {"__name__": "example"})  # noqa: S102 - the page, by design
