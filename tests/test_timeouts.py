"""Connect, statement and pool-wait timeouts: each fires with its own error, nothing is half
written, and the pooled connection goes on working."""

from __future__ import annotations

import socket
import threading
import time

import psycopg
import pytest

import vecpg
from vecpg.db.timeouts import Timeouts


def test_a_server_that_never_answers_is_a_connect_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(vecpg.VecpgError, match="timeout|timed out"):
            vecpg.connect(f"postgresql://nobody@127.0.0.1:{port}/db", connect_timeout=2)
        assert time.monotonic() - start < 30  # bounded (libpq counts whole seconds, per address tried)


def test_a_statement_timeout_rolls_back_and_the_connection_goes_on(logins: dict[str, str], store: vecpg.Store,
                                                                   db_url: str) -> None:
    store.create_collection("t", dimension=3).upsert([{"id": "a", "content": "a", "embedding": [1, 0, 0]}])
    with vecpg.connect(logins["admin"], statement_timeout=0.3, pool_size=1) as timed:
        coll = timed.collection("t")
        with psycopg.connect(db_url) as locker:
            locker.execute("LOCK TABLE vecpg_data.t IN ACCESS EXCLUSIVE MODE")
            with pytest.raises(vecpg.StatementTimeout):
                coll.search([1, 0, 0], k=1, mode="vector")
            with pytest.raises(vecpg.StatementTimeout):  # a write: nothing of it is kept
                coll.upsert([{"id": "b", "content": "b", "embedding": [0, 1, 0]}])
            locker.rollback()
        assert [h.id for h in coll.search([1, 0, 0], k=5, mode="vector")] == ["a"]  # same pooled connection
        assert coll.count() == 1


def test_the_pool_wait_has_a_bound(logins: dict[str, str]) -> None:
    with vecpg.connect(logins["admin"], pool_size=1, pool_timeout=0.3) as small:
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with small.connection():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(10)
        try:
            with pytest.raises(vecpg.PoolTimeout, match="pool_size"):
                small.list_collections()
        finally:
            release.set()
            holder.join()
        assert small.list_collections() == []


def test_timeouts_come_from_arguments_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECPG_STATEMENT_TIMEOUT", "2.5")
    monkeypatch.setenv("VECPG_POOL_TIMEOUT", "4")
    assert Timeouts.resolve() == Timeouts(connect=10.0, statement=2.5, pool=4.0)
    assert Timeouts.resolve(statement=1).statement == 1 and Timeouts.resolve().statement_ms() == 2500
    monkeypatch.setenv("VECPG_CONNECT_TIMEOUT", "soon")
    with pytest.raises(vecpg.InvalidArgument, match="VECPG_CONNECT_TIMEOUT"):
        Timeouts.resolve()
    with pytest.raises(vecpg.InvalidArgument, match="pool_timeout"):
        Timeouts(pool=0)
